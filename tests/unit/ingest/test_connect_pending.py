"""An authorisation under way, as the Accounts page keeps it (sealed in a cookie): only its own
state opens it, only for its network, only for ten minutes, and never after tampering."""

from __future__ import annotations

import dataclasses
import time

import pytest

from carebird.crypto import seal
from carebird.errors import InvalidInput
from carebird.ingest.connect import Pending, open_pending, refused, seal_pending, start_x
from carebird.ingest.x.auth import pkce_challenge

KEY = "k" * 40


def started() -> tuple[str, Pending]:
    return start_x(
        client_id="app", redirect_uri="https://desk.example/cb", authorize_base="https://x.test/i"
    )


def test_the_pending_authorisation_opens_with_its_state_only() -> None:
    url, pending = started()
    assert url.startswith("https://x.test/i/oauth2/authorize?")
    assert f"code_challenge={pkce_challenge(pending.verifier)}" in url
    assert f"state={pending.state}" in url and pending.verifier not in url
    sealed = seal_pending(KEY, pending)
    assert pending.verifier not in sealed and pending.state not in sealed
    assert open_pending(KEY, sealed, network="x", state=pending.state) == pending
    for network, state, said in [
        ("x", "forged", "state does not match"),
        ("x", "", "state does not match"),
        ("mastodon", pending.state, "no mastodon authorisation"),
    ]:
        with pytest.raises(InvalidInput, match=said):
            open_pending(KEY, sealed, network=network, state=state)
    with pytest.raises(InvalidInput, match="no authorisation is under way"):
        open_pending(KEY, None, network="x", state=pending.state)
    with pytest.raises(InvalidInput, match="unreadable"):
        open_pending(KEY, sealed[:-4] + "AAAA", network="x", state=pending.state)
    with pytest.raises(InvalidInput, match="unreadable"):
        open_pending("another key" * 4, sealed, network="x", state=pending.state)
    # Credentials sealed with the same key are no authorisation under way.
    other = seal(KEY, {"state": pending.state, "network": "x"})
    with pytest.raises(InvalidInput, match="no x authorisation"):
        open_pending(KEY, other, network="x", state=pending.state)


def test_a_late_or_refused_authorisation_is_told() -> None:
    _, pending = started()
    late = dataclasses.replace(pending, expires_at=time.time() - 1)
    with pytest.raises(InvalidInput, match="too long"):
        open_pending(KEY, seal_pending(KEY, late), network="x", state=pending.state)
    with pytest.raises(InvalidInput, match="did not authorise"):
        refused("x", "access_denied")
    refused("x", "")  # no error: nothing to say
    with pytest.raises(InvalidInput, match="CAREBIRD_X_CLIENT_ID"):
        start_x(client_id=None, redirect_uri="https://desk.example/cb", authorize_base="")
