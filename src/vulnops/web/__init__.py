"""The web application: app factory, error rendering, security headers, health and docs."""
