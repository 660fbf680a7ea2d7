"""Database: engine, sessions, models base and migrations."""
