"""Outgoing email: queued in the transaction that causes it, sent by a worker over SMTP."""
