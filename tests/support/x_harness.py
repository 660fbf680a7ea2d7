"""The X peer harness for the connector contract suite (tests/support/contract.py).

`with XHarness() as h:` starts a local X API v2 peer with the brand's support account
"LigneAzur_SAV" (OAuth 2.0 user tokens by default; `credentials="oauth1"` or "bearer" for the
other kinds) and one listening query. Connectors it hands out retry without really sleeping:
their waits are recorded in `h.sleeps`. Leaving the block raises if the peer sent any response
that one of the two X specs refuses.
"""

from __future__ import annotations

import dataclasses
from types import TracebackType
from typing import Any

from carebird.ingest.base import Connector
from carebird.ingest.calls import AccountSpec, Backoff, CallMeter
from carebird.ingest.x.connector import XConnector
from tests.support.x_peer import XPeer
from tests.support.x_peer.state import User

BRAND = "LigneAzur_SAV"
LISTENING = ['"Ligne Azur" -from:LigneAzur_SAV -is:retweet']
CLIENT_ID = "carebird-test-client"


class XHarness:
    network = "x"

    def __init__(
        self,
        *,
        spelling: str = "tweet",
        credentials: str = "oauth2",
        validate: bool = True,
        listening: list[str] | None = None,
        **peer_options: Any,
    ) -> None:
        self.peer = XPeer(spelling=spelling, validate=validate, **peer_options)
        self.credentials_kind = credentials
        self.listening = list(LISTENING if listening is None else listening)
        self.sleeps: list[float] = []
        self.saved_credentials: list[dict[str, str]] = []
        state = self.peer.state
        self.brand_user = state.add_user(BRAND, "Ligne Azur SAV", followers=48_200, verified=True)
        self._customers: list[User] = []
        self.brand: AccountSpec

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> XHarness:
        self.peer.start()
        self.brand = AccountSpec(
            network="x",
            handle=BRAND,
            external_id=self.brand_user.id,  # as the desk stores it once resolved
            credentials=self._credentials(),
            options={
                "base_url": self.peer.base_url,
                "listening": self.listening,
                "field_spelling": self.peer.spelling,
                "timeout": 10.0,
            },
            save_credentials=self._save,
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.peer.stop()
        if exc_type is None:
            self.peer.assert_valid()

    def _credentials(self) -> dict[str, str]:
        tokens, brand = self.peer.tokens, self.brand_user.id
        if self.credentials_kind == "oauth2":
            tokens.clients[CLIENT_ID] = None  # a public PKCE client
            token = tokens.issue_oauth2(brand, CLIENT_ID)
            expires_at = tokens.clock() + float(str(token["expires_in"]))
            return {
                "access_token": str(token["access_token"]),
                "refresh_token": str(token["refresh_token"]),
                "expires_at": f"{expires_at:.0f}",
                "client_id": CLIENT_ID,
            }
        if self.credentials_kind == "oauth1":
            return tokens.issue_oauth1(brand, "test-consumer-key", "test-consumer-secret")
        if self.credentials_kind == "bearer":
            tokens.app_bearer["test-app-bearer"] = "carebird"
            return {"bearer_token": "test-app-bearer"}
        raise ValueError(f"unknown credential kind {self.credentials_kind!r}")

    def _save(self, creds: dict[str, str]) -> None:
        self.saved_credentials.append(dict(creds))
        self.brand = dataclasses.replace(self.brand, credentials=dict(creds))

    def backoff(self) -> Backoff:
        return Backoff(sleep=self.sleeps.append)

    # -- the contract -----------------------------------------------------------------------

    def inbound_connectors(self, meter: CallMeter | None = None) -> list[Connector]:
        return [
            XConnector(self.brand, stream, meter=meter, backoff=self.backoff())
            for stream in XConnector.streams(self.brand)
        ]

    def connector(self, stream: str = "mentions", meter: CallMeter | None = None) -> XConnector:
        return XConnector(self.brand, stream, meter=meter, backoff=self.backoff())

    def sender(self, meter: CallMeter | None = None) -> XConnector:
        return self.connector("mentions", meter)

    def customer(self, customer: int) -> User:
        while len(self._customers) <= customer:
            k = len(self._customers)
            self._customers.append(
                self.peer.state.add_user(
                    f"client{k:03d}", f"Client {k}", followers=10 * k, verified=k % 10 == 9
                )
            )
        return self._customers[customer]

    def customer_id(self, customer: int) -> str:
        return self.customer(customer).id

    def post_mentions(self, n: int, *, customers: int = 50, text: str = "") -> list[str]:
        ids = []
        for i in range(n):
            body = text or f"Mon train {i} est encore en retard, que se passe-t-il ?"
            if f"@{BRAND}".lower() not in body.lower():
                body = f"@{BRAND} {body}"
            author = self.customer(i % max(customers, 1))
            ids.append(self.peer.state.add_post(author.id, body).id)
        return ids

    def send_private(self, text: str, *, customer: int = 0) -> str:
        return self.peer.state.add_dm(self.customer_id(customer), self.brand_user.id, text).id

    def post_as_brand(self, text: str, *, in_reply_to: str) -> str:
        return self.peer.state.add_post(self.brand_user.id, text, in_reply_to=in_reply_to).id

    def fail_next(self, status: int, times: int, *, retry_after: float = 0.0) -> None:
        self.peer.fail_next(status, times, retry_after=retry_after)

    def replies_to(self, external_id: str) -> list[dict[str, Any]]:
        state = self.peer.state
        return [
            {
                "id": post.id,
                "text": post.written,
                "author": state.users[post.author_id].username,
                "root": post.conversation_id,
            }
            for post in state.posts.values()
            if ("replied_to", external_id) in post.refs
        ]

    def private_messages(self, *, customer: int = 0) -> list[dict[str, Any]]:
        state, other = self.peer.state, self.customer_id(customer)
        pair = {self.brand_user.id, other}
        return [
            {"id": e.id, "text": e.written, "author": state.users[e.sender_id].username}
            for e in sorted(state.dms.values(), key=lambda e: int(e.id))
            if {e.sender_id, e.recipient_id} == pair
        ]

    def public_texts(self) -> list[str]:
        return [p.written for p in self.peer.state.posts.values()]
