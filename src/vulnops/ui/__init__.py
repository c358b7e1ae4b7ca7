"""Server-rendered pages: the template environment, flash messages, Markdown, static files.

Domain ``pages.py`` modules render through here, so that no domain imports the ``web`` package;
the navigation each page shows comes from the app (``app.state.navigation``, set by ``web``).
"""
