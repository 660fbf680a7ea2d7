"""The desk's poller uses the configured classifier and priority weights."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from carebird.cases.models import Case
from carebird.cases.priority import weights_for
from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.intake import Intake
from carebird.ingest.models import Message
from carebird.ingest.sim.network import SimulatedNetwork
from carebird.jobs.runner import poll_forever, register_accounts
from carebird.understand.service import Understander
from tests.unit.understand.test_plugins import ShoutingClassifier


def test_poller_uses_the_desks_understander_and_weights(db: Database, settings: Settings) -> None:
    sim = SimulatedNetwork(seed=4, limit_total=60)
    register_accounts(db, sim)
    flat = settings.model_copy(update={"priority_weights": {"category_step": 1000.0}})

    # The desk's intake: what `serve` builds once from its settings, the plugin as classifier.
    intake = Intake(
        Understander(ShoutingClassifier()),
        timedelta(days=flat.reopen_window_days),
        weights_for(flat.priority_weights),
    )

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(poll_forever(db, sim, settings=flat, stop=stop, intake=intake))
        for _ in range(200):
            await asyncio.sleep(0.05)
            with db.session() as s:
                if len(s.scalars(select(Message.id)).all()) >= 60:
                    break
        stop.set()
        await task

    asyncio.run(run())
    with db.session() as s:
        categories = set(s.scalars(select(Message.category).where(Message.direction == "in")))
        cases = s.execute(select(Case.category, Case.priority)).all()
    assert categories == {"praise"}  # the plugin's answer (no simulated text is all capitals)
    # The desk's weights apply: 1,000 points per triage step (the default is 10).
    assert cases and all(c == "praise" and 1000 <= p < 5000 for c, p in cases)
