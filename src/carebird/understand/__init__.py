"""Understand: what a message is (filled by later stages)."""
