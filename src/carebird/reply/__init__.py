"""Reply: getting answers out, at most once."""
