"""Auto-assignment: a case that reaches a team unassigned is handed to one of its members.

The team's `assignment` mode decides who: `round_robin` (the next available member after the
team's cursor, `Team.last_assigned_id`, by agent id) or `least_loaded` (the member with the
fewest active cases assigned, ties by id); `manual` hands out nothing. Only active members
whose status is `available` and who hold fewer than `max_open_per_agent` active cases (None: no
cap) are candidates; with none, the case stays with the team, unassigned, and is handed out
when a member becomes available or closes a case (`fill_team`).

Several processes may assign at once: the team row is locked first (on PostgreSQL `SELECT …
FOR NO KEY UPDATE` of the teams up to this one in id order, so two transactions never wait on
each other and a case's foreign key to the team does not wait; SQLite serialises writers, taken
by a no-op update), and the loads are read after the lock, so two assignments never exceed the
cap nor give the same round-robin turn twice.

Every change is an `assigned` case event (actor: the system, `data.auto` the mode or the
reason); the flows announce the cases (carebird.flows.teams, casework).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from carebird.auth.models import Agent, Team
from carebird.cases.log import event_row, write_events
from carebird.cases.models import Case
from carebird.cases.sla import waiting_on_us
from carebird.cases.states import ACTIVE
from carebird.db.base import utcnow

MODES = ("manual", "round_robin", "least_loaded")
STATUSES = ("available", "away", "offline")
OPEN_STATUSES = [str(s) for s in ACTIVE]


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_team(session: Session, team_id: int) -> Team | None:
    """Lock the team's row until the transaction ends; the team as committed now."""
    if _postgres(session):  # NO KEY UPDATE: a case's foreign key to the team does not wait
        session.execute(
            select(Team.id)
            .where(Team.id <= team_id)
            .order_by(Team.id)
            .with_for_update(key_share=True)
        )
    else:  # a write takes SQLite's one writer lock before the loads are read
        session.execute(update(Team).where(Team.id == team_id).values(assignment=Team.assignment))
    return session.get(Team, team_id, populate_existing=True)


def loads(session: Session, agent_ids: Iterable[int]) -> dict[int, int]:
    """Active cases assigned to each agent (0 for none)."""
    ids = list(agent_ids)
    out = dict.fromkeys(ids, 0)
    if ids:
        rows = session.execute(
            select(Case.assignee_id, func.count())
            .where(Case.assignee_id.in_(ids), Case.status.in_(OPEN_STATUSES))
            .group_by(Case.assignee_id)
        ).tuples()
        out.update({agent_id: n for agent_id, n in rows if agent_id is not None})
    return out


def candidates(session: Session, team: Team) -> dict[int, int]:
    """The members who may take a case now, with their loads."""
    members = session.scalars(
        select(Agent.id).where(
            Agent.team_id == team.id, Agent.active.is_(True), Agent.status == "available"
        )
    )
    cap = team.max_open_per_agent
    return {a: n for a, n in loads(session, members).items() if cap is None or n < cap}


def pick(session: Session, team: Team) -> int | None:
    """The member the team's mode gives the next case to (the team locked), or None."""
    if team.assignment not in ("round_robin", "least_loaded"):
        return None
    free = candidates(session, team)
    if not free:
        return None
    if team.assignment == "least_loaded":
        return min(free, key=lambda a: (free[a], a))
    order = sorted(free)
    cursor = team.last_assigned_id or 0
    return next((a for a in order if a > cursor), order[0])


def _give(session: Session, case: Case, team: Team, agent_id: int, data: dict[str, Any]) -> None:
    case.assignee_id = agent_id
    team.last_assigned_id = agent_id
    write_events(
        session,
        [event_row(case.id, "assigned", old=None, new=str(agent_id), at=utcnow(), data=data)],
    )
    session.flush()


def auto_assign(session: Session, case: Case) -> int | None:
    """Give the case (locked by the caller) to a member of its team, when it sits with the
    team unassigned, is active and the team assigns automatically; the agent's id."""
    if case.team_id is None or case.assignee_id is not None or case.status not in OPEN_STATUSES:
        return None
    team = session.get(Team, case.team_id)
    if team is None or team.assignment == "manual":
        return None
    team = lock_team(session, case.team_id)
    if team is None:
        return None
    agent_id = pick(session, team)
    if agent_id is not None:
        _give(session, case, team, agent_id, {"auto": team.assignment})
    return agent_id


def _waiting_cases(session: Session, team_id: int) -> list[Case]:
    """The team's active unassigned cases, most urgent first; on PostgreSQL the ones another
    transaction holds are skipped (no waiting on them under the team's lock): a later hand-out
    takes them."""
    stmt = (
        select(Case)
        .where(Case.team_id == team_id, Case.assignee_id.is_(None), Case.status.in_(OPEN_STATUSES))
        .order_by(Case.priority.desc(), Case.id)
        .limit(500)
    )
    if _postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def fill_team(session: Session, team_id: int) -> list[int]:
    """Hand out the team's waiting cases while it has members free (a member became
    available, a case closed); the cases assigned."""
    team = session.get(Team, team_id)
    if team is None or team.assignment == "manual":
        return []
    team = lock_team(session, team_id)
    if team is None:
        return []
    done = []
    for case in _waiting_cases(session, team_id):
        agent_id = pick(session, team)
        if agent_id is None:
            break
        _give(session, case, team, agent_id, {"auto": team.assignment})
        done.append(case.id)
    return done


def fill_teams_of(session: Session, agent_ids: Iterable[int | None]) -> list[int]:
    """These agents closed or resolved cases: their teams' waiting cases, handed out."""
    ids = {a for a in agent_ids if a is not None}
    teams = session.scalars(
        select(Agent.team_id).where(Agent.id.in_(ids), Agent.team_id.is_not(None)).distinct()
    )
    return [c for team_id in sorted(t for t in teams if t) for c in fill_team(session, team_id)]


def hand_back(
    session: Session, agent_id: int, *, reason: str, only_waiting: bool = True
) -> list[int]:
    """An agent went away: their active cases whose customer waits on us (all of them, when
    they leave the desk: `only_waiting=False`) lose them and go to another member of the
    case's team; the cases changed."""
    active = list(
        session.scalars(
            select(Case.id).where(Case.assignee_id == agent_id, Case.status.in_(OPEN_STATUSES))
        )
    )
    ids = sorted(waiting_on_us(session, active)[0]) if only_waiting else sorted(active)
    if not ids:
        return []
    cases = list(
        session.scalars(
            select(Case)
            .where(Case.id.in_(ids), Case.assignee_id == agent_id)
            .order_by(Case.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    now = utcnow()
    for case in cases:
        case.assignee_id = None
    write_events(
        session,
        [
            event_row(c.id, "assigned", old=str(agent_id), new=None, at=now, data={"auto": reason})
            for c in cases
        ],
    )
    session.flush()
    for team_id in sorted({c.team_id for c in cases if c.team_id is not None}):
        fill_team(session, team_id)
    return [c.id for c in cases]
