"""Urgency and severity cues in French and English (each a named, explainable pattern)."""

from __future__ import annotations

import re

_CUES: dict[str, str] = {
    "outage": r"\b(?:panne|en rade|coupure|coupé|hs|ne marche (?:plus|pas)|fonctionne (?:plus|pas)"
    r"|down|outage|not working|doesn'?t work|stopped working|no (?:signal|service|internet)"
    r"|plus de (?:réseau|connexion|internet|signal))\b",
    "urgent": r"\b(?:urgent|urgence|asap|au plus vite|immédiatement|emergency|right now"
    r"|svp vite)\b",
    "duration": r"\b(?:depuis|since|for)\s+(?:\d+|un|une|deux|trois|quatre|cinq|plusieurs|several"
    r"|a|one|two|three|four|five|hier|yesterday|ce matin|this morning|le \d+)\s*"
    r"(?:jours?|semaines?|mois|heures?|h|days?|weeks?|months?|hours?|hrs?)?\b",
    "no_answer": r"\b(?:toujours (?:rien|pas|aucune?)|aucune? (?:réponse|nouvelle|retour)"
    r"|still (?:no|nothing|waiting|not)|no (?:answer|reply|response|one (?:answers|replies))"
    r"|je relance|relance|again and again|encore une fois|(?:2|3|4|5)(?:e|ème|nd|rd|th) "
    r"(?:fois|time))\b",
    "churn": r"\b(?:résilier|résiliation|je résilie|changer d'opérateur|je pars chez"
    r"|switch(?:ing)? to|cancel(?:l?ing)? my|leaving (?:you|for)|never again|plus jamais"
    r"|porter plainte"
    r"|lawyer|avocat|ufc|60 millions|trading standards)\b",
    "safety": r"\b(?:danger(?:eux)?|blessée?s?|injur(?:ed|y)|accident|feu|fire|smoke|fumée"
    r"|gaz|gas leak|fuite de gaz|agression|assault)\b",
}
# Patterns are matched on the lower-cased text, without re.I (three times faster).
CUES = {name: re.compile(pattern) for name, pattern in _CUES.items()}
# All the cues in one pattern: a single pass tells whether a text holds any cue at all (most
# hold none) and where the first one can start, so each cue's own search begins there.
_ANY_CUE = re.compile("|".join(f"(?:{pattern})" for pattern in _CUES.values()))
SEVERE = frozenset({"outage", "urgent", "safety", "churn"})
MAX_CUE_CHARS = 5000


def find_cues(text: str) -> list[str]:
    """The cue names present in `text`, in a stable order."""
    return find_cues_lowered(text[:MAX_CUE_CHARS].lower())


def find_cues_lowered(lowered: str) -> list[str]:
    """`find_cues` of a text already cut to MAX_CUE_CHARS and lower-cased."""
    first = _ANY_CUE.search(lowered)
    if first is None:
        return []
    # No cue matches before `first` (the combined pattern would have matched there). A search
    # from a position still sees the characters before it, so word boundaries are unchanged.
    at = first.start()
    return [name for name, rx in CUES.items() if rx.search(lowered, at)]
