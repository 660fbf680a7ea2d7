"""A desk for the workspace's browser tests: one database, one server, one SMTP catcher.

The server runs `carebird serve --simulate` (so replies really go out through the outbox to
the simulated network and come back into the conversation), with e-mail sent to a real SMTP
server on loopback. Tests add their own cases while it runs, written through the pipeline's
store as the poller does, so each case reaches open pages through the live event stream.
"""

from __future__ import annotations

import itertools
import re
import secrets
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page
from sqlalchemy import select

from carebird.auth.models import Team
from carebird.auth.service import create_agent
from carebird.cases.forwarding import create_owner
from carebird.cases.search import indexed_cases
from carebird.db.database import Database
from carebird.flows.intake import BatchReport, after_batch
from carebird.ingest.base import AuthorInfo, InboundItem
from carebird.ingest.models import Message
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.jobs.runner import register_accounts
from carebird.reply.templates import create_template
from tests.browser.conftest import Server, free_port, new_context, running_server, sign_in
from tests.factories import ingest, item, private
from tests.support.smtp import SmtpCatcher

PASSWORD = "correct horse battery"
SUPPORT = "LigneAzur_SAV"  # the simulated brand's support account (replies go out from it)
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Person:
    key: str
    email: str
    name: str
    role: str
    locale: str


PEOPLE = {
    "ana": Person("ana", "ana@example.test", "Ana Lefèvre", "agent", "fr"),
    "ben": Person("ben", "ben@example.test", "Ben Carter", "agent", "en"),
    "sam": Person("sam", "sam@example.test", "Sam Martin", "supervisor", "fr"),
    "vic": Person("vic", "vic@example.test", "Vic Durand", "viewer", "fr"),
}
TEMPLATE_BODY = (
    "Bonjour {customer_name}, votre remboursement du dossier {case_number} "
    "arrive sous {expected_wait}."
)
OWNER = ("Voies Partenaires", "partner@example.test")


