"""The inbox's queries at scale, on both engines: the planner walks the indexes of migration
0020 in the page's order (no sort of every match), and keyset pages stay exact through ties
on priority and through cases arriving between two pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from benchmarks.inbox_plans import cases_scan, plan_of, sorts
from benchmarks.inbox_seed import Desk, seed
from carebird.cases.inbox import ACTIVE_STATUSES, InboxFilters, inbox
from carebird.cases.models import Case
from carebird.cases.queries import list_cases
from carebird.cases.sla import waiting_on_us
from carebird.db.database import Database


def test_the_inbox_shapes_walk_their_index_without_sorting(db: Database) -> None:
    # A few hundred active cases per agent, team, account.
    desk = seed(db, cases=10_000, agents=2, search_index=False)
    shapes: dict[str, tuple[Callable[[Session], object], str]] = {
        "inbox": (lambda s: inbox(s), "ix_cases_priority_id"),
        "assignee": (
            lambda s: inbox(s, filters=InboxFilters(assignee_id=desk.agent_ids[0])),
            "ix_cases_assignee_priority",
        ),
        "team": (
            lambda s: inbox(s, filters=InboxFilters(team_id=desk.team_ids[0])),
            "ix_cases_team_priority",
        ),
        "account": (
            lambda s: inbox(s, filters=InboxFilters(account_id=desk.account_ids[0])),
            "ix_cases_account_priority",
        ),
        "one status": (
            lambda s: list_cases(s, status=["new"], sort="priority"),
            "ix_cases_status_priority",
        ),
        "two statuses": (
            lambda s: list_cases(s, status=["new", "open"], sort="priority"),
            "ix_cases_priority_id",
        ),
    }
    for name, (call, index) in shapes.items():
        plan = plan_of(db, call)
        assert index in cases_scan(plan), (name, plan)
        assert not sorts(plan), (name, plan)


def _walk(page: Callable[[str | None], Any]) -> list[int]:
    ids: list[int] = []
    cursor: str | None = None
    for _ in range(2_000):  # pages that never end (a cursor going back) fail, never hang
        found = page(cursor)
        ids += [r.id for r in found.items]
        if found.next is None:
            return ids
        cursor = found.next
    raise AssertionError(f"still paging after 2,000 pages: {len(set(ids))} distinct rows")


def _expected(db: Database, statuses: tuple[str, ...]) -> list[int]:
    with db.session() as s:
        order = (Case.priority.desc(), Case.id.desc())
        return list(s.scalars(select(Case.id).where(Case.status.in_(statuses)).order_by(*order)))


def test_keyset_pages_are_exact_through_ties_and_arrivals(db: Database) -> None:
    desk: Desk = seed(db, cases=2_000, search_index=False)
    want = _expected(db, ACTIVE_STATUSES)
    with db.session() as s:
        priorities = set(s.scalars(select(Case.priority).where(Case.id.in_(want))))
    assert len(priorities) < len(want)  # ties on priority: the id decides

    with db.session() as s:
        got = _walk(lambda c: inbox(s, limit=23, cursor=c, count_cap=None))
        assert got == want
        two = ("new", "open")
        got = _walk(lambda c: list_cases(s, status=list(two), sort="priority", limit=17, cursor=c))
        assert got == _expected(db, two)

        first = inbox(s, limit=50)
        assert first.total == len(want) and not first.total_capped
        # The page's own waiting time says what carebird.cases.sla.waiting_on_us says.
        since, answered = waiting_on_us(s, [r.id for r in first.items])
        assert {r.id: r.waiting_since for r in first.items if r.waiting_since} == since
        assert {r.id for r in first.items if r.answered_before} == answered
        assert answered and len(since) > len(set(since) & answered) > 0  # both kinds here
        capped = inbox(s, limit=5, count_cap=100)
        assert (capped.total, capped.total_capped) == (100, True)
        listed = list_cases(s, status=list(ACTIVE_STATUSES), limit=5, count_cap=100)
        assert (listed.total, listed.total_capped) == (100, True)

    # A case arriving between two pages, above the cursor and tied with its last row, moves
    # nothing already paged past: the next page starts right after the last row shown.
    last = first.items[-1]
    with db.engine.begin() as conn:
        row = conn.execute(select(Case.__table__).where(Case.id == last.id)).mappings().one()
        conn.execute(insert(Case), [{**row, "id": 10**6, "opening_message_id": None}])
        conn.execute(insert(Case), [{**row, "id": 10**6 + 1, "priority": 99.0,
                                     "opening_message_id": None}])  # fmt: skip
    with db.session() as s:
        second = inbox(s, limit=50, cursor=first.next)
    assert [r.id for r in second.items] == want[50:100]
    assert desk.active == len(want)


def test_time_keyset_pages_do_not_depend_on_the_servers_time_zone(
    db: Database, engine_name: str
) -> None:
    """Cursors by activity or creation time hold on a PostgreSQL session in another time zone
    (Debian's initdb takes the system's): the bound is compared as the UTC column it is."""
    seed(db, cases=600, search_index=False)
    url = db.engine.url
    if engine_name == "postgresql":
        url = url.update_query_dict({"options": "-c timezone=Pacific/Kiritimati"})
    shifted = Database(url.render_as_string(hide_password=False))
    try:
        for sort, col in (("activity", Case.last_activity_at), ("created", Case.created_at)):
            with shifted.session() as s:
                want = list(s.scalars(select(Case.id).order_by(col.desc(), Case.id.desc())))
                got = _walk(lambda c, o=sort: list_cases(s, sort=o, limit=37, cursor=c))
            assert got == want, sort
    finally:
        shifted.dispose()
