"""Bluesky through the atproto SDK: notifications, listening searches, own posts and chat in;
replies (threaded, with facets) and private messages out. See connector.py."""

from carebird.ingest.bluesky.connector import BlueskyConnector
from carebird.ingest.bluesky.graphemes import grapheme_count

__all__ = ["BlueskyConnector", "grapheme_count"]
