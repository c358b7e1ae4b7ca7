"""The fleet inventory: services, regions, deployment units, tenants and their resources."""
