"""The composer: everything the agent must see before a reply leaves, computed in one call.

Where the reply goes (the customer's post it answers in public, or their private messages), the
network's own length against its limit, the thread parts when a public answer is too long, the
signature the account's policy adds, the personal data that blocks a public send (with the two
ways out: the same text in private, or a public invitation to continue in private), the price
of the send and the final text of each post. Nothing is written: the outbox sends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from sqlalchemy.orm import Session

from carebird.auth.models import Agent
from carebird.errors import InvalidInput
from carebird.i18n import N_, gettext
from carebird.ingest.models import Author, NetworkAccount
from carebird.reply.cards import render_card
from carebird.reply.cost import CostEstimate, estimate
from carebird.reply.length import Measure, default_limit, measure
from carebird.reply.signature import initials_for, missing_signature, signature_for
from carebird.reply.split import split_thread
from carebird.reply.target import ReplyTarget, reply_target
from carebird.reply.templates import VARIABLES, default_body, get_template, render
from carebird.understand.pii import find_personal_data

Prices = Mapping[str, Mapping[str, float]]
X_DM_LINK = "https://twitter.com/messages/compose?recipient_id="  # X's DM deep link
NETWORK_LABELS = {"x": "X", "sim": "Simulateur", "mastodon": "Mastodon", "bluesky": "Bluesky"}
LANGUAGES = ("fr", "en")  # the agent's words come from the pages' gettext catalogues
# msgids (English) of the words the agent reads; translated with the agent's locale
_WORDS = {
    "public": N_("Public reply to %(handle)s on %(network)s"),
    "private": N_("Private message to %(handle)s on %(network)s"),
    "card_title": N_("Our answer"),
    "too_long": N_("Too long even as a thread: shorten it or answer in private."),
    "empty": N_("The message is empty."),
}


def _words(agent: Agent) -> dict[str, str]:
    locale = agent.locale if agent.locale in LANGUAGES else "fr"
    return {key: gettext(locale, msgid) for key, msgid in _WORDS.items()}


@dataclass(frozen=True)
class Destination:
    kind: str  # public_reply | private_message
    label: str  # in the agent's language
    network: str
    account_handle: str
    customer_handle: str
    in_reply_to_id: str | None  # the customer's post a public reply answers
    recipient_id: str | None  # the customer, for a private message


@dataclass(frozen=True)
class Part:
    text: str  # exactly what is posted
    length: int
    limit: int
    over: bool


@dataclass(frozen=True)
class PersonalData:
    kind: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class PrivateSwitch:
    """The ways out when personal data blocks a public reply."""

    private_text: str  # the same answer, as a private message
    private_parts: list[Part]
    invitation_text: str  # a public reply asking the customer to continue in private
    invitation: Part
    dm_link: str | None


@dataclass(frozen=True)
class RenderedTemplate:
    id: int
    name: str
    language: str
    text: str


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


@dataclass(frozen=True)
class Composition:
    case_id: int
    network: str
    private: bool
    destination: Destination
    text: str  # the answer as typed (or rendered), with the signature
    signature: str  # what the policy appends ("" when none, or already typed)
    length: Measure  # of the whole answer in one post, as the network counts it
    split: bool
    parts: list[Part]  # the posts to send, in order (one when it fits)
    personal_data: list[PersonalData]
    blocked: bool  # a public send would be refused by the outbox
    switch: PrivateSwitch | None
    cost: CostEstimate  # of every part
    template: RenderedTemplate | None = None
    problems: list[Problem] = field(default_factory=list)


def dm_link(network: str, account: NetworkAccount) -> str | None:
    """Where a customer writes to the desk privately: X's DM deep link to the account."""
    if network in ("x", "sim"):
        if not account.external_id:
            return None
        return X_DM_LINK + quote(account.external_id, safe="")
    if network == "mastodon":
        return f"@{account.handle.lstrip('@')}"  # a direct post mentioning the desk
    if network == "bluesky":
        return f"https://bsky.app/profile/{account.handle.lstrip('@')}"  # its "Message" button
    return None


