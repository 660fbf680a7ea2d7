"""The composer's three suggestions for a case: ranked, explained, ready to insert.

One use case (`suggest_for_case`) for the API, the page and the benchmark: the case's latest
customer message is ranked against the index (`suggest.rank`, the function the evaluation
measures), then each answer is made ready — a template rendered with the case's variables
(customer, agent, case number, expected wait), an article as its summary with its public link
(and the price of a link against a card on networks that bill), a past reply without the other
customer's @handle and the other agent's signature — with its reason in the agent's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.db.base import utcnow
from carebird.i18n import N_, gettext
from carebird.reply.acknowledgement import format_wait
from carebird.reply.acknowledging import AckSetup, account_wait
from carebird.reply.articles import Article
from carebird.reply.composer import case_variables
from carebird.reply.cost import estimate
from carebird.reply.suggest import Ranked, rank, shared_words, without_signature
from carebird.reply.suggestions import WAIT_REFRESH, Suggester
from carebird.reply.target import reply_target
from carebird.reply.templates import ReplyTemplate

Prices = Mapping[str, Mapping[str, float]]
_LEADING_HANDLES = re.compile(r"^(?:\s*@\w+[,:]?)+\s*")
_FIELD = re.compile(r"\{\{|\}\}|\{([a-z_]+)\}")
_REASONS = {
    "used": N_("used %(n)s times for similar messages this month"),
    "used_ever": N_("used %(n)s times for similar messages"),
    "similar": N_("answered a similar message: “%(text)s”"),
    "words": N_("matches the words: %(words)s"),
    "template": N_("template"),
    "article": N_("article"),
    "reply": N_("past reply"),
}


@dataclass(frozen=True)
class ArticleOffer:
    url: str | None  # the public help page's link (None: the article is not public)
    link_text: str  # the summary followed by the link
    card_title: str
    card_text: str  # the summary, drawn as an image
    link_cost: float
    card_cost: float


@dataclass(frozen=True)
class SuggestionView:
    rank: int
    kind: str
    ref: str
    title: str
    label: str  # "template", "article", "past reply" in the agent's language
    text: str  # what one click inserts, variables filled
    reason: str
    score: float
    message_text: str  # the customer's message it was ranked for (recorded with a choice)
    article: ArticleOffer | None = None


def fill(body: str, values: Mapping[str, str | None]) -> str:
    """The template's variables that have a value replaced; the others left for the agent."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        value = values.get(m.group(1) or "")
        return str(value) if value else m.group(0)

    return _FIELD.sub(one, body)


def without_mentions(text: str) -> str:
    """A past reply without the @handles it opened with and its author's signature."""
    return without_signature(_LEADING_HANDLES.sub("", text))


def suggest_for_case(
    session: Session,
    *,
    suggester: Suggester,
    case_id: int,
    agent: Agent,
    wait: AckSetup | None = None,
    prices: Prices | None = None,
    public_url: str = "",
    k: int = 3,
) -> list[SuggestionView]:
    target = reply_target(session, case_id=case_id, private=False)
    message = target.message
    lang = (message.language or "")[:2] or None
    locale = agent.locale if agent.locale in ("fr", "en") else "fr"
    words = {key: gettext(locale, msgid) for key, msgid in _REASONS.items()}
    values = case_variables(target, agent=agent)
    setup, account_id = wait or AckSetup(), target.account.id
    waited = suggester.remember(
        f"expected_wait:{account_id}",
        WAIT_REFRESH,
        lambda: account_wait(session, setup, account_id),
    )
    values["expected_wait"] = format_wait(waited, lang or locale)
    # a few more than shown: another account's articles are left out below
    ranked = rank(suggester.index(session), message.text, k=k + 3, language=lang, now=utcnow())
    views: list[SuggestionView] = []
    for r in ranked:
        if len(views) == k:
            break
        i = len(views) + 1
        reason = _reason(r, words, message.text)
        title, text, offer = r.title, r.text, None
        if r.kind == "template":
            template = session.get(ReplyTemplate, int(r.ref))
            if template is None:
                continue
            title, text = template.name, fill(template.body, values)
        elif r.kind == "article":
            article = session.get(Article, int(r.ref))
            if article is None or article.account_id not in (None, target.account.id):
                continue
            offer = _offer(article, target.case.network, target.account.handle, public_url, prices)
            title, text = article.title, offer.link_text
        else:
            text = without_mentions(r.text)
            title = text[:60]
        label = words.get(r.kind, r.kind)
        views.append(
            SuggestionView(
                i, r.kind, r.ref, title, label, text, reason, r.score, message.text, offer
            )
        )
    return views


def _reason(r: Ranked, words: Mapping[str, str], message: str) -> str:
    if r.uses_recent >= 2:
        return words["used"] % {"n": r.uses_recent}
    if r.neighbours and r.uses >= 2:
        return words["used_ever"] % {"n": r.uses}
    if r.neighbours and r.similar:
        quoted = r.similar if len(r.similar) <= 80 else r.similar[:79] + "…"
        return words["similar"] % {"text": quoted}
    shared = shared_words(message, f"{r.title} {r.text}")
    return words["words"] % {"words": ", ".join(shared) or "…"}


def article_url(public_url: str, handle: str, slug: str) -> str:
    return f"{public_url.rstrip('/')}/help/{handle.lstrip('@')}/{slug}"


def _offer(
    article: Article, network: str, handle: str, public_url: str, prices: Prices | None
) -> ArticleOffer:
    summary = article.summary or article.title
    url = article_url(public_url, handle, article.slug) if article.public else None
    link_text = f"{summary} {url}" if url else summary
    return ArticleOffer(
        url=url,
        link_text=link_text,
        card_title=article.title,
        card_text=summary,
        link_cost=estimate(network, link_text, private=False, overrides=prices).cost,
        card_cost=estimate(network, summary, private=False, overrides=prices).cost,
    )
