"""Operations you can see: runners, streams, spending and the outbox through /api/system, the
System page and /metrics; an admin's retry and cancel of a stuck reply, in the case log."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from carebird.auth.models import Agent
from carebird.cases.models import CaseEvent
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.flows.replies import send_pending
from carebird.ingest.calls import RateLimit
from carebird.ingest.health import record_failure, record_success
from carebird.ingest.models import ApiUsage, NetworkAccount
from carebird.ingest.usage import month_of
from carebird.live.runners import WorkerBeat
from carebird.reply.models import OutboxItem
from carebird.reply.outbox import queue_reply, queue_thread
from tests.factories import (
    TestClient,
    agent_with_token,
    bearer,
    case_of,
    customer,
    ingest,
    intake_for,
    item,
)
from tests.support.scripted import ScriptedNetwork

EVIL = "<script>alert('reason')</script>"


def _case(db: Database, n: int = 1) -> int:
    first = item(customer(n), "my order never arrived")
    ingest(db, [first])
    return case_of(db, first.external_id)


def _reply(db: Database, case_id: int, text: str, **state: Any) -> int:
    """A queued reply, then put in `state` (as the sender would have left it)."""
    with db.session() as s, s.begin():
        row = queue_reply(s, case_id=case_id, text=text)
        for name, value in state.items():
            setattr(row, name, value)
        return row.id


def _row(db: Database, outbox_id: int) -> OutboxItem:
    with db.session() as s:
        row = s.get(OutboxItem, outbox_id)
        assert row is not None
        s.expunge(row)
        return row


def _events(db: Database, case_id: int, kind: str) -> list[CaseEvent]:
    with db.session() as s:
        rows = s.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            .order_by(CaseEvent.id)
        ).all()
        s.expunge_all()
        return list(rows)


def _desk(db: Database) -> dict[str, Any]:
    """Runners in three states, two streams, a month's spending and an outbox in every state."""
    now = utcnow()
    case_id = _case(db)
    with db.session() as s, s.begin():
        s.add_all(
            [
                WorkerBeat(
                    name="web1:10:embedded",
                    kind="embedded",
                    host="web1",
                    pid=10,
                    started_at=now - timedelta(hours=2),
                    heartbeat_at=now - timedelta(seconds=5),
                    info={"task": "send_outbox"},
                ),
                WorkerBeat(
                    name="job1:20:worker",
                    kind="worker",
                    host="job1",
                    pid=20,
                    started_at=now - timedelta(hours=3),
                    heartbeat_at=now - timedelta(minutes=10),
                ),
                WorkerBeat(
                    name="job2:30:worker",
                    kind="worker",
                    host="job2",
                    pid=30,
                    started_at=now - timedelta(hours=4),
                    heartbeat_at=now - timedelta(seconds=2),
                    stopped_at=now - timedelta(seconds=1),
                ),
            ]
        )
        account = s.scalars(select(NetworkAccount)).one()
        account.monthly_cap = 50.0
        s.add(
            ApiUsage(
                account_id=account.id,
                month=month_of(now),
                op="post_read",
                calls=3,
                units=400,
                cost=2.0,
            )
        )
        s.add(
            ApiUsage(
                account_id=account.id, month=month_of(now), op="reply", calls=2, units=2, cost=0.03
            )
        )
        s.add(
            ApiUsage(
                account_id=account.id, month="2000-01", op="reply", calls=1, units=1, cost=99.0
            )
        )
        limits = {"mentions": RateLimit(limit=450, remaining=37, reset_at=None)}
        record_success(
            s,
            source="x:Brand_SAV:mentions",
            network="x",
            account_id=account.id,
            now=now - timedelta(seconds=30),
            items=4,
            newest_item_at=now,
            limits=limits,
        )
        for _ in range(3):
            record_failure(
                s,
                source="x:Brand_SAV:dms",
                network="x",
                account_id=account.id,
                now=now - timedelta(seconds=90),
                error="TransientNetworkError: 503",
            )
        account_id = account.id
    ids = {
        "pending": _reply(db, case_id, "first", created_at=now - timedelta(minutes=20)),
        "pending2": _reply(db, case_id, "second", created_at=now - timedelta(minutes=5)),
        "sent": _reply(db, case_id, "done", status="sent"),
        "failed": _reply(
            db,
            case_id,
            "refused",
            status="failed",
            attempts=8,
            last_error=EVIL,
            created_at=now - timedelta(hours=1),
        ),
        "unsure": _reply(
            db,
            case_id,
            "maybe",
            status="unsure",
            attempts=2,
            last_error="TransientNetworkError: timeout",
            created_at=now - timedelta(minutes=30),
        ),
    }
    return {"case_id": case_id, "account_id": account_id, "ids": ids}


