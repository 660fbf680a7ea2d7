"""Answer deadlines: warnings and breaches written as case events and told to open inboxes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from carebird.cases.sla import SlaSetup
from carebird.cases.sla_watch import Mark, mark_deadlines
from carebird.flows.announce import announce_cases


def watch_deadlines(session: Session, sla: SlaSetup, *, now: datetime) -> list[Mark]:
    marks = mark_deadlines(session, sla, now=now)
    announce_cases(session, {m.case_id for m in marks})
    return marks
