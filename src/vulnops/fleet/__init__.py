"""The fleet inventory: services and their SBOMs, regions and pairs, deployment units, the
tenants' resources on them; and a case's blast radius over all of it."""
