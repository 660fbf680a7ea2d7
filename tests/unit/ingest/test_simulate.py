"""The simulated network: determinism, cursors, content mix, rhythm, replies, live mode."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from carebird.ingest.base import (
    Connector,
    Direction,
    InboundItem,
    MessageKind,
    OutboundReply,
)
from carebird.ingest.sim.network import DEFAULT_START, SimulatedNetwork

SAMPLE = 5_000


def drain(net: SimulatedNetwork, count: int, cursor: str | None = None) -> list[InboundItem]:
    items: list[InboundItem] = []
    while len(items) < count:
        result = net.fetch(cursor, limit=min(500, count - len(items)))
        items.extend(result.items)
        cursor = result.cursor
    return items


@pytest.fixture(scope="module")
def sample() -> list[InboundItem]:
    return drain(SimulatedNetwork(seed=1), SAMPLE)


def reply_to(
    item: InboundItem,
    key: str,
    text: str = "Désolés, on regarde.",
    *,
    private: bool = False,
    recipient_id: str | None = None,
) -> OutboundReply:
    return OutboundReply(
        "sim",
        text,
        "LigneAzur_SAV",
        key,
        in_reply_to_id=item.external_id,
        recipient_id=recipient_id,
        private=private,
    )


# -- determinism and cursors -----------------------------------------------------------------


def test_is_a_connector() -> None:
    net = SimulatedNetwork(seed=3)
    assert isinstance(net, Connector)
    assert net.network == "sim"
    assert net.source == "sim:3"


def test_same_seed_same_items_and_different_seed_different() -> None:
    first = drain(SimulatedNetwork(seed=5), 600)
    again = drain(SimulatedNetwork(seed=5), 600)
    other = drain(SimulatedNetwork(seed=6), 600)
    assert first == again
    assert [i.text for i in first] != [i.text for i in other]
    assert [i.created_at for i in first] != [i.created_at for i in other]


def test_fetch_is_idempotent_for_a_cursor() -> None:
    net = SimulatedNetwork(seed=2)
    cursor = net.fetch(None, limit=300).cursor
    one, two = net.fetch(cursor, limit=200), net.fetch(cursor, limit=200)
    assert one.items == two.items
    assert one.cursor == two.cursor
    assert one.more and one.items


def test_resuming_from_a_cursor_equals_continuing() -> None:
    whole = SimulatedNetwork(seed=4).fetch(None, limit=1_500).items
    net = SimulatedNetwork(seed=4)
    cursor = None
    for _ in range(3):
        cursor = net.fetch(cursor, limit=400).cursor
    # A fresh process (a restart) resumes from the saved cursor without replaying.
    resumed = SimulatedNetwork(seed=4).fetch(cursor, limit=300).items
    assert resumed == whole[1_200:1_500]


def test_far_cursor_and_cursor_format() -> None:
    net = SimulatedNetwork(seed=9)
    result = net.fetch("20000:0", limit=5)
    assert result.cursor == "20005:0"
    assert [i.external_id for i in result.items] == [f"sim9-{n}" for n in range(20_000, 20_005)]
    for bad in ("x", "1:2:3", "-1:0", "5"):
        with pytest.raises(ValueError):
            net.fetch(bad)
    with pytest.raises(ValueError):
        net.fetch(None, limit=0)


def test_limit_total_ends_the_stream() -> None:
    net = SimulatedNetwork(seed=1, limit_total=120)
    first = net.fetch(None, limit=100)
    assert first.more
    rest = net.fetch(first.cursor, limit=100)
    assert len(rest.items) == 20 and not rest.more
    assert net.fetch(rest.cursor).items == []


# -- content ---------------------------------------------------------------------------------


def test_items_are_well_formed(sample: list[InboundItem]) -> None:
    assert len({i.external_id for i in sample}) == len(sample)
    times = [i.created_at for i in sample]
    assert times == sorted(times)
    assert times[0] >= DEFAULT_START
    for item in sample:
        assert item.created_at.tzinfo is not None and item.created_at.utcoffset() == timedelta(0)
        assert item.network == "sim" and item.direction is Direction.IN
        assert item.language == item.raw["sim"]["lang"] in ("fr", "en")
        assert item.conversation_id
        assert "{" not in item.text and "}" not in item.text, item.text
        assert item.author.external_id.startswith("sim-user-")


def test_languages_categories_and_kinds(sample: list[InboundItem]) -> None:
    langs = Counter(i.language for i in sample)
    assert 0.5 < langs["fr"] / SAMPLE < 0.7
    categories = Counter(i.raw["sim"]["category"] for i in sample)
    expected = {"complaint", "request", "question", "suggestion", "praise", "noise", "followup"}
    assert set(categories) == expected
    assert categories["complaint"] > categories["praise"] > categories["suggestion"] > 50
    noise = Counter(i.raw["sim"]["topic"] for i in sample if i.raw["sim"]["category"] == "noise")
    assert set(noise) == {"chatter", "retweet", "spam", "joke"}
    kinds = Counter(i.kind for i in sample)
    # The desk's own posts, acknowledgements and surveys are ours, never customers' traffic.
    ours = {MessageKind.OWN_POST, MessageKind.ACKNOWLEDGEMENT, MessageKind.SURVEY}
    assert set(kinds) == set(MessageKind) - ours
    assert kinds[MessageKind.MENTION] > SAMPLE / 2
    assert all(kinds[k] > 50 for k in kinds)


def test_kinds_are_addressed_consistently(sample: list[InboundItem]) -> None:
    for item in sample:
        if item.kind is MessageKind.MENTION:
            assert f"@{item.account_handle}" in item.text
            assert item.account_handle in ("LigneAzur_SAV", "LigneAzur")
        elif item.kind is MessageKind.KEYWORD:
            assert "Ligne Azur" in item.text and "@LigneAzur" not in item.text
            assert item.account_handle == "LigneAzur_SAV"
        elif item.kind is MessageKind.DIRECT:
            assert item.account_handle == "LigneAzur_SAV" and not item.metrics
        elif item.kind is MessageKind.QUOTE:
            assert item.account_handle == "LigneAzur" and item.raw["sim"]["quoted"]
    retweets = [i for i in sample if i.raw["sim"].get("topic") == "retweet"]
    assert retweets and all(i.text.startswith("RT @LigneAzur: ") for i in retweets)
    spam = [i for i in sample if i.raw["sim"].get("topic") == "spam"]
    assert spam and all("https://" in i.text for i in spam)


def test_follow_ups_thread_on_the_customers_earlier_message(sample: list[InboundItem]) -> None:
    by_id = {i.external_id: i for i in sample}
    followups = [i for i in sample if i.in_reply_to_id]
    assert len(followups) > 100
    for item in followups:
        assert item.raw["sim"]["category"] == "followup"
        parent = by_id[item.in_reply_to_id]  # type: ignore[index]
        assert parent.author == item.author and parent.created_at < item.created_at
        assert item.conversation_id == parent.conversation_id
        assert by_id[item.conversation_id].in_reply_to_id is None  # type: ignore[index]
        assert item.kind is (MessageKind.DIRECT if parent.is_private else MessageKind.REPLY)
    texts = {i.text.removeprefix("@LigneAzur_SAV ").removeprefix("@LigneAzur ") for i in followups}
    assert {"Toujours rien ?", "Still nothing?"} <= texts


def test_personal_data_appears_and_is_recorded(sample: list[InboundItem]) -> None:
    with_pii = [i for i in sample if "pii" in i.raw["sim"]]
    assert len(with_pii) > 100
    phones = [i for i in with_pii if "phone" in i.raw["sim"]["pii"]]
    assert phones and all(re.search(r"06 39 98 \d\d \d\d|07700 900\d{3}", i.text) for i in phones)
    emails = [i for i in with_pii if "email" in i.raw["sim"]["pii"]]
    assert emails and all(re.search(r"[\w.]+@[\w.-]+\.\w+", i.text) for i in emails)


def test_authors_repeat_and_some_are_influential(sample: list[InboundItem]) -> None:
    authors = {i.author.external_id: i.author for i in sample}
    assert len(authors) > 1_000
    per_author = Counter(i.author.external_id for i in sample)
    assert per_author.most_common(1)[0][1] >= 5
    big = [a for a in authors.values() if a.followers >= 10_000]
    assert big and any(a.verified for a in big)
    assert all(a.followers <= 500_000 for a in authors.values())
    assert len({a.handle for a in authors.values()}) == len(authors)
    assert all(re.fullmatch(r"[a-z0-9_]+", a.handle) for a in authors.values())


# -- rhythm and incidents --------------------------------------------------------------------


def test_hourly_and_weekly_rhythm() -> None:
    net = SimulatedNetwork(seed=11)
    week_end = DEFAULT_START + timedelta(days=7)
    items: list[InboundItem] = []
    cursor = None
    while not items or items[-1].created_at < week_end:
        result = net.fetch(cursor, limit=500)
        items += result.items
        cursor = result.cursor
    week = [i for i in items if i.created_at < week_end and not i.raw["sim"]["incident"]]
    by_hour = Counter(i.created_at.hour for i in week)
    assert by_hour[11] > 5 * by_hour[3]
    assert by_hour[19] > 3 * by_hour[4]
    by_day = Counter(i.created_at.weekday() for i in week)
    assert by_day[1] > by_day[6]
    assert 0.6 * 60 * 7 * 24 * 0.3 < len(week) < 60 * 7 * 24


def test_incidents_produce_bursts(sample: list[InboundItem]) -> None:
    reports: dict[str, list[InboundItem]] = defaultdict(list)
    for item in sample:
        if item.raw["sim"]["incident"] and item.raw["sim"]["category"] != "followup":
            reports[item.raw["sim"]["incident"]].append(item)
    assert reports
    for incident, items in reports.items():
        span = items[-1].created_at - items[0].created_at
        assert span <= timedelta(minutes=95), incident
        assert len({i.author.external_id for i in items}) >= 0.8 * len(items)
        assert len({i.raw["sim"]["topic"] for i in items}) == 1
    biggest = max(reports.values(), key=len)
    assert len(biggest) >= 10
    start = biggest[0].created_at
    window = [i for i in sample if start <= i.created_at <= start + timedelta(minutes=30)]
    quiet = [i for i in window if not i.raw["sim"]["incident"]]
    assert len(window) > len(quiet) + 5


# -- sending ---------------------------------------------------------------------------------


def test_accounts_and_brand_author() -> None:
    net = SimulatedNetwork(seed=1)
    assert net.accounts() == [("LigneAzur_SAV", "support"), ("LigneAzur", "brand")]
    author = net.brand_author("@ligneazur_sav")
    assert author.handle == "LigneAzur_SAV" and author.external_id == "sim-brand-LigneAzur_SAV"
    assert author.verified
    with pytest.raises(ValueError):
        net.brand_author("someone_else")
    custom = SimulatedNetwork(support_handle="Acme_Help", brand_handle="Acme", brand_name="Acme")
    assert custom.accounts() == [("Acme_Help", "support"), ("Acme", "brand")]


def test_send_is_idempotent_and_echo_comes_back_as_ours() -> None:
    net = SimulatedNetwork(seed=3)
    first = net.fetch(None, limit=50)
    target = next(i for i in first.items if i.kind is MessageKind.MENTION)
    reply = reply_to(target, "key-1")
    receipt = net.send(reply)
    assert net.send(reply) == receipt
    assert receipt.created_at >= first.items[-1].created_at
    assert receipt.created_at.tzinfo is not None
    items = drain(net, 200, first.cursor)
    echoes = [i for i in items if i.direction is Direction.OUT]
    assert len(echoes) == 1
    echo = echoes[0]
    assert echo.external_id == receipt.external_id and echo.created_at == receipt.created_at
    assert echo.author == net.brand_author("LigneAzur_SAV")
    assert echo.kind is MessageKind.REPLY and echo.account_handle == "LigneAzur_SAV"
    assert echo.in_reply_to_id == target.external_id
    assert echo.conversation_id == target.conversation_id
    assert echo.text == reply.text
    assert items[0] == echo  # it was sent after everything already delivered


def test_customers_answer_replies_in_thread() -> None:
    net = SimulatedNetwork(seed=8)
    first = net.fetch(None, limit=60)
    targets = [i for i in first.items if i.raw["sim"]["category"] in ("complaint", "request")]
    receipts = {net.send(reply_to(t, f"k{n}")).external_id: t for n, t in enumerate(targets)}
    items = drain(net, 800, first.cursor)
    answers = [i for i in items if i.in_reply_to_id in receipts and i.direction is Direction.IN]
    assert len(answers) >= len(targets) / 3
    for answer in answers:
        asked = receipts[answer.in_reply_to_id]  # type: ignore[index]
        assert answer.author == asked.author and answer.language == asked.language
        assert answer.conversation_id == asked.conversation_id
        assert answer.raw["sim"]["category"] in ("thanks", "escalation", "detail")
        assert answer.raw["sim"]["reactive"] is True
        assert timedelta(minutes=1) < answer.created_at - first.items[-1].created_at
        if answer.kind is MessageKind.REPLY:
            assert answer.text.startswith("@LigneAzur_SAV ")
    ids = [i.external_id for i in items]
    assert len(set(ids)) == len(ids)
    assert [i.created_at for i in items] == sorted(i.created_at for i in items)


def test_answers_are_deterministic() -> None:
    def run() -> list[InboundItem]:
        net = SimulatedNetwork(seed=12)
        first = net.fetch(None, limit=30)
        for n, item in enumerate(first.items[:10]):
            net.send(reply_to(item, f"k{n}"))
        return drain(net, 400, first.cursor)

    assert run() == run()


def test_private_reply_gets_a_private_echo_and_answer() -> None:
    net = SimulatedNetwork(seed=21)
    first = net.fetch(None, limit=40)
    targets = [i for i in first.items if i.raw["sim"]["category"] == "complaint"][:8]
    sent = {}
    for n, item in enumerate(targets):
        reply = reply_to(item, f"dm{n}", private=True, recipient_id=item.author.external_id)
        sent[net.send(reply).external_id] = item
    items = drain(net, 500, first.cursor)
    echoes = [i for i in items if i.external_id in sent]
    assert len(echoes) == len(targets)
    assert all(e.kind is MessageKind.DIRECT and e.direction is Direction.OUT for e in echoes)
    answers = [i for i in items if i.in_reply_to_id in sent]
    assert answers and all(a.kind is MessageKind.DIRECT and a.is_private for a in answers)
    # A private message the desk starts, with no message to answer.
    customer = targets[0].author.external_id
    lone = OutboundReply(
        "sim", "Hello", "LigneAzur_SAV", "lone", private=True, recipient_id=customer
    )
    receipt = net.send(lone)
    echo = next(i for i in drain(net, 1_000, first.cursor) if i.external_id == receipt.external_id)
    assert echo.kind is MessageKind.DIRECT and echo.conversation_id == f"simdm21-{customer}"


def test_send_rejects_what_it_cannot_post() -> None:
    net = SimulatedNetwork(seed=1)
    item = net.fetch(None, limit=1).items[0]
    with pytest.raises(ValueError):
        net.send(OutboundReply("sim", "x", "SomeoneElse", "a", in_reply_to_id=item.external_id))
    with pytest.raises(ValueError):
        net.send(OutboundReply("x", "x", "LigneAzur_SAV", "b", in_reply_to_id=item.external_id))
    with pytest.raises(ValueError):
        net.send(OutboundReply("sim", "x", "LigneAzur_SAV", "c", private=True))


def test_cursor_survives_a_restart_with_replies() -> None:
    net = SimulatedNetwork(seed=14)
    first = net.fetch(None, limit=40)
    net.send(reply_to(first.items[0], "r1"))
    second = net.fetch(first.cursor, limit=100)
    assert any(i.direction is Direction.OUT for i in second.items)
    _, last = second.cursor.split(":")  # type: ignore[union-attr]
    assert int(last) > 0
    restarted = SimulatedNetwork(seed=14)  # a new process: pending reactive events are gone
    again = restarted.fetch(second.cursor, limit=10).items
    primary = [
        i for i in net.fetch(second.cursor, limit=30).items if i.external_id.startswith("sim14-")
    ]
    assert again == primary[:10]
    receipt = restarted.send(reply_to(second.items[-1], "r2"))
    assert receipt.created_at > second.items[-1].created_at
    echoed = restarted.fetch(second.cursor, limit=20).items  # after what it had delivered
    assert echoed[:10] == again and echoed[10].external_id == receipt.external_id


# -- live mode -------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_live_mode_only_returns_events_up_to_simulated_now() -> None:
    start = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
    wall = FakeClock(start)
    net = SimulatedNetwork(seed=2, start=start, speed=60.0, clock=wall)
    empty = net.fetch(None)
    assert empty.items == [] and not empty.more
    wall.now += timedelta(seconds=30)  # 30 simulated minutes
    half = net.fetch(empty.cursor)
    assert half.items and not half.more
    assert all(start <= i.created_at <= start + timedelta(minutes=30) for i in half.items)
    wall.now += timedelta(seconds=30)
    rest = net.fetch(half.cursor, limit=5)
    assert rest.more and all(i.created_at <= start + timedelta(hours=1) for i in rest.items)
    virtual = SimulatedNetwork(seed=2, start=start).fetch(None, limit=len(half.items) + 5)
    assert list(virtual.items) == [*half.items, *rest.items]
    receipt = net.send(reply_to(half.items[0], "live"))
    assert receipt.created_at == start + timedelta(hours=1)


def test_live_mode_starting_in_the_past_has_a_backlog() -> None:
    wall = FakeClock(datetime(2026, 2, 3, 11, 0, tzinfo=UTC))
    net = SimulatedNetwork(seed=2, speed=60.0, clock=wall)
    assert net.start == wall.now - timedelta(minutes=15)
    items = net.fetch(None).items
    assert items and all(net.start <= i.created_at <= wall.now for i in items)
    two_hours = SimulatedNetwork(seed=2, start=wall.now - timedelta(hours=2), speed=30, clock=wall)
    backlog = two_hours.fetch(None, limit=1_000)
    assert len(backlog.items) > 50 and not backlog.more
    assert backlog.items[-1].created_at <= wall.now
    wall.now += timedelta(seconds=20)  # ten simulated minutes later
    later = two_hours.fetch(backlog.cursor).items
    assert later and all(i.created_at <= wall.now + timedelta(minutes=9, seconds=40) for i in later)


@pytest.mark.parametrize(
    "factory", [lambda: SimulatedNetwork(rate_per_hour=0), lambda: SimulatedNetwork(speed=0)]
)
def test_bad_parameters(factory: Callable[[], SimulatedNetwork]) -> None:
    with pytest.raises(ValueError):
        factory()
