"""The `carebird` command: one module per command group."""
