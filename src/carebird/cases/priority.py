"""One priority score per case, with the reasons in words.

Triage order by default: complaints, then assistance, questions, suggestions, praise; noise last.
Each category sits one `category_step` above the next; urgency, reach, virality, waiting time and
repeat contacts lift a case within and across those steps, each lift capped, so that an urgent
or influential or long-waiting case rises while thanks never outrank a plain complaint with the
default weights. Weights are per desk (`Settings.priority_weights`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from carebird.i18n import LOCALES, N_, gettext
from carebird.understand.cues import SEVERE
from carebird.understand.labels import CATEGORIES, TRIAGE_RANK

DEFAULT_WEIGHTS: dict[str, float] = {
    "category_step": 10.0,
    "severe_cue": 4.0,  # outage, urgent, safety, churn
    "other_cue": 2.0,  # duration, still no answer
    "cues_cap": 10.0,
    "negative": 3.0,
    "reach_per_decade": 3.0,  # per ×10 followers above 1,000
    "reach_cap": 8.0,
    "verified": 2.0,
    "virality_per_decade": 2.5,  # per ×10 interactions
    "virality_growth": 2.0,  # bonus when interactions grew since arrival
    "virality_cap": 8.0,
    "wait_per_hour": 1.5,
    "wait_cap": 15.0,
    "repeat_contact": 2.0,
    "repeat_cap": 6.0,
    "noise_factor": 0.2,  # lifts applied to `other` are damped: noise stays at the bottom
}


@dataclass(frozen=True, slots=True)
class CaseSignals:
    category: str | None
    sentiment: str | None = None
    cues: frozenset[str] = frozenset()
    followers: int = 0
    verified: bool = False
    interactions: int = 0  # likes + reposts + quotes of the case's messages, latest seen
    interactions_at_arrival: int = 0
    waiting_seconds: float = 0.0  # since the oldest customer message we have not answered
    inbound_count: int = 1
    boost: float = 0.0  # set by a routing rule


@dataclass(slots=True)
class Priority:
    score: float
    reasons: list[dict[str, Any]] = field(default_factory=list)


def weights_for(overrides: Mapping[str, float] | None) -> dict[str, float]:
    unknown = set(overrides or {}) - set(DEFAULT_WEIGHTS)
    if unknown:
        raise ValueError(f"unknown priority weights: {', '.join(sorted(unknown))}")
    return {**DEFAULT_WEIGHTS, **(overrides or {})}


def score(s: CaseSignals, weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> Priority:
    w = weights
    category = s.category if s.category in TRIAGE_RANK else "other"
    base = (len(CATEGORIES) - 1 - TRIAGE_RANK[category]) * w["category_step"]
    reasons: list[dict[str, Any]] = [{"code": "category", "value": category}]
    lift = 0.0

    cue_lift, named = _cue_lift(s.cues, w)
    if cue_lift:
        lift += cue_lift
        reasons.append({"code": "cues", "value": named})
    if s.sentiment == "negative":
        lift += w["negative"]
    if s.followers > 1000:
        lift += min(w["reach_cap"], w["reach_per_decade"] * math.log10(s.followers / 1000))
        reasons.append({"code": "followers", "value": s.followers})
    if s.verified:
        lift += w["verified"]
        reasons.append({"code": "verified", "value": True})
    if s.interactions >= 10:
        lift += _virality_lift(s, w)
        reasons.append({"code": "interactions", "value": s.interactions})
    if s.waiting_seconds >= 600:
        lift += min(w["wait_cap"], w["wait_per_hour"] * s.waiting_seconds / 3600)
        reasons.append({"code": "waiting", "value": int(s.waiting_seconds)})
    if s.inbound_count > 1:
        lift += min(w["repeat_cap"], w["repeat_contact"] * (s.inbound_count - 1))
        reasons.append({"code": "messages", "value": s.inbound_count})
    if category == "other":
        lift *= w["noise_factor"]
    if s.boost:  # a rule's say, not damped: whoever wrote it meant it
        lift += s.boost
        reasons.append({"code": "boost", "value": s.boost})
    return Priority(round(base + lift, 2), reasons)  # positional: cheaper


def _cue_lift(cues: frozenset[str], w: Mapping[str, float]) -> tuple[float, list[str]]:
    """The cues' lift and their names, severe ones first."""
    if not cues and isinstance(cues, frozenset | set):  # most messages: no cue, no set algebra
        return min(w["cues_cap"], 0 * w["severe_cue"] + 0 * w["other_cue"]), []
    severe = sorted(cues & SEVERE)
    other = sorted(cues - SEVERE)
    lift = min(w["cues_cap"], len(severe) * w["severe_cue"] + len(other) * w["other_cue"])
    return lift, severe + other


def _virality_lift(s: CaseSignals, w: Mapping[str, float]) -> float:
    """The lift of a case with at least 10 interactions, more if they grew since arrival."""
    viral = w["virality_per_decade"] * math.log10(s.interactions)
    if s.interactions > max(1, s.interactions_at_arrival) * 2:
        viral += w["virality_growth"]
    return min(w["virality_cap"], viral)


# The reasons' words, through the gettext catalogues (English msgids; the "en" catalogue words
# some differently, e.g. "verified account" → "verified" beside the page's "verified" badge).
_CATEGORY = {
    "complaint": N_("complaint"),
    "assistance": N_("assistance"),
    "question": N_("question"),
    "suggestion": N_("suggestion"),
    "praise": N_("praise"),
    "other": N_("not a request"),
}
_CUES = {
    "outage": N_("outage"),
    "urgent": N_("urgent"),
    "safety": N_("safety"),
    "churn": N_("may leave"),
    "duration": N_("lasting"),
    "no_answer": N_("still no answer"),
}
_COUNTED = {
    "followers": N_("%(n)s followers"),
    "interactions": N_("%(n)s interactions"),
    "messages": N_("%(n)s messages"),
}
_VERIFIED = N_("verified account")
_BOOST = N_("rule %(n)s")
_WAITING = N_("waiting %(n)s")
_DAYS = N_("%(n)s d")


def _count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 1000:
        return f"{n / 1000:.0f}k"
    return str(n)


def _duration(seconds: int, lang: str) -> str:
    if seconds >= 86_400:
        return gettext(lang, _DAYS) % {"n": seconds // 86_400}
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def describe(reasons: list[dict[str, Any]], lang: str = "en") -> str:
    """The reasons in words: "complaint · outage · 48k followers · waiting 3 h"."""
    lang = lang if lang in LOCALES else "en"
    parts: list[str] = []
    for r in reasons:
        code = r.get("code")
        value: Any = r.get("value")
        if code == "category":
            word = _CATEGORY.get(str(value))
            parts.append(gettext(lang, word) if word else str(value))
        elif code == "cues":
            parts.extend(gettext(lang, _CUES[c]) if c in _CUES else c for c in value)
        elif code in _COUNTED:
            parts.append(gettext(lang, _COUNTED[str(code)]) % {"n": _count(int(value))})
        elif code == "verified":
            parts.append(gettext(lang, _VERIFIED))
        elif code == "waiting":
            parts.append(gettext(lang, _WAITING) % {"n": _duration(int(value), lang)})
        elif code == "boost":
            parts.append(gettext(lang, _BOOST) % {"n": f"{float(value):+g}"})
    return " · ".join(parts)
