"""Login throttling."""
