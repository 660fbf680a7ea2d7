"""Case statuses and the transitions allowed between them."""

from __future__ import annotations

import enum

from carebird.errors import InvalidTransition


class Status(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_THIRD_PARTY = "waiting_third_party"
    RESOLVED = "resolved"
    CLOSED = "closed"


ACTIVE = frozenset({Status.NEW, Status.OPEN, Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY})

# Reopening (resolved/closed → open) is a transition like the others, so it is logged the same way.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(
        {
            Status.OPEN,
            Status.WAITING_CUSTOMER,
            Status.WAITING_THIRD_PARTY,
            Status.RESOLVED,
            Status.CLOSED,
        }
    ),
    Status.OPEN: frozenset({Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY, Status.RESOLVED}),
    Status.WAITING_CUSTOMER: frozenset({Status.OPEN, Status.WAITING_THIRD_PARTY, Status.RESOLVED}),
    Status.WAITING_THIRD_PARTY: frozenset({Status.OPEN, Status.WAITING_CUSTOMER, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset({Status.OPEN}),
}


def check_transition(old: str, new: str) -> Status:
    try:
        old_s, new_s = Status(old), Status(new)
    except ValueError as exc:
        raise InvalidTransition(f"unknown status: {exc}") from None
    if new_s not in TRANSITIONS[old_s]:
        raise InvalidTransition(f"a case cannot go from {old_s} to {new_s}")
    return new_s
