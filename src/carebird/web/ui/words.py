"""Names of codes the pages show (statuses, categories, networks, event kinds), via gettext."""

from __future__ import annotations

import functools

from carebird.i18n import N_
from carebird.web.ui.i18n import gettext

__all__ = ["N_", "gettext"]


STATUSES = {
    "new": N_("New"),
    "open": N_("Open"),
    "waiting_customer": N_("Waiting for customer"),
    "waiting_third_party": N_("Waiting for third party"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
}
CATEGORIES = {
    "complaint": N_("Complaint"),
    "assistance": N_("Assistance"),
    "question": N_("Question"),
    "suggestion": N_("Suggestion"),
    "praise": N_("Praise"),
    "other": N_("Not a support request"),
}
NETWORKS = {
    "x": N_("X"),
    "mastodon": N_("Mastodon"),
    "bluesky": N_("Bluesky"),
    "sim": N_("Simulated"),
}
ROLES = {
    "viewer": N_("Viewer"),
    "agent": N_("Agent"),
    "supervisor": N_("Supervisor"),
    "admin": N_("Admin"),
}
AGENT_STATUSES = {  # an agent's availability for new cases (translated in the templates)
    "available": N_("Available"),
    "away": N_("Away"),
    "offline": N_("Offline"),
}
EVENTS = {
    "created": N_("Case opened"),
    "message": N_("Message"),
    "status": N_("Status"),
    "assignee": N_("Assignee"),
    "team": N_("Team"),
    "tag_added": N_("Tag added"),
    "tag_removed": N_("Tag removed"),
    "category": N_("Category"),
    "reclassified": N_("Category (second reading)"),
    "reply_queued": N_("Reply queued"),
    "reply_sent": N_("Reply sent"),
    "reply_error": N_("Reply error"),
    "reply_failed": N_("Reply failed"),
    "acknowledged": N_("Acknowledged"),
    "acknowledgement_skipped": N_("Acknowledgement skipped"),
    "note": N_("Note"),
    "forwarded": N_("Forwarded"),
    "merged": N_("Merged"),
    "split": N_("Split"),
    "incident": N_("Incident"),
}


@functools.cache
def _translated(locale: str, table: str) -> dict[str, str]:
    source = {
        "statuses": STATUSES,
        "categories": CATEGORIES,
        "networks": NETWORKS,
        "events": EVENTS,
        "roles": ROLES,
    }[table]
    return {code: gettext(locale, msgid) for code, msgid in source.items()}


def status_labels(locale: str) -> dict[str, str]:
    return _translated(locale, "statuses")


def category_labels(locale: str) -> dict[str, str]:
    return _translated(locale, "categories")


def network_labels(locale: str) -> dict[str, str]:
    return _translated(locale, "networks")


def event_labels(locale: str) -> dict[str, str]:
    return _translated(locale, "events")


def role_labels(locale: str) -> dict[str, str]:
    return _translated(locale, "roles")
