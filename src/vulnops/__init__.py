"""vulnops: security response for cloud services."""

__version__ = "0.1.0"
# The environment variable naming a TOML settings file (read by vulnops.settings; here so that
# the command line can name it without importing the settings).
CONFIG_FILE_ENV = "VULNOPS_CONFIG_FILE"
