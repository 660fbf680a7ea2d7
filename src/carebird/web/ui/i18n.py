"""The pages' words in French and English (a small dict per locale until gettext arrives)."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LOCALE = "fr"

STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "app": "carebird",
        "login.title": "Connexion",
        "login.email": "Adresse e-mail",
        "login.password": "Mot de passe",
        "login.submit": "Se connecter",
        "login.failed": "Adresse e-mail ou mot de passe incorrect.",
        "logout": "Se déconnecter",
        "inbox.title": "Boîte de réception",
        "inbox.empty": "Aucun cas pour l’instant.",
        "inbox.count": "cas",
        "col.id": "N°",
        "col.status": "Statut",
        "col.customer": "Client",
        "col.network": "Réseau",
        "col.priority": "Priorité",
        "col.subject": "Sujet",
        "col.messages": "Messages",
        "col.activity": "Dernière activité",
        "case.title": "Cas",
        "case.back": "← Boîte de réception",
        "case.customer": "Client",
        "case.followers": "abonnés",
        "case.verified": "vérifié",
        "case.tags": "Étiquettes",
        "case.assignee": "Assigné à",
        "case.nobody": "personne",
        "case.messages": "Messages",
        "case.events": "Historique",
        "case.no_messages": "Aucun message.",
        "msg.private": "Privé",
        "msg.public": "Public",
        "msg.in": "Reçu",
        "msg.out": "Envoyé",
        "event.at": "Quand",
        "event.kind": "Quoi",
        "event.change": "Changement",
        "event.actor": "Par",
        "event.system": "système",
        "error.title": "Erreur",
        "error.back": "Retour à l’accueil",
        "status.new": "Nouveau",
        "status.open": "Ouvert",
        "status.waiting_customer": "En attente du client",
        "status.waiting_third_party": "En attente d’un tiers",
        "status.resolved": "Résolu",
        "status.closed": "Fermé",
    },
    "en": {
        "app": "carebird",
        "login.title": "Sign in",
        "login.email": "E-mail address",
        "login.password": "Password",
        "login.submit": "Sign in",
        "login.failed": "Wrong e-mail address or password.",
        "logout": "Sign out",
        "inbox.title": "Inbox",
        "inbox.empty": "No cases yet.",
        "inbox.count": "cases",
        "col.id": "#",
        "col.status": "Status",
        "col.customer": "Customer",
        "col.network": "Network",
        "col.priority": "Priority",
        "col.subject": "Subject",
        "col.messages": "Messages",
        "col.activity": "Last activity",
        "case.title": "Case",
        "case.back": "← Inbox",
        "case.customer": "Customer",
        "case.followers": "followers",
        "case.verified": "verified",
        "case.tags": "Tags",
        "case.assignee": "Assigned to",
        "case.nobody": "nobody",
        "case.messages": "Messages",
        "case.events": "History",
        "case.no_messages": "No messages.",
        "msg.private": "Private",
        "msg.public": "Public",
        "msg.in": "Received",
        "msg.out": "Sent",
        "event.at": "When",
        "event.kind": "What",
        "event.change": "Change",
        "event.actor": "By",
        "event.system": "system",
        "error.title": "Error",
        "error.back": "Back to the inbox",
        "status.new": "New",
        "status.open": "Open",
        "status.waiting_customer": "Waiting for customer",
        "status.waiting_third_party": "Waiting for third party",
        "status.resolved": "Resolved",
        "status.closed": "Closed",
    },
}


def pick_locale(agent_locale: str | None, accept_language: str | None = None) -> str:
    """The agent's locale when signed in, else the browser's first supported language."""
    if agent_locale in STRINGS:
        return agent_locale  # type: ignore[return-value]
    for part in (accept_language or "").split(","):
        lang = part.split(";")[0].strip().lower()[:2]
        if lang in STRINGS:
            return lang
    return DEFAULT_LOCALE


def strings(locale: str) -> Mapping[str, str]:
    return STRINGS.get(locale, STRINGS[DEFAULT_LOCALE])


def status_labels(locale: str) -> dict[str, str]:
    words = strings(locale)
    return {k.removeprefix("status."): v for k, v in words.items() if k.startswith("status.")}
