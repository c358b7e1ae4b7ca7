"""Remediation: a case's fixes (a target version of a service) and their test evidence."""
