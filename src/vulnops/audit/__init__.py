"""The append-only, hash-chained event log: audit trail, case timelines, response metrics."""