@dataclass
class Desk:
    server: Server
    db: Database
    smtp: SmtpCatcher
    agent_ids: dict[str, int]
    team_id: int
    owner_id: int
    states: dict[str, dict[str, object]] = field(default_factory=dict)
    opened: list[BrowserContext] = field(default_factory=list)
    watched: dict[int, tuple[list[str], list[str]]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def add_case(self, texts: Sequence[str | tuple[str, str]], *, followers: int = 10) -> int:
        """A new customer writes `texts` (("dm", text) for a private one); the case's id."""
        n = next(_ids)
        author = person(n, followers=followers)
        items = [
            _message(author, text, minutes=i, external_id=f"b{n}-{i}")
            for i, text in enumerate(texts)
        ]
        report = ingest(self.db, items)
        self._make_live(report)
        with self.db.session() as s:
            case_id = s.scalar(select(Message.case_id).where(Message.external_id == f"b{n}-0"))
        assert case_id is not None
        return int(case_id)

    def _make_live(self, report: BatchReport) -> None:
        """Index and announce the batch unless the pipeline already did (as `poll_once` does)."""
        ids = set(report.new_cases) | set(report.touched_cases)
        with self.db.session() as s, s.begin():
            if not indexed_cases(s, ids):
                after_batch(s, report)

    def context(self, browser: Browser, who: str, **kw: object) -> BrowserContext:
        """A browser signed in as `who` (through the form the first time, then its cookies)."""
        person = PEOPLE[who]
        locale = "fr-FR" if person.locale == "fr" else "en-GB"
        state = self.states.get(who)
        if state is not None:
            context = new_context(browser, locale=locale, storage_state=state, **kw)
        else:
            context = new_context(browser, locale=locale, **kw)
            page = context.new_page()
            sign_in(page, self.url, person.email, PASSWORD)
            self.states[who] = context.storage_state()  # type: ignore[assignment]
            page.close()
        self.opened.append(context)
        return context

    def close_contexts(self) -> None:
        while self.opened:
            self.opened.pop().close()

    def page(
        self, browser: Browser, who: str, path: str = "/", *, accept_dialogs: bool = False
    ) -> Page:
        """A page of `who` at `path`, watched from its first script on (see `problems`)."""
        page = self.context(browser, who).new_page()
        self.watched[id(page)] = watch(page, accept=accept_dialogs)
        page.goto(self.url + path)
        return page

    def problems(self, page: Page) -> tuple[list[str], list[str]]:
        """(script errors, dialogs) seen by a page made with `page()`."""
        return self.watched[id(page)]


FIRST = ["Camille", "Léa", "Hugo", "Inès", "Jules", "Manon", "Nora", "Paul", "Zoé", "Yanis"]
LAST = ["Martin", "Bernard", "Petit", "Durand", "Moreau", "Laurent", "Garnier", "Faure"]


def person(n: int, *, followers: int) -> AuthorInfo:
    """A customer whose name holds no digits (a number after a name reads as a reference)."""
    first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
    letters = "".join(chr(ord("a") + int(d)) for d in str(n))  # 12 → "bc"
    handle = unicodedata.normalize("NFKD", first.lower()).encode("ascii", "ignore").decode()
    return AuthorInfo(f"u{n}", f"{handle}_{letters}", f"{first} {last}", followers, False)


def watch(page: Page, *, accept: bool = False) -> tuple[list[str], list[str]]:
    """Script errors (a CSP violation is a console error) and dialogs the page opened
    (dismissed, or accepted when `accept`)."""
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

    def console(msg: ConsoleMessage) -> None:
        # An API answering 409 or 422 is logged too; the pages handle those on purpose.
        expected = re.match(r"Failed to load resource: .* status of (409|422) ", msg.text)
        if msg.type == "error" and not expected:
            errors.append(f"console: {msg.text} ({msg.location.get('url', '')})")

    def dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        if accept:
            d.accept()
        else:
            d.dismiss()

    page.on("console", console)
    page.on("dialog", dialog)
    return errors, dialogs


def _message(
    author: AuthorInfo, text: str | tuple[str, str], *, minutes: int, external_id: str
) -> InboundItem:
    if isinstance(text, tuple):
        return private(
            author,
            text[1],
            minutes=minutes,
            external_id=external_id,
            network="sim",
            account_handle=SUPPORT,
        )
    return item(
        author,
        text,
        minutes=minutes,
        external_id=external_id,
        network="sim",
        account_handle=SUPPORT,
    )


def seed(db: Database) -> tuple[dict[str, int], int, int]:
    """Accounts, agents, a team, a template with variables and an outside owner."""
    db.upgrade()
    register_accounts(db, SimulatedNetwork(seed=1))
    with db.session() as s, s.begin():
        ids = {
            p.key: create_agent(
                s, email=p.email, name=p.name, password=PASSWORD, role=p.role, locale=p.locale
            ).id
            for p in PEOPLE.values()
        }
        team = Team(name="Facturation")
        s.add(team)
        create_template(
            s,
            name="Remboursement en cours",
            language="fr",
            body=TEMPLATE_BODY,
            tags=["remboursement"],
        )
        owner = create_owner(
            s, name=OWNER[0], email=OWNER[1], organisation="Voies SA", language="fr"
        )
        s.flush()
        return ids, team.id, owner.id


@contextmanager
def running_desk(workdir: Path) -> Iterator[Desk]:
    url = f"sqlite:///{workdir / 'desk.db'}"
    db = Database(url)
    with ExitStack() as stack:
        stack.callback(db.dispose)
        agent_ids, team_id, owner_id = seed(db)
        smtp = stack.enter_context(SmtpCatcher())
        port = free_port()
        server = stack.enter_context(
            running_server(
                "serve",
                "--simulate",
                database_url=url,
                workdir=workdir,
                port=port,
                CAREBIRD_ENV="test",  # plain-HTTP cookies on loopback; a real key still needed
                CAREBIRD_SECRET_KEY=secrets.token_urlsafe(32),
                CAREBIRD_SIM_RATE_PER_HOUR="0.5",  # a quiet network: the tests bring their cases
                CAREBIRD_POLL_INTERVAL_SECONDS="0.5",
                CAREBIRD_SMTP_HOST="127.0.0.1",
                CAREBIRD_SMTP_PORT=str(smtp.port),
                CAREBIRD_PUBLIC_URL=f"http://127.0.0.1:{port}",
                CAREBIRD_MAIL_FROM="desk@example.test",
                CAREBIRD_PRICES='{"sim": {"reply": 0.015}}',  # priced like X, to show the cost
            )
        )
        yield Desk(
            server=server,
            db=db,
            smtp=smtp,
            agent_ids=agent_ids,
            team_id=team_id,
            owner_id=owner_id,
        )
