"""Routing rules: conditions on a case → actions (team, agent, tags, not a support request).

Rules come from two places, in this order: the TOML configuration (`[[routing.rules]]`, rules
as code, read-only in the desk) and the ones supervisors keep in the database (`routing_rules`,
ordered by position). Each rule either stops the evaluation when it matches (`stop = true`, the
default: "first match") or lets the next rules apply too ("all matches").

Rules apply when a case opens and when its category is corrected (the flows call `route`);
`dry_run` tells what a rule would have done to the cases opened in the last days, changing
nothing. Every change a rule makes goes through the cases services, so it is a case event
like an agent's (actor: the system), with a `routed` event naming the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import JSON, Integer, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from carebird.auth.models import Agent, Team
from carebird.cases import service
from carebird.cases.conditions import MAX_LIST, Conditions, Facts, _as_list, facts_of, matches
from carebird.cases.log import record
from carebird.cases.models import Case, CaseEvent
from carebird.cases.scoring import score_cases
from carebird.db.base import Base, Id, utcnow
from carebird.errors import InvalidInput, NotFound

MAX_RULES = 200


class Actions(BaseModel):
    """What a matching rule does."""

    model_config = ConfigDict(extra="forbid")

    team: str | None = Field(default=None, min_length=1, max_length=120)  # by name
    agent: str | None = Field(default=None, min_length=3, max_length=254)  # by e-mail
    tags: list[str] | None = Field(default=None, max_length=MAX_LIST)
    not_support: bool = False  # file the case as `other` (not a support request)
    priority_boost: float | None = Field(default=None, ge=-100, le=100)  # points, kept

    _lists = field_validator("tags", mode="before")(_as_list)


class RuleSpec(BaseModel):
    """A rule as written in the TOML file or sent to the API."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    when: Conditions = Field(default_factory=Conditions)
    then: Actions
    stop: bool = True  # first match: no later rule applies once this one matched
    enabled: bool = True


