"""Health sources: what units served, for the gates; one module per kind."""
