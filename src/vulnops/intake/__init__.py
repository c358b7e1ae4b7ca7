"""Intake: reports from researchers, partners, exercises and scanners; duplicates; the portal."""
