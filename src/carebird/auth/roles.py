"""Roles and their ranks: viewer < agent < supervisor < admin; higher ranks can do more."""

from __future__ import annotations

import enum

from carebird.auth.models import Agent
from carebird.errors import Forbidden, InvalidInput


class Role(enum.StrEnum):
    VIEWER = "viewer"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


RANK: dict[str, int] = {role.value: rank for rank, role in enumerate(Role)}


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}; one of {', '.join(RANK)}") from None


def has_role(agent: Agent, role: str) -> bool:
    return RANK.get(agent.role, -1) >= RANK[check_role(role)]


def require(agent: Agent, role: str) -> None:
    """Raise Forbidden unless `agent` holds `role` or a higher one."""
    if not has_role(agent, role):
        raise Forbidden(f"this needs the {role} role")
