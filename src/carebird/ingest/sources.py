"""Turn the desk's stored accounts into live connectors: one per inbound stream, one sender
per account, each with the account's cost meter."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from carebird.config import Settings
from carebird.db.database import Database
from carebird.errors import CarebirdError
from carebird.ingest.accounts import account_spec
from carebird.ingest.base import Connector, HasTextLimit
from carebird.ingest.models import NetworkAccount
from carebird.ingest.usage import DbMeter, prices_for
from carebird.plugins import connector_class

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    connector: Connector
    account_id: int
    meter: DbMeter


@dataclass(frozen=True)
class AccountConnectors:
    sources: list[Source]
    senders: dict[str, Connector]  # "network:handle" -> a connector that can send


def account_connectors(db: Database, settings: Settings) -> AccountConnectors:
    """Connectors for every active account that has credentials (the simulator has none)."""
    with db.session() as session:
        accounts = list(
            session.scalars(
                select(NetworkAccount).where(
                    NetworkAccount.active.is_(True), NetworkAccount.credentials.is_not(None)
                )
            )
        )
        session.expunge_all()
    sources: list[Source] = []
    senders: dict[str, Connector] = {}
    for account in accounts:
        cls = connector_class(account.network)
        spec = account_spec(db, account, secret_key=settings.secret_key)
        meter = DbMeter(
            db,
            account_id=account.id,
            prices=prices_for(account.network, settings.prices),
            cap=account.monthly_cap,
        )
        streams = list(cls.streams(spec))
        connectors = [cls(spec, stream, meter=meter) for stream in streams]
        sources += [Source(c, account.id, meter) for c in connectors]
        if connectors:
            senders[f"{account.network}:{account.handle}"] = connectors[0]
            _remember_limit(db, account.id, connectors[0])
    return AccountConnectors(sources, senders)


def _remember_limit(db: Database, account_id: int, connector: Connector) -> None:
    """Store the server's post length limit (a Mastodon instance's max_characters) on the
    account, so the composer counts against it; the network's default stands if unreachable."""
    if not isinstance(connector, HasTextLimit) or connector.network != "mastodon":
        return
    try:
        limit = int(connector.text_limit())
    except CarebirdError as exc:
        log.warning("%s: the server's length limit is unknown for now: %s", connector.source, exc)
        return
    with db.session() as session, session.begin():
        row = session.get(NetworkAccount, account_id)
        if row is not None and (row.options or {}).get("instance_char_limit") != limit:
            row.options = {**(row.options or {}), "instance_char_limit": limit}
