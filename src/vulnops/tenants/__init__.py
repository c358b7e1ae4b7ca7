"""Tenants: the customer organisations, their contacts and notification channels.

A package of its own, below auth (customers sign in bound to a tenant) and fleet (tenants own
resources on the fleet's deployment units).
"""
