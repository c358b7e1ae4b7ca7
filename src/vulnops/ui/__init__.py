"""Server-rendered pages: the template environment, navigation, flash messages, static files.

Domain ``pages.py`` modules render through here, so that no domain imports the ``web`` package.
"""
