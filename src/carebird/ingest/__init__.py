"""Ingest: getting messages in, exactly once."""
