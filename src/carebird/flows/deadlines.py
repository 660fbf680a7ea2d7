"""Answer and resolution deadlines: warnings and breaches written as case events, told to
open inboxes, and sent to the case's team lead, in the desk (a live `sla.alert`) and by e-mail.

The e-mails are built in the transaction that writes the marks and sent after it commits
(`send_notices`): a mark is written once (carebird.cases.sla_watch), so each alert is e-mailed
at most once, even with two workers or a retried pass; an SMTP failure is logged, not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.auth.models import Agent, Team
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cases.sla import SlaSetup
from carebird.cases.sla_watch import Mark, mark_deadlines
from carebird.errors import InvalidInput
from carebird.flows.announce import announce_cases
from carebird.live.events import SlaAlert, publish
from carebird.mail import Mailer, MailError, address

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Notice:
    """One e-mail to a team lead about one mark."""

    case_id: int
    to: Address
    subject: str
    text: str


_WORDS = {
    "en": {
        "sla_warning": "SLA warning",
        "sla_breached": "SLA breached",
        "first_response": "first response",
        "next_response": "next response",
        "resolution": "resolution",
        "body": (
            'Case #{case} ({team}) {state} its {target} target under the policy "{policy}".\n'
            "Due: {due}.\n\nOpen it: {link}\n"
        ),
        "warning": "is close to",
        "breached": "missed",
    },
    "fr": {
        "sla_warning": "Alerte SLA",
        "sla_breached": "SLA dépassé",
        "first_response": "première réponse",
        "next_response": "réponse suivante",
        "resolution": "résolution",
        "body": (
            "Le dossier n° {case} ({team}) {state} son objectif de {target} "
            "(politique « {policy} »).\nÉchéance : {due}.\n\nL'ouvrir : {link}\n"
        ),
        "warning": "approche de",
        "breached": "a dépassé",
    },
}


def watch_deadlines(
    session: Session,
    sla: SlaSetup,
    *,
    now: datetime,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    case_ids: Sequence[int] | None = None,
) -> list[Mark]:
    """Write the marks due by `now` (of `case_ids`' cases: `due_cases` read them first), tell
    open pages (the cases' rows and one `sla.alert` per mark, naming the lead) and return them
    (`lead_notices` builds their e-mails)."""
    marks = mark_deadlines(session, sla, now=now, weights=weights, case_ids=case_ids)
    leads = _leads(session, marks)
    publish(
        session,
        *(
            SlaAlert(
                {
                    "case_id": m.case_id,
                    "state": m.kind,
                    "target": m.target,
                    "due_at": m.due_at.isoformat(),
                    "policy": m.policy,
                    "team_id": m.team_id,
                    "lead_id": leads.get(m.team_id) if m.team_id is not None else None,
                    "escalated": list(m.escalated),
                },
                m.case_id,
            )
            for m in marks
        ),
    )
    announce_cases(session, {m.case_id for m in marks})
    return marks


def _leads(session: Session, marks: Sequence[Mark]) -> dict[int, int]:
    teams = {m.team_id for m in marks if m.team_id is not None}
    if not teams:
        return {}
    rows = session.execute(select(Team.id, Team.lead_id).where(Team.id.in_(teams)))
    return {team_id: lead_id for team_id, lead_id in rows if lead_id is not None}


def lead_notices(
    session: Session, marks: Sequence[Mark], *, public_url: str, tz: ZoneInfo
) -> list[Notice]:
    """The e-mails to the leads of the marked cases' teams (active leads only)."""
    leads = _leads(session, marks)
    if not leads:
        return []
    agents = {
        a.id: a
        for a in session.scalars(
            select(Agent).where(Agent.id.in_(set(leads.values())), Agent.active.is_(True))
        )
    }
    teams = select(Team.id, Team.name).where(Team.id.in_(set(leads)))
    names = {team_id: name for team_id, name in session.execute(teams)}
    out = []
    for m in marks:
        lead = agents.get(leads.get(m.team_id, -1)) if m.team_id is not None else None
        if lead is None:
            continue
        try:
            to = address(lead.email, lead.name)
        except InvalidInput:
            continue
        w = _WORDS.get((lead.locale or "en")[:2], _WORDS["en"])
        state = w["breached"] if m.kind == "sla_breached" else w["warning"]
        subject = f"[carebird] {w[m.kind]}: #{m.case_id} ({w[m.target]})"
        text = w["body"].format(
            case=m.case_id,
            team=names.get(m.team_id or -1, ""),
            state=state,
            target=w[m.target],
            policy=m.policy,
            due=m.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z"),
            link=f"{public_url.rstrip('/')}/cases/{m.case_id}",
        )
        out.append(Notice(m.case_id, to, subject, text))
    return out


def send_notices(mailer: Mailer, notices: Sequence[Notice]) -> int:
    """Send the leads' e-mails (after the marks' transaction committed); how many went out."""
    sent = 0
    for n in notices:
        try:
            mailer.send(to=n.to, subject=n.subject, text=n.text)
            sent += 1
        except MailError as exc:
            log.warning("SLA alert for case %s not e-mailed: %s", n.case_id, exc)
    return sent
