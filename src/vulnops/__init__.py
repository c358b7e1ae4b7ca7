"""vulnops: security response for cloud services."""

__version__ = "0.1.0"
