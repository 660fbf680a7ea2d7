"""Mastodon through Mastodon.py: notifications, searches, statuses, replies."""
