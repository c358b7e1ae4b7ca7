"""Deployment backends: each changes what a unit runs, one module per kind."""
