"""A local X API v2 peer for tests: in-memory, spec-checked, with rate limits and faults.

See server.XPeer (start/stop, faults), state (the world), handlers (endpoints), render (JSON in
either spelling), search (the query language), auth (bearer, OAuth 2.0, OAuth 1.0a), spec (the
two OpenAPI specs as validators).
"""

from tests.support.x_peer.server import XPeer

__all__ = ["XPeer"]
