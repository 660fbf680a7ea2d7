"""New templates proposed from what agents keep typing by hand.

The team's answers of the last week that came from no template (their case had no template
inserted) are grouped by their words (TF-IDF cosine ≥ `SIMILAR` to a group's first answer,
@handles, links and signatures aside); a group of at least `MIN_COUNT` answers that no active
template already says is a proposal: "you answered this 12 times by hand this week", with the
answers themselves, the one to keep as the template's body and its likely language.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebird.db.base import utcnow
from carebird.ingest.models import Message
from carebird.reply.suggest import clean, tfidf
from carebird.reply.suggesting import without_mentions
from carebird.reply.suggestions import NOT_ANSWERS, SuggestionUse
from carebird.reply.templates import ReplyTemplate
from carebird.understand.language import detect

WINDOW = timedelta(days=7)
MIN_COUNT = 3
SIMILAR = 0.6
LIMIT = 5000
CHUNK = 256
_VARIABLE = re.compile(r"\{[a-z_]+\}")


@dataclass(frozen=True)
class Member:
    message_id: int
    case_id: int
    text: str
    at: datetime


@dataclass
class Proposal:
    key: str  # stable while the group lasts: its first answer's message id
    count: int
    body: str  # the group's most typical answer, ready to become a template
    language: str
    name: str
    members: list[Member] = field(default_factory=list)


def propose_templates(
    session: Session, *, now: datetime | None = None, min_count: int = MIN_COUNT
) -> list[Proposal]:
    """The groups of similar hand-typed answers of the last week, largest first."""
    since = (now or utcnow()) - WINDOW
    templated = select(SuggestionUse.case_id).where(SuggestionUse.kind == "template")
    rows = list(
        session.execute(
            select(Message.id, Message.case_id, Message.text, Message.created_at)
            .where(
                Message.direction == "out",
                Message.kind.not_in(NOT_ANSWERS),
                Message.case_id.is_not(None),
                Message.created_at >= since,
                Message.case_id.not_in(templated),
            )
            .order_by(Message.id)
            .limit(LIMIT)
        )
    )
    members = [Member(r.id, r.case_id, r.text, r.created_at) for r in rows if clean(r.text)]
    groups = _group([m.text for m in members])
    said = _templates(session)
    proposals = []
    for group in groups:
        if len(group) < min_count:
            continue
        texts = [members[i].text for i in group]
        body = _typical(texts)
        if said and _already_said(said, body):
            continue
        language = Counter(detect(clean(t)) for t in texts).most_common(1)[0][0]
        proposals.append(
            Proposal(
                key=str(members[group[0]].message_id),
                count=len(group),
                body=body,
                language=language if language in ("fr", "en") else "en",
                name=" ".join(body.split()[:6])[:120],
                members=[members[i] for i in group],
            )
        )
    proposals.sort(key=lambda p: -p.count)
    return proposals


def _group(texts: list[str]) -> list[list[int]]:
    """Greedy groups: each answer joins the first group whose first answer it resembles."""
    m = tfidf(texts)
    seeds: list[int] = []
    groups: list[list[int]] = []
    for start in range(0, len(texts), CHUNK):
        sims = (m[start : start + CHUNK] @ m.T).toarray()
        for offset, row in enumerate(sims):
            for g, seed in enumerate(seeds):
                if row[seed] >= SIMILAR:
                    groups[g].append(start + offset)
                    break
            else:
                seeds.append(start + offset)
                groups.append([start + offset])
    return groups


def _typical(texts: list[str]) -> str:
    """The answer most often typed (without its mentions and signature); else the first."""
    bodies = [without_mentions(t) for t in texts]
    return Counter(bodies).most_common(1)[0][0]


def _templates(session: Session) -> list[str]:
    query = select(ReplyTemplate.body).where(ReplyTemplate.active.is_(True))
    return [_VARIABLE.sub(" ", body) for body in session.scalars(query)]


def _already_said(said: list[str], body: str) -> bool:
    """An active template says nearly the same (TF-IDF cosine ≥ `SIMILAR`)."""
    m = tfidf([body, *said])
    sims = (m[1:] @ m[0].T).toarray().ravel()
    return bool(sims.size and sims.max() >= SIMILAR)