def test_system_is_for_admins_only(client: TestClient, db: Database) -> None:
    _, agent = agent_with_token(db, "agent")
    _, supervisor = agent_with_token(db, "supervisor")
    _, admin = agent_with_token(db, "admin")
    assert client.get("/api/system").status_code == 401
    assert client.get("/api/system", headers=bearer("not-a-token")).status_code == 401
    assert client.get("/api/system", headers=bearer(agent)).status_code == 403
    assert client.get("/api/system", headers=bearer(supervisor)).status_code == 403
    answer = client.get("/api/system", headers=bearer(admin))
    assert answer.status_code == 200
    assert answer.json()["outbox"]["counts"]["pending"] == 0
    assert answer.json()["workers"] == [] and answer.json()["streams"] == []
    for action in ("retry", "cancel"):
        assert client.post(f"/api/system/outbox/1/{action}").status_code == 401
        refused = client.post(f"/api/system/outbox/1/{action}", headers=bearer(agent))
        assert refused.status_code == 403


def test_the_report_shows_runners_streams_spending_and_the_outbox(
    client: TestClient, db: Database
) -> None:
    desk = _desk(db)
    _, admin = agent_with_token(db, "admin")
    data = client.get("/api/system", headers=bearer(admin)).json()

    workers = {w["name"]: w for w in data["workers"]}
    assert workers["web1:10:embedded"]["state"] == "alive" and workers["web1:10:embedded"]["alive"]
    assert workers["web1:10:embedded"]["info"] == {"task": "send_outbox"}
    assert workers["job1:20:worker"]["state"] == "stale"
    assert workers["job1:20:worker"]["seconds_since_beat"] >= 600
    assert workers["job2:30:worker"]["state"] == "stopped"  # beat recently, but said goodbye
    assert data["workers_alive"] == {"embedded": 1, "worker": 0}

    streams = {s["source"]: s for s in data["streams"]}
    mentions, dms = streams["x:Brand_SAV:mentions"], streams["x:Brand_SAV:dms"]
    assert mentions["status"] == "ok" and mentions["rate_limit_remaining"] == 37
    assert 30 <= mentions["seconds_since_poll"] < 60 and mentions["consecutive_errors"] == 0
    assert mentions["account_handle"] == "Brand_SAV"
    assert mentions["cost_this_month"] == pytest.approx(2.03)  # not last year's 99
    assert mentions["monthly_cap"] == 50.0
    assert dms["status"] == "alarm" and dms["consecutive_errors"] == 3
    assert dms["last_error"] == "TransientNetworkError: 503" and dms["last_success_at"] is None
    assert data["accounts"] == [
        {
            "account_id": desk["account_id"],
            "network": "x",
            "handle": "Brand_SAV",
            "month": data["month"],
            "cost": 2.03,
            "monthly_cap": 50.0,
        }
    ]

    outbox = data["outbox"]
    assert outbox["counts"] == {
        "pending": 2,
        "sending": 0,
        "sent": 1,
        "failed": 1,
        "unsure": 1,
        "cancelled": 0,
    }
    assert 20 * 60 <= outbox["oldest_pending_age_seconds"] < 21 * 60
    stuck = outbox["needs_a_person"]
    assert [(r["id"], r["status"]) for r in stuck] == [
        (desk["ids"]["failed"], "failed"),  # the oldest first
        (desk["ids"]["unsure"], "unsure"),
    ]
    assert stuck[0]["last_error"] == EVIL and stuck[0]["case_id"] == desk["case_id"]
    assert stuck[0]["attempts"] == 8 and 3600 <= stuck[0]["age_seconds"] < 3660


