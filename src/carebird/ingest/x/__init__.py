"""X (API v2) through xdk: reading, sending, authorising."""
