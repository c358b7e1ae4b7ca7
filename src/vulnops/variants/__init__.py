"""Root causes, variant hunts, weakness classes and the guards that keep a class closed."""
