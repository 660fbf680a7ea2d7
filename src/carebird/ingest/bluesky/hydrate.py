"""Batched look-ups that complete a listing: profiles (followers, verification) and post views.

getProfiles and getPosts take 25 actors / URIs per call; each call is metered by what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from atproto_client import Client

from carebird.ingest.bluesky.session import BlueskySession

BATCH = 25


def _profiles(actors: list[str]) -> Callable[[Client], Any]:
    return lambda c: c.app.bsky.actor.get_profiles(params={"actors": actors})


def _posts(uris: list[str]) -> Callable[[Client], Any]:
    return lambda c: c.app.bsky.feed.get_posts(params={"uris": uris})


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), BATCH):
        yield values[i : i + BATCH]


class Hydrator:
    def __init__(self, session: BlueskySession) -> None:
        self.session = session
        self.profiles: dict[str, Any] = {}  # did → profileViewDetailed, for one fetch

    def load_profiles(self, dids: Iterable[str]) -> dict[str, Any]:
        wanted = sorted({d for d in dids if d and d not in self.profiles})
        meter = self.session.meter
        for chunk in _chunks(wanted):
            meter.allow("user_read", len(chunk))
            out = self.session.call("getProfiles", _profiles(chunk))
            meter.record("user_read", len(out.profiles))
            for profile in out.profiles:
                self.profiles[profile.did] = profile
        return self.profiles

    def load_posts(self, uris: Iterable[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        meter = self.session.meter
        for chunk in _chunks(list(dict.fromkeys(uris))):
            meter.allow("post_read", len(chunk))
            out = self.session.call("getPosts", _posts(chunk))
            meter.record("post_read", len(out.posts))
            found.update((post.uri, post) for post in out.posts)
        return found
