"""Database access: engine and sessions, the declarative base, embedded PostgreSQL, migrations."""
