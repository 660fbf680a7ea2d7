"""The `carebird` group and the context every command receives (settings, databases)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from carebird.config import Settings, load_settings
from carebird.db.database import Database

if TYPE_CHECKING:
    from carebird.flows.intake import Intake


class Context:
    def __init__(self, database: str | None) -> None:
        self._database = database
        self._settings: Settings | None = None
        self._databases: list[Database] = []
        self._intake: Intake | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(database_url=self._database)
        return self._settings

    def db(self, *, upgrade: bool = True) -> Database:
        db = Database(self.settings.database_url)
        self._databases.append(db)
        if upgrade:
            db.upgrade()
        return db

    def close(self) -> None:
        for db in self._databases:
            db.dispose()

    @property
    def intake(self) -> Intake:
        """The desk's intake from its settings (classifier, weights, reopen window), built once."""
        if self._intake is None:
            from carebird.flows.intake import Intake

            self._intake = Intake.from_settings(self.settings)
        return self._intake


pass_ctx = click.make_pass_decorator(Context)


@click.group()
@click.option("--database", envvar="CAREBIRD_DATABASE_URL", help="SQLAlchemy database URL.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress.")
@click.pass_context
def cli(ctx: click.Context, database: str | None, verbose: bool) -> None:
    """carebird: a self-hosted social customer-care desk."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Context(database)
    ctx.call_on_close(ctx.obj.close)
