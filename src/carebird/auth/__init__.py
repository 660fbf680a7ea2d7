"""Authentication: password hashing, sessions and API tokens."""
