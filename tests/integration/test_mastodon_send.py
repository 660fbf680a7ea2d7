"""The Mastodon connector posting answers on mastodon-mock: threads, privacy, at most once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from mastodon import Mastodon

from carebird.errors import InvalidInput
from carebird.ingest.base import OutboundReply
from carebird.ingest.calls import CountingMeter
from carebird.ingest.mastodon.connector import MastodonConnector
from tests.support.mastodon_harness import BRAND, MastodonHarness


@pytest.fixture
def peer() -> Iterator[MastodonHarness]:
    with MastodonHarness() as harness:
        yield harness


def reply(text: str, key: str, **over: Any) -> OutboundReply:
    return OutboundReply(
        network="mastodon", text=text, account_handle=BRAND, idempotency_key=key, **over
    )


def as_customer(peer: MastodonHarness, n: int) -> Mastodon:
    peer.customer_id(n)
    return Mastodon(access_token=f"client-{n}-token", api_base_url=peer.base_url)


def test_public_reply_lands_in_the_thread_with_the_mention(peer: MastodonHarness) -> None:
    [asked] = peer.post_mentions(1, customers=1)
    meter = CountingMeter()
    sent = peer.sender(meter).send(
        reply("Nous regardons votre dossier.", "k1", in_reply_to_id=asked)
    )
    [posted] = peer.replies_to(asked)
    assert posted["id"] == sent.external_id
    assert posted["text"] == "@client0 Nous regardons votre dossier."
    assert posted["author"] == BRAND and posted["root"] == asked
    assert posted["visibility"] == "public"
    assert sent.created_at.utcoffset() is not None
    assert meter.units["reply"] == 1


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [("public", "public"), ("unlisted", "unlisted"), ("private", "private"), ("direct", "direct")],
)
def test_a_reply_is_never_more_public_than_the_post(
    peer: MastodonHarness, theirs: str, ours: str
) -> None:
    asked = peer.customer_posts(f"@{BRAND} question", customer=2, visibility=theirs)
    sent = peer.sender().send(reply("Réponse", f"v-{theirs}", in_reply_to_id=asked))
    assert peer.status(sent.external_id)["visibility"] == ours
    assert peer.status(sent.external_id)["text"].startswith("@client2 ")


def test_private_reply_stays_private(peer: MastodonHarness) -> None:
    dm = peer.send_private("mon IBAN est FR76 3000 6000 0112 3456 7890 189", customer=1)
    secret = "Votre remboursement de 84,50 € part sur le compte se terminant par 189."
    customer = peer.customer_id(1)
    meter = CountingMeter()
    private = reply(secret, "p1", in_reply_to_id=dm, recipient_id=customer, private=True)
    sent = peer.sender(meter).send(private)
    assert meter.units["dm_send"] == 1
    mine = peer.private_messages(customer=1)
    assert [m["id"] for m in mine] == [dm, sent.external_id]
    assert mine[1]["text"] == f"@client1 {secret}" and mine[1]["visibility"] == "direct"
    assert not any(secret in text for text in peer.public_texts())
    # Nobody else sees it: not on the public timeline, not in another customer's home.
    bystander = as_customer(peer, 7)
    seen = [s["id"] for s in bystander.timeline_public(limit=40)]
    seen += [s["id"] for s in bystander.timeline_home(limit=40)]
    assert str(sent.external_id) not in {str(i) for i in seen}
    # The customer is told, through their notifications.
    notes = as_customer(peer, 1).notifications(types=["mention"])
    assert [str(n["status"]["id"]) for n in notes] == [sent.external_id]


def test_a_private_reply_mentioning_someone_else_is_refused(peer: MastodonHarness) -> None:
    dm = peer.send_private("mon dossier ?", customer=1)
    leaky = reply("Voyez avec @client2 pour le dossier", "p3", in_reply_to_id=dm, private=True)
    with pytest.raises(InvalidInput):
        peer.sender().send(leaky)
    assert [m["id"] for m in peer.private_messages(customer=1)] == [dm]
    assert peer.private_messages(customer=2) == []


def test_a_private_reply_to_a_public_post_is_not_threaded_under_it(peer: MastodonHarness) -> None:
    [asked] = peer.post_mentions(1, customers=1)
    private = reply("Écrivez-nous en privé.", "p2", in_reply_to_id=asked, private=True)
    sent = peer.sender().send(private)  # no recipient_id: the author of the post answered
    assert peer.replies_to(asked) == []  # no public trace, not even a reply count
    [dm] = peer.private_messages(customer=0)
    assert dm["id"] == sent.external_id and dm["visibility"] == "direct"
    assert dm["text"] == "@client0 Écrivez-nous en privé."


def test_the_peer_honours_idempotency_keys(peer: MastodonHarness) -> None:
    [asked] = peer.post_mentions(1, customers=1)
    sender = peer.sender()
    first = sender.send(reply("Une seule fois", "same-key", in_reply_to_id=asked))
    again = sender.send(reply("Une seule fois", "same-key", in_reply_to_id=asked))
    assert again.external_id == first.external_id
    assert len(peer.replies_to(asked)) == 1
    other = sender.send(reply("Une seule fois", "other-key", in_reply_to_id=asked))
    assert other.external_id != first.external_id  # a new key is a new post


def test_a_lost_response_is_retried_without_a_double_post(peer: MastodonHarness) -> None:
    [asked] = peer.post_mentions(1, customers=1)
    peer.lose_next_response("POST", "/api/v1/statuses")  # posted, then the client sees a 502
    peer.sleeps.clear()
    sent = peer.sender().send(reply("Pardon pour l'attente", "lost-1", in_reply_to_id=asked))
    assert len(peer.sleeps) == 1  # one retry, with the same Idempotency-Key
    assert [r["id"] for r in peer.replies_to(asked)] == [sent.external_id]


def test_find_sent_finds_our_post_in_that_thread_only(peer: MastodonHarness) -> None:
    [asked, elsewhere] = peer.post_mentions(2, customers=2)
    sender = peer.sender()
    answer = reply("Le train 6231 repart à 18h.", "f1", in_reply_to_id=asked)
    assert sender.find_sent(answer) is None
    sent = sender.send(answer)
    found = sender.find_sent(answer)
    assert found is not None and found.external_id == sent.external_id
    assert sender.find_sent(replace(answer, in_reply_to_id=elsewhere)) is None
    assert sender.find_sent(replace(answer, text="Autre chose")) is None
    dm = peer.send_private("et mon dossier ?", customer=3)
    private = reply(
        "Dossier reçu.", "f2", in_reply_to_id=dm, recipient_id=peer.customer_id(3), private=True
    )
    assert sender.find_sent(private) is None
    sent_dm = sender.send(private)
    found_dm = sender.find_sent(private)
    assert found_dm is not None and found_dm.external_id == sent_dm.external_id
    assert sender.find_sent(replace(private, recipient_id=peer.customer_id(4))) is None


def test_text_limit_and_length_rules(peer: MastodonHarness) -> None:
    sender = peer.sender()
    assert sender.text_limit() == 500  # the instance's configuration.statuses.max_characters
    assert replace_limit(peer, 280).text_limit() == 280  # options.char_limit caps it
    url = "https://example.com/" + "x" * 300
    assert sender.count_length(f"voir {url}") == 5 + 23
    assert sender.count_length("@client1@remote.example merci") == len("@client1 merci")
    [asked] = peer.post_mentions(1, customers=1)
    with pytest.raises(InvalidInput):
        sender.send(reply("x" * 495, "too-long", in_reply_to_id=asked))  # + "@client0 "
    assert peer.replies_to(asked) == []


def replace_limit(peer: MastodonHarness, limit: int) -> MastodonConnector:
    options = {**peer.brand.options, "char_limit": limit}
    return MastodonConnector(replace(peer.brand, options=options), "mentions")