def test_an_admin_retries_a_failed_reply_and_it_is_looked_for_before_posting(
    client: TestClient, db: Database
) -> None:
    case_id = _case(db)
    net = ScriptedNetwork()
    posted = _reply(db, case_id, "On it")
    assert send_pending(db, {"x": net}, intake=intake_for()) == 1  # the network has it…
    with db.session() as s, s.begin():  # …but the answer was lost: the sender gave up
        row = s.get(OutboxItem, posted)
        assert row is not None
        row.status, row.attempts, row.last_error = "failed", 8, "TransientNetworkError: timeout"
        row.external_id = row.sent_at = None
    admin, token = agent_with_token(db, "admin")

    answer = client.post(f"/api/system/outbox/{posted}/retry", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "pending" and answer.json()["attempts"] == 1
    row = _row(db, posted)
    assert row.status == "pending" and row.next_attempt_at is None
    (event,) = _events(db, case_id, "reply_retried")
    assert (event.old, event.new, event.actor_id) == ("failed", str(posted), admin.id)
    assert event.data["attempts"] == 8 and "timeout" in event.data["error"]
    again = client.post(f"/api/system/outbox/{posted}/retry", headers=bearer(token))
    assert again.status_code == 409  # pending now: nothing to retry

    # One attempt on record: the sender asks the network first and does not post it again.
    assert send_pending(db, {"x": net}, intake=intake_for()) == 1
    assert len(net.sent) == 1 and net.lookups == 1
    assert _row(db, posted).status == "sent"


def test_an_unsure_reply_is_retried_only_once_confirmed_not_posted(
    client: TestClient, db: Database
) -> None:
    case_id = _case(db)
    unsure = _reply(db, case_id, "Maybe out", status="unsure", attempts=2, last_error="timeout")
    admin, token = agent_with_token(db, "admin")
    url = f"/api/system/outbox/{unsure}/retry"
    for body in (None, {}, {"confirm_not_posted": False}):
        refused = client.post(url, headers=bearer(token), json=body)
        assert refused.status_code == 409 and "twice" in refused.json()["detail"]
    assert client.post(url, headers=bearer(token), json={"confirm": True}).status_code == 422
    assert _row(db, unsure).status == "unsure" and _events(db, case_id, "reply_retried") == []

    answer = client.post(url, headers=bearer(token), json={"confirm_not_posted": True})
    assert answer.status_code == 200 and answer.json()["status"] == "pending"
    assert _row(db, unsure).attempts == 0  # the admin says it is not out: sent as new
    (event,) = _events(db, case_id, "reply_retried")
    assert event.old == "unsure" and event.actor_id == admin.id
    assert event.data["confirmed_not_posted"] is True
    net = ScriptedNetwork()
    assert send_pending(db, {"x": net}, intake=intake_for()) == 1
    assert len(net.sent) == 1 and net.lookups == 0


def test_an_admin_cancels_a_reply_and_the_rest_of_its_thread(
    client: TestClient, db: Database
) -> None:
    case_id = _case(db)
    failed = _reply(db, case_id, "No", status="failed", attempts=8, last_error="refused")
    sent = _reply(db, case_id, "Yes", status="sent")
    with db.session() as s, s.begin():
        thread = [i.id for i in queue_thread(s, case_id=case_id, parts=["1/2 a", "2/2 b"])]
    admin, token = agent_with_token(db, "admin")

    answer = client.post(f"/api/system/outbox/{failed}/cancel", headers=bearer(token))
    assert answer.status_code == 200
    assert [(r["id"], r["status"]) for r in answer.json()] == [(failed, "cancelled")]
    assert (
        client.post(f"/api/system/outbox/{failed}/cancel", headers=bearer(token)).status_code == 409
    )
    assert (
        client.post(f"/api/system/outbox/{sent}/cancel", headers=bearer(token)).status_code == 409
    )
    assert client.post(f"/api/system/outbox/{sent}/retry", headers=bearer(token)).status_code == 409
    assert _row(db, sent).status == "sent"

    answer = client.post(f"/api/system/outbox/{thread[0]}/cancel", headers=bearer(token))
    assert [r["status"] for r in answer.json()] == ["cancelled", "cancelled"]
    events = _events(db, case_id, "reply_cancelled")
    assert [(e.old, e.new, e.actor_id) for e in events] == [
        ("failed", str(failed), admin.id),
        ("pending", str(thread[0]), admin.id),
        ("pending", str(thread[1]), admin.id),
    ]
    assert events[2].data == {"thread_of": thread[0]}
    assert send_pending(db, {"x": ScriptedNetwork()}, intake=intake_for()) == 0


@pytest.mark.parametrize("outbox_id", ["0", "-1", str(2**63), "99999999999999999999", "x"])
def test_reply_ids_out_of_range_are_refused_not_crashed(
    client: TestClient, db: Database, outbox_id: str
) -> None:
    _, token = agent_with_token(db, "admin")
    for action in ("retry", "cancel"):
        answer = client.post(f"/api/system/outbox/{outbox_id}/{action}", headers=bearer(token))
        assert answer.status_code == 422, answer.text
    missing = client.post(f"/api/system/outbox/{2**63 - 1}/retry", headers=bearer(token))
    assert missing.status_code == 404


# --- /metrics ---------------------------------------------------------------------------------
def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_need_a_token(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREBIRD_METRICS_TOKEN", "scrape-me-" + "s" * 20)
    _, agent = agent_with_token(db, "agent")
    answer = client.get("/metrics")
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert "carebird_" not in answer.text
    assert client.get("/metrics", headers=bearer("scrape-me")).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic eDp5"}).status_code == 401
    assert client.get("/metrics", headers=bearer(agent)).status_code == 403
    client.cookies.set("carebird_session", agent)
    assert client.get("/metrics").status_code == 401  # a bearer token, never a cookie


def test_metrics_without_the_environment_token_accept_an_admin_only(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAREBIRD_METRICS_TOKEN", raising=False)
    _, admin = agent_with_token(db, "admin")
    assert client.get("/metrics", headers=bearer("")).status_code == 401
    answer = client.get("/metrics", headers=bearer(admin))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert _samples(answer.text)[("carebird_outbox_replies", (("status", "pending"),))] == 0


def test_metrics_match_the_database(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "scrape-me-" + "s" * 20
    monkeypatch.setenv("CAREBIRD_METRICS_TOKEN", token)
    desk = _desk(db)
    answer = client.get("/metrics", headers=bearer(token))
    assert answer.status_code == 200
    got = _samples(answer.text)

    def value(name: str, **labels: str) -> float:
        return got[(name, tuple(sorted(labels.items())))]

    counts = {"pending": 2, "sending": 0, "sent": 1, "failed": 1, "unsure": 1, "cancelled": 0}
    for status, n in counts.items():
        assert value("carebird_outbox_replies", status=status) == n
    assert 1200 <= value("carebird_outbox_oldest_pending_age_seconds") < 1260
    assert value("carebird_workers_alive", kind="embedded") == 1
    assert value("carebird_workers_alive", kind="worker") == 0
    mentions = {"source": "x:Brand_SAV:mentions", "network": "x"}
    dms = {"source": "x:Brand_SAV:dms", "network": "x"}
    assert 30 <= value("carebird_stream_seconds_since_last_poll", **mentions) < 60
    assert 90 <= value("carebird_stream_seconds_since_last_poll", **dms) < 120
    assert value("carebird_stream_consecutive_errors", **mentions) == 0
    assert value("carebird_stream_consecutive_errors", **dms) == 3
    assert value("carebird_stream_rate_limit_remaining", **mentions) == 37
    assert ("carebird_stream_seconds_since_last_success", tuple(sorted(dms.items()))) not in got
    account = {"account": "Brand_SAV", "network": "x"}
    assert value("carebird_api_cost_dollars", **account) == pytest.approx(2.03)
    assert value("carebird_api_cap_dollars", **account) == 50.0

    # A fresh registry per scrape: a change shows at once, nothing accumulates.
    _, admin = agent_with_token(db, "admin")
    client.post(f"/api/system/outbox/{desk['ids']['failed']}/cancel", headers=bearer(admin))
    got = _samples(client.get("/metrics", headers=bearer(token)).text)
    assert value("carebird_outbox_replies", status="failed") == 0
    assert value("carebird_outbox_replies", status="cancelled") == 1


# --- the page ---------------------------------------------------------------------------------
def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_system_page_for_admins(client: TestClient, db: Database) -> None:
    desk = _desk(db)
    _, agent = agent_with_token(db, "agent")
    admin_agent, admin = agent_with_token(db, "admin")
    anonymous = client.get("/system", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/system"
    client.cookies.set("carebird_session", agent)
    assert client.get("/system").status_code == 403
    assert 'href="/system"' not in client.get("/").text  # no link for agents

    with db.session() as s, s.begin():
        s.get(Agent, admin_agent.id).locale = "en"  # type: ignore[union-attr]
    client.cookies.set("carebird_session", admin)
    page = client.get("/system")
    assert page.status_code == 200
    body = page.text
    assert 'href="/system" aria-current="page"' in body
    assert EVIL not in body and "&lt;script&gt;alert(&#39;reason&#39;)&lt;/script&gt;" in body
    for words in (
        "Background runners",
        "web1",
        "Not beating",
        "x:Brand_SAV:dms",
        "Alarm",
        "$2.03",
        "of a $50.00 cap",
        "Replies to decide on",
        "Unsure: maybe posted",
    ):
        assert words in body, words
    failed, unsure = desk["ids"]["failed"], desk["ids"]["unsure"]
    assert f'action="/system/outbox/{failed}/retry"' in body
    assert f'action="/system/outbox/{unsure}/cancel"' in body
    assert body.count('name="confirm_not_posted"') == 1  # only the unsure one asks
    assert 'href="/' + f'cases/{desk["case_id"]}"' in body

    # A form post without the CSRF token is refused; with it, the reply is queued again.
    url = f"/system/outbox/{failed}/retry"
    assert client.post(url, data={}).status_code == 403
    assert _row(db, failed).status == "failed"
    done = client.post(url, data={"csrf_token": _csrf(body)}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/system?done=retried&reply={failed}#outbox"
    assert _row(db, failed).status == "pending"
    after = client.get(done.headers["location"]).text
    assert f"Reply {failed} is queued again." in after
    assert f'action="/system/outbox/{failed}/retry"' not in after

    # The unsure one needs the box ticked; cancelling needs nothing more.
    url = f"/system/outbox/{unsure}/retry"
    refused = client.post(url, data={"csrf_token": _csrf(body)})
    assert refused.status_code == 409 and _row(db, unsure).status == "unsure"
    cancelled = client.post(
        f"/system/outbox/{unsure}/cancel", data={"csrf_token": _csrf(body)}, follow_redirects=False
    )
    assert cancelled.status_code == 303 and _row(db, unsure).status == "cancelled"
    assert (
        client.post("/system/outbox/0/cancel", data={"csrf_token": _csrf(body)}).status_code == 422
    )


def test_the_system_page_speaks_french(client: TestClient, db: Database) -> None:
    _desk(db)
    _, admin = agent_with_token(db, "admin")
    client.cookies.set("carebird_session", admin)
    body = client.get("/system").text  # an agent's pages are in French unless changed
    for words in (
        "Système",
        "Processus d’arrière-plan",
        "Sans signe de vie",
        "File d’envoi",
        "Réessayer",
        "Annuler la réponse",
        "2,03\u00a0$US",
        "Incertaine",
    ):
        assert words in body, words
