"""The bug bounty: programmes, award tables, award decisions, the payout ledger."""
