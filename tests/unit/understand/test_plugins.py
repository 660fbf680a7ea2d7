"""Classifiers are an extension point: a plugin replaces the default without touching the rest."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest
from sqlalchemy import select

from carebird.db.database import Database
from carebird.ingest.models import Message
from carebird.understand import classifier as classifier_module
from carebird.understand.classifier import TextScores, load_classifier
from carebird.understand.labels import CATEGORIES, SENTIMENTS
from carebird.understand.service import Understander
from tests.factories import customer, item


class ShoutingClassifier:
    """A stand-in 'heavier model': every text in capitals is a complaint."""

    name = "shouting"

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = model_path

    def classify(self, texts: Sequence[str]) -> list[TextScores]:
        out = []
        for t in texts:
            cat = "complaint" if t.isupper() else "praise"
            out.append(
                TextScores(
                    category=cat,
                    category_scores={c: float(c == cat) for c in CATEGORIES},
                    sentiment="negative",
                    sentiment_scores={s: float(s == "negative") for s in SENTIMENTS},
                    complaint=float(cat == "complaint"),
                )
            )
        return out


def test_a_registered_classifier_is_used_by_the_pipeline(
    monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    fake = EntryPoint(
        name="shouting", group=classifier_module.GROUP, value=f"{__name__}:ShoutingClassifier"
    )
    monkeypatch.setattr(  # the one plugin loader reads the entry points
        "carebird.plugins.entry_points", lambda group: [*entry_points(group=group), fake]
    )
    plugin = load_classifier("shouting")
    assert isinstance(plugin, ShoutingClassifier)
    understander = Understander(plugin)
    from carebird.cases.priority import DEFAULT_WEIGHTS
    from carebird.flows.intake import Intake, process_batch
    from tests.factories import WINDOW

    with db.session() as s, s.begin():
        process_batch(
            s,
            [
                item(customer(1), "WHERE IS MY PARCEL", external_id="a"),
                item(customer(2), "lovely day", external_id="b"),
            ],
            intake=Intake(understander, WINDOW, DEFAULT_WEIGHTS),
        )
    with db.session() as s:
        cats = dict(s.execute(select(Message.external_id, Message.category)).all())
    assert cats == {"a": "complaint", "b": "praise"}


def test_the_heavier_classifier_says_how_to_install_it() -> None:
    from carebird.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"carebird\[embeddings\]"):
        load_classifier("embeddings")


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    from carebird.errors import InvalidInput

    with pytest.raises(InvalidInput, match="not found"):
        load_classifier("builtin", model_path=tmp_path / "nope.npz")