class RoutingRule(Base):
    """A rule kept in the desk (the file's rules are not stored: the file is their source)."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # a RuleSpec: name, when, then, switch
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True, slots=True)
class Rule:
    spec: RuleSpec
    source: str  # "file" or "desk"
    id: int | None = None  # the desk's rules only


def parse_rule(raw: Any, *, where: str = "rule") -> RuleSpec:
    try:
        return RuleSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{where}: {at}: {first['msg']}") from None


def file_rules(config: dict[str, Any]) -> tuple[Rule, ...]:
    """The `[[routing.rules]]` of the settings, validated (a bad rule stops the desk early)."""
    raw = config.get("rules", [])
    if not isinstance(raw, list) or len(raw) > MAX_RULES:
        raise InvalidInput(f"routing.rules must be a list of at most {MAX_RULES} rules")
    return tuple(
        Rule(parse_rule(r, where=f"routing.rules[{i}]"), "file") for i, r in enumerate(raw)
    )


class TeamSpec(BaseModel):
    """A `[[teams]]` entry: a name, and optionally its lead (by e-mail), assignment mode and
    cap of open cases per agent, which the desk then takes from the file at each start."""

    model_config = ConfigDict(extra="ignore", frozen=True)  # other parts read other keys

    name: str = Field(min_length=1, max_length=120)
    lead: str | None = Field(default=None, min_length=3, max_length=254)
    assignment: Literal["manual", "round_robin", "least_loaded"] | None = None
    max_open_per_agent: int | None = Field(default=None, ge=1, le=1000)


@dataclass(frozen=True, slots=True)
class RoutingSetup:
    """What the configuration declares: its rules (applied before the desk's) and its teams."""

    rules: tuple[Rule, ...] = ()
    teams: tuple[str, ...] = ()
    team_specs: tuple[TeamSpec, ...] = ()

    @classmethod
    def from_config(cls, routing: dict[str, Any], teams: list[dict[str, Any]]) -> RoutingSetup:
        specs = []
        for i, team in enumerate(teams):
            try:
                raw = {**team, "name": str(team.get("name") or "").strip()}
                specs.append(TeamSpec.model_validate(raw))
            except (ValidationError, AttributeError, TypeError) as exc:
                detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else exc
                raise InvalidInput(
                    f"teams[{i}]: a team needs a name (1 to 120 characters), and may have a "
                    f"lead, an assignment and a max_open_per_agent: {detail}"
                ) from None
        return cls(file_rules(routing), tuple(s.name for s in specs), tuple(specs))


def desk_rules(session: Session) -> list[Rule]:
    rows = session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    return [Rule(RuleSpec.model_validate(r.spec), "desk", r.id) for r in rows]


# --- the desk's rules, as the API and the Routing page change them ---------------------------
def add_rule(session: Session, spec: RuleSpec) -> int:
    """Keep a rule after the desk's others; its id."""
    count = session.scalar(select(func.count()).select_from(RoutingRule)) or 0
    if count >= MAX_RULES:
        raise InvalidInput(f"at most {MAX_RULES} rules")
    last = session.scalar(select(func.max(RoutingRule.position)))
    row = RoutingRule(position=(last or 0) + 1, spec=spec.model_dump())
    session.add(row)
    session.flush()
    return row.id


def _row(session: Session, rule_id: int) -> RoutingRule:
    row = session.get(RoutingRule, rule_id)
    if row is None:
        raise NotFound(f"routing rule {rule_id} not found")
    return row


def replace_rule(session: Session, rule_id: int, spec: RuleSpec) -> None:
    row = _row(session, rule_id)
    row.spec, row.updated_at = spec.model_dump(), utcnow()


def switch_rule(session: Session, rule_id: int) -> bool:
    """Turn the rule off if it is on, on if it is off; whether it is now on."""
    row = _row(session, rule_id)
    enabled = not row.spec.get("enabled", True)
    row.spec, row.updated_at = {**row.spec, "enabled": enabled}, utcnow()
    return enabled


def delete_rule(session: Session, rule_id: int) -> None:
    session.delete(_row(session, rule_id))


def chosen(rules: Sequence[Rule], f: Facts) -> list[Rule]:
    """The enabled rules that apply to the case, in order, up to the first that stops."""
    out = []
    for rule in rules:
        if rule.spec.enabled and matches(rule.spec.when, f):
            out.append(rule)
            if rule.spec.stop:
                break
    return out


# --- applying -------------------------------------------------------------------------------
def _team_id(session: Session, name: str, declared: tuple[str, ...]) -> int:
    """The team's id; a team the configuration declares is created the first time a rule
    needs it (a process that did not start the desk, e.g. `carebird import`)."""
    by_name = select(Team.id).where(func.lower(Team.name) == name.lower())
    team_id = session.scalar(by_name)
    if team_id is None and name.lower() in {d.lower() for d in declared}:
        ensure_teams(session, [name])
        team_id = session.scalar(by_name)
    if team_id is None:
        raise InvalidInput(f"routing: no team named {name!r} (declare it under [[teams]])")
    return team_id


def _agent_id(session: Session, email: str) -> int:
    agent_id = session.scalar(
        select(Agent.id).where(func.lower(Agent.email) == email.lower(), Agent.active.is_(True))
    )
    if agent_id is None:
        raise InvalidInput(f"routing: no active agent with the e-mail {email!r}")
    return agent_id


def _apply(
    session: Session, case_id: int, rule: Rule, teams: tuple[str, ...], weights: Any
) -> list[str]:
    """Carry out one rule's actions on a case; the names of what changed."""
    then, done = rule.spec.then, []
    case = session.get_one(Case, case_id)
    if then.team is not None or then.agent is not None:
        team_id = _team_id(session, then.team, teams) if then.team else case.team_id
        agent_id = _agent_id(session, then.agent) if then.agent else case.assignee_id
        if (team_id, agent_id) != (case.team_id, case.assignee_id):
            service.assign(
                session, case_id=case_id, agent_id=agent_id, team_id=team_id, actor_id=None
            )
            done.append("assigned")
    if then.tags:
        before = set(service.case_tags(session, case_id))
        after = service.set_tags(session, case_id=case_id, add=then.tags, remove=(), actor_id=None)
        if set(after) != before:
            done.append("tags")
    if then.priority_boost is not None and case.priority_boost != then.priority_boost:
        record(
            session, case_id, "priority_boost",
            old=f"{case.priority_boost:g}", new=f"{then.priority_boost:g}",
        )  # fmt: skip
        case.priority_boost = then.priority_boost
        session.flush()
        score_cases(session, [case_id], weights=weights)
        done.append("priority")
    if then.not_support and case.category != "other":
        service.correct_category(
            session, case_id=case_id, category="other", actor_id=None, weights=weights
        )
        done.append("not_support")
    return done


def route(
    session: Session, case_ids: Sequence[int], setup: RoutingSetup, *, weights: Any
) -> dict[int, list[str]]:
    """Apply the configuration's rules, then the desk's, to each case; the names of the rules
    that changed something, by case."""
    if not case_ids:
        return {}
    rules = [*setup.rules, *desk_rules(session)]
    if not rules:
        return {}
    out: dict[int, list[str]] = {}
    for case_id, f in sorted(facts_of(session, case_ids).items()):
        for rule in chosen(rules, f):
            done = _apply(session, case_id, rule, setup.teams, weights)
            if done:
                data = {"rule": rule.spec.name, "source": rule.source, "changed": done}
                record(session, case_id, "routed", new=rule.spec.name, data=data)
                out.setdefault(case_id, []).append(rule.spec.name)
    return out


def reroute(
    session: Session, case_ids: Iterable[int], setup: RoutingSetup, *, weights: Any
) -> dict[int, list[str]]:
    """The rules again for cases whose category the model changed (a later message turned a
    question into a complaint), except those an agent moved by hand: their place stands."""
    ids = set(case_ids)
    if not ids or not (setup.rules or session.scalar(select(RoutingRule.id).limit(1))):
        return {}
    by_hand = set(
        session.scalars(
            select(CaseEvent.case_id).where(
                CaseEvent.case_id.in_(ids),
                CaseEvent.kind.in_(("team", "assigned")),
                CaseEvent.actor_id.is_not(None),
            )
        )
    )
    return route(session, sorted(ids - by_hand), setup, weights=weights)


@dataclass(frozen=True, slots=True)
class DryRunMatch:
    case_id: int
    subject: str
    category: str | None
    language: str | None
    network: str
    created_at: datetime


def dry_run(
    session: Session, spec: RuleSpec, *, days: int = 7, now: datetime | None = None,
    limit: int = 200,
) -> tuple[int, list[DryRunMatch]]:  # fmt: skip
    """How many cases opened in the last `days` the rule matches, and the first `limit`
    of them (newest first). Nothing is changed."""
    since = (now or utcnow()) - timedelta(days=days)
    ids = list(
        session.scalars(
            select(Case.id).where(Case.created_at >= since).order_by(Case.created_at.desc())
        )
    )
    facts = facts_of(session, ids)
    hits = [i for i in ids if i in facts and matches(spec.when, facts[i])]
    rows = {
        c.id: c
        for c in session.execute(
            select(Case.id, Case.subject, Case.category, Case.network, Case.created_at).where(
                Case.id.in_(hits[:limit])
            )
        )
    }
    shown = [
        DryRunMatch(i, rows[i].subject, rows[i].category, facts[i].language, rows[i].network,
                    rows[i].created_at)
        for i in hits[:limit]
    ]  # fmt: skip
    return len(hits), shown


def ensure_teams(session: Session, names: Iterable[str]) -> None:
    """Create the teams the configuration declares (`[[teams]]`) that do not exist yet."""
    dialect = session.get_bind().dialect.name
    for name in names:
        exists = session.scalar(select(Team.id).where(func.lower(Team.name) == name.lower()))
        if exists is None:  # the unique name decides between processes starting together
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            stmt = insert(Team).values(name=name, created_at=utcnow())
            session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
