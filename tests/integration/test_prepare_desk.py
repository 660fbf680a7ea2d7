"""Web processes starting together: the one that loses the race for the first admin finds the
winner's admin, whether the unique key or the e-mail check told it (both engines)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from carebird.auth import service
from carebird.auth.models import Agent, Team
from carebird.cli.desk import prepare_desk
from carebird.config import Settings
from carebird.db.database import Database


def test_the_loser_of_the_first_admin_race_finds_the_winners_admin(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service.ensure_admin
    calls = []

    def racing(session, *, email, password=None):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            # Our check saw no admin; another process then committed its own; our insert's
            # e-mail check sees it (the Conflict the cluster test met).
            with db.session() as other, other.begin():
                real(other, email=email, password="the winner's password 1")
            service.create_agent(
                session, email=email, name="Administrator", password=None, role="admin"
            )
        return real(session, email=email, password=password)

    monkeypatch.setattr(service, "ensure_admin", racing)
    admin, password = prepare_desk(db, settings, ("Escalations",))
    assert len(calls) == 2 and password is None  # the winner's password is not ours to print
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Agent)) == 1
        assert admin.email == s.scalar(select(Agent.email))
        assert s.scalars(select(Team.name)).all() == ["Escalations"]
