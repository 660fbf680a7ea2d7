"""A first contact versus a real answer.

The desk's automatic acknowledgement (`Message.kind` "acknowledgement") and a bare "please DM
us" tell the customer someone is there; they answer nothing. Metrics report both: the first
*contact* (any message of ours) and the first *answer* (the first that is neither).

A reply is a bare invitation to continue in private when, once mentions, links and the
agent's signature (^JD, -JD) are taken out, each of its sentences either asks the customer to
write privately ("DM us", "send us a private message", "écrivez-nous en MP", "en message
privé"…) or is courtesy only (a greeting, thanks, an apology, "we'd like to help", "we'll
answer you there"), and at least one asks. Anything else in it (an instruction, a fact, a
question about the problem outside the invitation) makes it an answer.
"""

from __future__ import annotations

import re

ACKNOWLEDGEMENT = "acknowledgement"

_MENTION = re.compile(r"(?<![\w@])@[\w.]+")
_URL = re.compile(r"https?://\S+|\bwww\.\S+", re.IGNORECASE)
_SIGNATURE = re.compile(r"(?:^|\s)[\^*~/–—-]{1,2}\s?[A-Za-z][A-Za-z.]{0,20}\s*$|\s\d/\d\s*$")
_GREETING = re.compile(r"^(?:hi|hello|hey|bonjour|bonsoir|salut)\b[^,!.]{0,20}[,!]\s*", re.I)
_SENTENCES = re.compile(r"[.!?:;\n…]+")
_PRIVATE = r"(?:dm|dms|pm|direct\s+message|private\s+message|private\s+msg|message\s+priv[ée]|mp)"
_INVITATION = re.compile(
    "|".join(
        (
            rf"\b(?:send|shoot|drop|give)\s+(?:us|me)\s+(?:a\s+|an\s+)?{_PRIVATE}\b",
            r"\b(?:dm|pm|message)\s+(?:us|me)\b",
            rf"\b(?:via|through|by|in|over|with|a|on)\s+(?:a\s+)?{_PRIVATE}\b",
            r"\bour\s+dms\b",
            r"\b(?:please|pls|plz|kindly|can\s+you|could\s+you|would\s+you|you\s+can|feel\s+free"
            r"\s+to|go\s+ahead\s+and|just)\s+(?:\w+\s+){0,2}(?:dm|pm)\b",
            r"\b(?:follow|follows)\b.{0,40}\b(?:dm|pm|message)\b",
            r"\bmessage\s+us\s+privately\b",
            r"\b(?:en|par)\s+(?:message\s+)?(?:priv[ée]|mp)\b",
            r"\bmp\b",
            r"\b(?:envoy|écri|ecri|contact)\w*[\s-]+(?:nous|moi)\b.{0,30}\b(?:priv[ée]|mp|dm)\b",
        )
    ),
    re.IGNORECASE,
)
_COURTESY = re.compile(
    "|".join(
        (
            r"^(?:hi|hello|hey|hiya|greetings|good\s+(?:morning|afternoon|evening)|bonjour|"
            r"bonsoir|salut|coucou|hola)\b[\w\s,'’-]{0,30}$",
            r"^(?:(?:we|i)(?:'re|’re|\s+are|'m|’m|\s+am)\s+)?(?:so\s+|very\s+|really\s+|truly\s+)?"
            r"(?:sorry|apologies|désolée?s?|navrée?s?)\b.{0,80}$",
            r"^(?:many\s+)?(?:thanks|thank\s+you|thx|ty|merci)\b.{0,60}$",
            r"^(?:we|i|let\s+us|let's|nous|je|on)\b.{0,60}\b(?:help|assist|look\s+into|take\s+a\s+"
            r"look|look\s+at|check|investigate|sort\s+this|aider|regarder|vérifier|examiner|"
            r"answer|reply|respond|get\s+back|répond\w*|revenons|revenir)\b.{0,40}$",
            r"^(?:(?:i'?m|i\s+am|we'?re|we’re|we\s+are)\s+)?(?:always\s+)?(?:happy|glad|here|"
            r"ready)\s+to\s+help\b.{0,30}$",
            r"^let(?:'s|\s+us|\s+me)\s+.{0,40}\b(?:help|dig|look|check|sort|work|fix)\b.{0,40}$",
            r"^(?:oh\s+no|yikes|uh\s+oh|oops|ouch|oh\s+dear|mince|oups|aïe)\b.{0,20}$",
            r"^(?:we|i)(?:'re|’re|\s+are|'m|’m|\s+am)?\s+(?:(?:completely|totally)\s+)?(?:understand|"
            r"hear\s+you|take\s+this|concerned|sad\s+to|sorry)\b.{0,60}$",
            r"^(?:kind|best|warm)\s+regards\b.{0,20}$|^(?:cheers|regards|cordialement|bonne\s+"
            r"journée)\b.{0,20}$",
            r"^(?:we'll|we\s+will|on)\s+(?:wait\s+for\s+you|continue\s+there|go\s+from\s+there)\b.{0,20}$",
            r"^(?:au\s+plus\s+vite|asap|à\s+tout\s+de\s+suite|see\s+you\s+there)\b.{0,20}$",
        )
    ),
    re.IGNORECASE,
)


def _clean(text: str) -> str:
    text = _URL.sub(" ", _MENTION.sub(" ", text))
    text = text.strip()
    while True:
        stripped = _SIGNATURE.sub("", text).rstrip()
        if stripped == text:
            return text
        text = stripped


def is_dm_request(text: str | None) -> bool:
    """Whether a reply of ours only asks the customer to write privately (see the module)."""
    if not text:
        return False
    asked = False
    for raw in _SENTENCES.split(_clean(text)):
        sentence = " ".join(raw.split()).strip(" ,'\"()[]-–—*")
        sentence = _GREETING.sub("", sentence) or sentence
        if not sentence or not any(ch.isalnum() for ch in sentence):
            continue
        if _INVITATION.search(sentence):
            asked = True
        elif not _COURTESY.search(sentence):
            return False
    return asked


def is_answer(kind: str | None, text: str | None) -> bool:
    """Whether an outbound message of ours is a real answer (not an acknowledgement, not a
    bare invitation to continue in private)."""
    return kind != ACKNOWLEDGEMENT and not is_dm_request(text)
