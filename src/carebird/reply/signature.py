"""The agent's signature (" ^MC") that ends a reply, per the desk account's policy.

The policy is the account's `options["signature"]`: "initials" (the default) or "none". Customers
see who answered; the signature is never added twice (an agent may have typed it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from carebird.auth.models import Agent
from carebird.auth.service import initials_of

POLICIES = ("initials", "none")
_UNSAFE = re.compile(r"[^\w.-]")  # initials stay one word: no spaces, no "^", no markup


def initials_for(agent: Agent) -> str:
    """The agent's initials as stored, else derived from the name ("Marie Curie" → "MC")."""
    initials = _UNSAFE.sub("", agent.initials or "")
    return initials or _UNSAFE.sub("", initials_of(agent.name)) or "?"


def policy_of(options: Mapping[str, Any] | None) -> str:
    value = str((options or {}).get("signature") or "initials").lower()
    return value if value in POLICIES else "initials"


def signature_for(*, agent: Agent, options: Mapping[str, Any] | None) -> str:
    """What the account's policy appends to this agent's replies: " ^MC", or ""."""
    if policy_of(options) == "none":
        return ""
    return f" ^{initials_for(agent)}"


def is_signed(text: str, signature: str) -> bool:
    """Whether `text` already carries the signature as a word of its own (anywhere)."""
    mark = signature.strip()
    if not mark:
        return True
    return re.search(rf"(?<!\S){re.escape(mark)}(?![\w])", text) is not None


def missing_signature(text: str, signature: str) -> str:
    """The part of `signature` still to append to `text` ("" when it is there already)."""
    return "" if is_signed(text, signature) else signature


def sign(text: str, signature: str) -> str:
    """`text` ending with `signature`, never twice."""
    return text.rstrip() + missing_signature(text, signature)
