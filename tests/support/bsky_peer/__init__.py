"""A local Bluesky for tests: XRPC methods of the PDS, the AppView and the chat service,
answering from memory and checking every request and response against the lexicons."""

from tests.support.bsky_peer.server import BlueskyPeer
from tests.support.bsky_peer.state import PeerState, XrpcError

__all__ = ["BlueskyPeer", "PeerState", "XrpcError"]