def case_variables(
    target: ReplyTarget, *, agent: Agent, given: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """The template variables known for this case, overridden by the ones the agent gave."""
    unknown = sorted(set(given or {}) - set(VARIABLES))
    if unknown:
        raise InvalidInput(f"unknown template variable(s): {', '.join(unknown)}")
    customer, account = target.customer, target.account
    values: dict[str, str | None] = {
        "customer_name": customer.display_name.strip() or customer.handle,
        "customer_handle": "@" + customer.handle.lstrip("@"),
        "agent_name": agent.name,
        "agent_initials": initials_for(agent),
        "case_number": str(target.case.id),
        "expected_wait": None,  # only the agent knows: given with the request
        "brand": account.display_name.strip() or account.handle,
        # where no deep link exists, the desk's handle tells the customer where to write
        "dm_link": dm_link(target.case.network, account) or f"@{account.handle.lstrip('@')}",
    }
    values.update({k: v for k, v in (given or {}).items() if v is not None})
    return values


def _language(target: ReplyTarget, agent: Agent) -> str:
    lang = (target.message.language or "")[:2]
    return lang if lang in LANGUAGES else agent.locale if agent.locale in LANGUAGES else "fr"


def _limit(network: str, account: NetworkAccount, *, private: bool) -> int:
    """The account's own limit (X Premium's long posts, a Mastodon server's max_characters)."""
    options = account.options or {}
    # An admin's setting first; else what the Mastodon server said (stored when the desk starts).
    option = options.get("char_limit") or options.get("instance_char_limit")
    if option and (network == "mastodon" or (network in ("x", "sim") and not private)):
        return int(option)
    return default_limit(network, private=private)


def _mention(network: str, customer: Author) -> str:
    """Mastodon's connector starts every reply with the customer's @acct: count it."""
    return f"@{customer.handle.lstrip('@')} " if network == "mastodon" else ""


def _without_mention(text: str, mention: str) -> str:
    """The text without the customer's mention typed first (`prefix` puts it on every part)."""
    acct = mention.strip().lstrip("@")
    if acct:
        forms = "|".join(re.escape(f) for f in {acct, acct.split("@")[0]})
        typed = re.match(rf"\s*@(?:{forms})(?![\w@.-])[\s,:]*", text, re.IGNORECASE)
        if typed:
            return text[typed.end() :].strip()
    return text.strip()


def _parts(
    body: str, *, network: str, limit: int, private: bool, signature: str, prefix: str
) -> tuple[list[Part], Problem | None]:
    """The posts for `body` signed with the policy's `signature` (kept once, on the last)."""
    if not body:
        return [], None
    core, tail = body, missing_signature(body, signature)
    mark = signature.strip()
    if mark and body.endswith(mark) and len(body) > len(mark) and body[-len(mark) - 1].isspace():
        core = body[: -len(mark)].rstrip()  # typed by the agent: still glued to the last word
        tail = body[len(core) :]
    try:
        texts = split_thread(
            core, network=network, limit=limit, private=private, signature=tail, prefix=prefix
        )
        problem = None
    except InvalidInput as exc:
        texts, problem = [f"{prefix}{core}{tail}"], Problem("too_long", str(exc))
    parts = []
    for text in texts:
        m = measure(network, text, limit=limit, private=private)
        parts.append(Part(text, m.length, m.limit, m.over))
    return parts, problem


def _cost(network: str, parts: list[Part], *, private: bool, prices: Prices | None) -> CostEstimate:
    ops: dict[str, int] = {}
    total = 0.0
    for part in parts:
        one = estimate(network, part.text, private=private, overrides=prices)
        total += one.cost
        for op, n in one.ops:
            ops[op] = ops.get(op, 0) + n
    return CostEstimate(network, sorted(ops.items()), total)


def compose(
    session: Session,
    *,
    case_id: int,
    agent: Agent,
    text: str = "",
    private: bool = False,
    template_id: int | None = None,
    variables: Mapping[str, str] | None = None,
    prices: Prices | None = None,
) -> Composition:
    """What sending `text` (or the template) on the case would do, without sending it."""
    target = reply_target(session, case_id=case_id, private=private)
    network, account, customer = target.case.network, target.account, target.customer
    lang = _language(target, agent)
    words = _words(agent)
    values = case_variables(target, agent=agent, given=variables)
    rendered = None
    if template_id is not None:
        template = get_template(session, template_id=template_id)
        rendered = RenderedTemplate(
            template.id, template.name, template.language, render(template.body, values)
        )
    prefix = _mention(network, customer)
    body = _without_mention(text if text.strip() or rendered is None else rendered.text, prefix)
    policy = signature_for(agent=agent, options=account.options)
    signature = missing_signature(body, policy) if body else ""
    limit = _limit(network, account, private=private)
    whole = measure(network, f"{prefix}{body}{signature}", limit=limit, private=private)
    parts, problem = _parts(
        body, network=network, limit=limit, private=private, signature=policy, prefix=prefix
    )
    problems = [Problem("empty", words["empty"])] if not body else []
    if problem is not None:
        problems.append(Problem(problem.code, words["too_long"]))
    found = [
        PersonalData(f.kind, f.start, f.end, f.value)
        for f in sorted(find_personal_data(body), key=lambda f: f.start)
    ]
    blocked = bool(found) and not private
    switch = None
    if blocked:
        switch = _switch(target, agent=agent, body=body, values=values, lang=lang, prefix=prefix)
    kind = "private_message" if private else "public_reply"
    handle = values["customer_handle"] or ""
    return Composition(
        case_id=case_id,
        network=network,
        private=private,
        destination=Destination(
            kind=kind,
            label=words["private" if private else "public"]
            % {"handle": handle, "network": NETWORK_LABELS.get(network, network)},
            network=network,
            account_handle=account.handle,
            customer_handle=handle,
            in_reply_to_id=None if private else target.message.external_id,
            recipient_id=customer.external_id if private else None,
        ),
        text=f"{body}{signature}",
        signature=signature,
        length=whole,
        split=len(parts) > 1,
        parts=parts,
        personal_data=found,
        blocked=blocked,
        switch=switch,
        cost=_cost(network, parts, private=private, prices=prices),
        template=rendered,
        problems=problems,
    )


def _switch(
    target: ReplyTarget,
    *,
    agent: Agent,
    body: str,
    values: Mapping[str, str | None],
    lang: str,
    prefix: str,
) -> PrivateSwitch:
    network, account = target.case.network, target.account
    signature = signature_for(agent=agent, options=account.options)
    private_limit = _limit(network, account, private=True)
    private_parts, _ = _parts(
        body,
        network=network,
        limit=private_limit,
        private=True,
        signature=signature,
        prefix=prefix,
    )
    invitation = render(default_body("private", lang), values)
    invitation += missing_signature(invitation, signature)
    public_limit = _limit(network, account, private=False)
    m = measure(network, f"{prefix}{invitation}", limit=public_limit)
    return PrivateSwitch(
        private_text=body + missing_signature(body, signature),
        private_parts=private_parts,
        invitation_text=invitation,
        invitation=Part(f"{prefix}{invitation}", m.length, m.limit, m.over),
        dm_link=dm_link(network, account),
    )


def card_for_case(
    session: Session,
    *,
    case_id: int,
    agent: Agent,
    text: str = "",
    template_id: int | None = None,
    variables: Mapping[str, str] | None = None,
    title: str | None = None,
) -> bytes:
    """The answer card (PNG) for a text or template on this case, titled and branded."""
    target = reply_target(session, case_id=case_id, private=False)
    values = case_variables(target, agent=agent, given=variables)
    words = _words(agent)
    if template_id is not None and not text.strip():
        template = get_template(session, template_id=template_id)
        text = render(template.body, values)
        title = title or template.name
    if not text.strip():
        raise InvalidInput("an answer card needs a text or a template")
    brand = values["brand"] or target.account.handle
    return render_card(text, title=title or words["card_title"], brand=brand)
