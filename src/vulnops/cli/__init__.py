"""The ``vulnops`` command: one module per command group."""
