"""Settings are built once and passed down: every entry point uses the desk's configured
classifier, priority weights and reopen window — none falls back on a default of its own.

The configured classifier here is a plugin that files every text as a suggestion, which the
shipped model never does for these complaints; so a message filed otherwise went through a
default. Before the flows, `carebird import`, `carebird simulate` and the threading of sent
replies all used a cached default classifier, and an agent's category correction re-scored the
case with the default weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from sqlalchemy import select

from carebird.cases.models import Case
from carebird.cases.priority import DEFAULT_WEIGHTS
from carebird.cli.main import cli
from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.intake import Intake
from carebird.flows.replies import queue_reply, send_pending
from carebird.ingest.models import Message
from carebird.understand.classifier import GROUP, TextScores
from carebird.understand.labels import CATEGORIES, SENTIMENTS
from carebird.web.app import create_app
from tests.factories import TestClient, agent_with_token, bearer, case_of, customer, ingest, item
from tests.support.scripted import ScriptedNetwork

COMPLAINT = "@Brand my parcel never arrived, this is a disgrace, I want a refund now"


class SuggestionsOnly:
    """A stand-in for a desk's own model: every text is a suggestion."""

    name = "suggestions-only"

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = model_path

    def classify(self, texts: Sequence[str]) -> list[TextScores]:
        return [
            TextScores(
                category="suggestion",
                category_scores={c: float(c == "suggestion") for c in CATEGORIES},
                sentiment="neutral",
                sentiment_scores={s: float(s == "neutral") for s in SENTIMENTS},
                complaint=0.0,
            )
            for _ in texts
        ]


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin registered, and chosen by the settings (as CAREBIRD_CLASSIFIER does)."""
    plugin = EntryPoint(name="suggestions-only", group=GROUP, value=f"{__name__}:SuggestionsOnly")
    monkeypatch.setattr(
        "carebird.plugins.entry_points", lambda group: [*entry_points(group=group), plugin]
    )
    monkeypatch.setenv("CAREBIRD_CLASSIFIER", "suggestions-only")
    monkeypatch.setenv("CAREBIRD_ENV", "dev")


def categories(db: Database, direction: str = "in") -> set[str | None]:
    with db.session() as s:
        return set(s.scalars(select(Message.category).where(Message.direction == direction)))


def test_carebird_import_uses_the_configured_classifier(
    configured: None, db_url: str, db: Database, tmp_path: Path
) -> None:
    csv_file = tmp_path / "t.csv"
    csv_file.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        f"1,cust1,True,Tue Oct 31 22:10:47 +0000 2017,{COMPLAINT},,\n"
        "2,cust2,True,Tue Oct 31 22:11:47 +0000 2017,@Brand my train is cancelled again,,\n"
    )
    result = CliRunner().invoke(cli, ["--database", db_url, "import", str(csv_file), "--json"])
    assert result.exit_code == 0, result.output
    assert categories(db) == {"suggestion"}


def test_carebird_simulate_uses_the_configured_classifier(
    configured: None, db_url: str, db: Database
) -> None:
    result = CliRunner().invoke(cli, ["--database", db_url, "simulate", "--count", "60"])
    assert result.exit_code == 0, result.output
    assert categories(db) == {"suggestion"}


def test_a_sent_reply_is_threaded_with_the_configured_intake(db: Database) -> None:
    """Recording the desk's own post re-scores its case: with the desk's weights."""
    zero = dict.fromkeys(DEFAULT_WEIGHTS, 0.0)
    intake = Intake.from_settings(Settings(priority_weights=zero))
    ingest(db, [item(customer(1), COMPLAINT, external_id="c1")])
    case_id = case_of(db, "c1")
    with db.session() as s, s.begin():
        before = s.get_one(Case, case_id).priority
        queue_reply(s, case_id=case_id, text="@cust1 Nous regardons.")
    assert before > 5  # scored with the defaults at intake
    assert send_pending(db, {"x": ScriptedNetwork()}, intake=intake) == 1
    with db.session() as s:
        assert s.get_one(Case, case_id).priority == 0.0
        assert s.scalar(select(Message.case_id).where(Message.direction == "out")) == case_id


def test_a_category_correction_rescores_with_the_configured_weights(
    settings: Settings, db: Database
) -> None:
    ingest(db, [item(customer(1), COMPLAINT, external_id="w1")])
    case_id = case_of(db, "w1")
    zero = dict.fromkeys(DEFAULT_WEIGHTS, 0.0)
    app: FastAPI = create_app(settings.model_copy(update={"priority_weights": zero}), db=db)
    _, token = agent_with_token(db, "agent")
    with TestClient(app) as client:
        done = client.patch(
            f"/api/cases/{case_id}", json={"category": "question"}, headers=bearer(token)
        )
    assert done.status_code == 200, done.text
    with db.session() as s:
        case = s.get(Case, case_id)
        assert case is not None and case.category == "question"
        # The default weights would give it points (triage step, waiting); these give none.
        assert case.priority == 0.0, case.priority_reasons
