"""The default model: trained only on the project's own bilingual corpus (`corpus/*.csv`).

It ships prebuilt in `models/default.npz` (arrays and JSON, see `model_store`); if that file
cannot be used, the same model is trained from the corpus once and cached.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import logging
import os
from pathlib import Path

from carebird.errors import InvalidInput
from carebird.understand.decision import Decision, read_beside
from carebird.understand.model import TextModel, load_model, train_heads

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
SHIPPED = HERE / "models" / "default.npz"


def corpus_rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(CORPUS.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                row["lang"] = path.stem
                rows.append(row)
    return rows


def train_default() -> TextModel:
    rows = corpus_rows()
    tasks = {
        "category": [r["category"] for r in rows],
        "sentiment": [r["sentiment"] for r in rows],
        "complaint": ["1" if r["category"] == "complaint" else "0" for r in rows],
    }
    heads = train_heads([r["text"] for r in rows], tasks, trained_on="carebird corpus")
    return TextModel(heads=heads)


@functools.cache
def default_decision() -> Decision:
    """The shipped model's category decision rule, from its JSON description (`carebird train
    --corpus` chooses it); a default model retrained from the corpus follows the same recipe."""
    return read_beside(SHIPPED)


def _cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "carebird" / "default.npz"


@functools.cache
def default_model() -> TextModel:
    for path in (SHIPPED, _cache_path()):
        if path.exists():
            try:
                return load_model(path)
            except InvalidInput as exc:
                log.warning("%s", exc)
    log.warning("training the default model from the shipped corpus (one time)")
    model = train_default()
    with contextlib.suppress(OSError):  # a read-only home only costs retraining next time
        model.save(_cache_path())
    return model
