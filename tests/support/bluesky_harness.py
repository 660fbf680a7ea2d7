"""The Bluesky peer harness (tests/support/contract.py): a local peer and the brand's account.

`with BlueskyHarness() as h:` starts the peer on 127.0.0.1 with the support account
"ligneazur-sav.bsky.social" and customers "customer<N>.bsky.social" (created on first use).
Connectors it builds retry with a `Backoff` whose sleeps are only recorded (`h.sleeps`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from carebird.ingest.base import Connector
from carebird.ingest.bluesky import BlueskyConnector
from carebird.ingest.calls import AccountSpec, Backoff, CallMeter
from tests.support.bsky_peer import BlueskyPeer
from tests.support.bsky_peer.state import POST, Account, Post
from tests.support.shared import SHARED_DATA, shared_data

BRAND = "ligneazur-sav.bsky.social"
BRAND_PASSWORD = "ligne-azur-app-pass"
LEXICONS = SHARED_DATA / "bluesky-lexicons"


class BlueskyHarness:
    network = "bluesky"

    def __init__(
        self,
        *,
        strict: bool = True,
        listening: tuple[str, ...] = ("ligne azur",),
        lexicon_dir: Path = LEXICONS,
        access_ttl: float = 7200.0,
    ) -> None:
        if lexicon_dir == LEXICONS:  # the official lexicons: skip, saying why, where absent
            lexicon_dir = shared_data("bluesky-lexicons")
        self.peer = BlueskyPeer(lexicon_dir, strict=strict, access_ttl=access_ttl)
        self.listening = listening
        self.sleeps: list[float] = []
        self.saved: list[dict[str, str]] = []  # credentials handed to save_credentials
        self.brand_account = self.peer.state.add_account(
            BRAND, BRAND_PASSWORD, display_name="Ligne Azur SAV", followers=48_200, verified=True
        )
        self.brand = self._spec({"app_password": BRAND_PASSWORD})
        self._connectors: list[BlueskyConnector] = []

    def _spec(self, credentials: dict[str, str]) -> AccountSpec:
        return AccountSpec(
            network="bluesky",
            handle=BRAND,
            external_id=self.brand_account.did,
            credentials=credentials,
            options={"base_url": self.peer.url, "listening": list(self.listening)},
            save_credentials=self.saved.append,
        )

    def __enter__(self) -> BlueskyHarness:
        self.peer.start()
        self.brand = self._spec(dict(self.brand.credentials))
        return self

    def __exit__(self, *_: object) -> None:
        for connector in self._connectors:
            connector.close()
        self.peer.stop()

    # -- connectors -----------------------------------------------------------------------

    def backoff(self) -> Backoff:
        return Backoff(sleep=self.sleeps.append)

    def connector(self, stream: str, meter: CallMeter | None = None) -> BlueskyConnector:
        made = BlueskyConnector(self.brand, stream, meter=meter, backoff=self.backoff())
        self._connectors.append(made)
        return made

    def inbound_connectors(self, meter: CallMeter | None = None) -> list[Connector]:
        return [self.connector(s, meter) for s in BlueskyConnector.streams(self.brand)]

    def sender(self, meter: CallMeter | None = None) -> BlueskyConnector:
        return self.connector("notifications", meter)

    # -- the network's other users --------------------------------------------------------

    def customer(self, n: int) -> Account:
        handle = f"customer{n}.bsky.social"
        did = self.peer.state.by_handle.get(handle)
        if did is not None:
            return self.peer.state.accounts[did]
        return self.peer.state.add_account(
            handle, f"pass-{n}", display_name=f"Client {n}", followers=10 * n
        )

    def customer_id(self, customer: int) -> str:
        return self.customer(customer).did

    def post(self, author: Account, text: str, *, reply_to: str | None = None, **extra: Any) -> str:
        """A post written directly in the peer (a user's app), mentions faceted."""
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": self.peer.state.now()}
        facets = self._mention_facets(text)
        if facets:
            record["facets"] = facets
        if reply_to is not None:
            record["reply"] = self.reply_refs(reply_to)
        record.update(extra)
        uri, _ = self.peer.state.put_record(author.did, POST, record)
        return uri

    def reply_refs(self, uri: str) -> dict[str, Any]:
        parent = self.peer.state.posts[uri]
        root = parent.record.get("reply", {}).get("root") or {"uri": uri, "cid": parent.cid}
        return {"root": dict(root), "parent": {"uri": uri, "cid": parent.cid}}

    def _mention_facets(self, text: str) -> list[dict[str, Any]]:
        facets, data = [], text.encode()
        for handle, did in self.peer.state.by_handle.items():
            needle = f"@{handle}".encode()
            start = data.lower().find(needle)
            if start >= 0:
                feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
                index = {"byteStart": start, "byteEnd": start + len(needle)}
                facets.append({"index": index, "features": [feature]})
        return sorted(facets, key=lambda f: f["index"]["byteStart"])

    def post_mentions(self, n: int, *, customers: int = 50, text: str = "") -> list[str]:
        state, brand = self.peer.state, self.brand_account
        mention = f"@{brand.handle}"
        facet = {
            "index": {"byteStart": 0, "byteEnd": len(mention.encode())},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": brand.did}],
        }
        authors = [self.customer(i) for i in range(max(1, customers))]
        uris = []
        with state.lock:
            for i in range(n):
                body = text or f"commande {i} toujours pas livrée, que se passe-t-il ?"
                record = {
                    "$type": POST,
                    "text": f"{mention} {body}",
                    "createdAt": state.now(),
                    "facets": [facet],
                    "langs": ["fr"],
                }
                uri, _ = state.put_record(authors[i % len(authors)].did, POST, record)
                uris.append(uri)
        return uris

    def send_private(self, text: str, *, customer: int = 0) -> str:
        who = self.customer(customer)
        convo = self.peer.state.convo_for({who.did, self.brand_account.did})
        return self.peer.state.send_message(convo, who.did, text).id

    def post_as_brand(self, text: str, *, in_reply_to: str) -> str:
        return self.post(self.brand_account, text, reply_to=in_reply_to)

    def fail_next(self, status: int, times: int, *, retry_after: float = 0.0) -> None:
        self.peer.fail_next(status, times, retry_after=retry_after)

    # -- what is on the network -----------------------------------------------------------

    def _handle(self, did: str) -> str:
        return self.peer.state.accounts[did].handle

    def replies_to(self, external_id: str) -> list[dict[str, Any]]:
        state = self.peer.state
        found: list[Post] = [state.posts[u] for u in state.children.get(external_id, [])]
        return [
            {
                "id": p.uri,
                "text": p.record["text"],
                "author": self._handle(p.did),
                "root": p.record["reply"]["root"]["uri"],
                "parent_cid": p.record["reply"]["parent"]["cid"],
                "root_cid": p.record["reply"]["root"]["cid"],
                "facets": p.record.get("facets", []),
            }
            for p in found
        ]

    def private_messages(self, *, customer: int = 0) -> list[dict[str, Any]]:
        state = self.peer.state
        convo_id = state.convo_of.get(
            frozenset({self.customer_id(customer), self.brand_account.did})
        )
        if convo_id is None:
            return []
        return [
            {"id": m.id, "text": m.text, "author": self._handle(m.sender)}
            for m in state.convos[convo_id].messages
        ]

    def public_texts(self) -> list[str]:
        return [p.record.get("text", "") for p in self.peer.state.timeline]


def drain(
    connector: Connector, cursor: str | None = None, *, limit: int = 500
) -> tuple[list[Any], str | None]:
    """Fetch until the connector has no backlog: (every item, the final cursor)."""
    items: list[Any] = []
    while True:
        result = connector.fetch(cursor, limit=limit)
        items.extend(result.items)
        cursor = result.cursor
        if not result.more:
            return items, cursor
