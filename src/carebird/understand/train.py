"""Training models from a CSV of labelled texts or from the desk's own corrections."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from carebird.errors import InvalidInput
from carebird.understand.decision import calibrate
from carebird.understand.defaults import corpus_rows, default_decision, train_default
from carebird.understand.labels import TASKS
from carebird.understand.model import TextModel, train_head, train_heads


def read_labelled_csv(
    path: Path, *, text_column: str, label_column: str
) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {text_column, label_column} - set(reader.fieldnames or [])
        if missing:
            raise InvalidInput(f"{path}: no column {', '.join(sorted(missing))}")
        for row in reader:
            text, label = (row.get(text_column) or "").strip(), (row.get(label_column) or "")
            if text and label.strip():
                texts.append(text)
                labels.append(label.strip())
    if not texts:
        raise InvalidInput(f"{path}: no labelled rows")
    return texts, labels


def read_texts(path: Path, *, text_column: str | None) -> list[str]:
    """One text per line, or a CSV column when `text_column` is given."""
    if text_column is None:
        raw = path.read_bytes().decode("utf-8", "replace")
        return [line for line in raw.split("\n") if line.strip()]
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.DictReader(fh)
        if text_column not in (reader.fieldnames or []):
            raise InvalidInput(f"{path}: no column {text_column!r}")
        return [row.get(text_column) or "" for row in reader]


def check_labels(task: str, labels: list[str]) -> None:
    allowed = TASKS.get(task)
    if allowed is None:
        raise InvalidInput(f"unknown task {task!r}: {', '.join(TASKS)}")
    wrong = sorted(set(labels) - set(allowed))
    if wrong:
        raise InvalidInput(f"labels {wrong} are not {task} labels ({', '.join(allowed)})")


def train_from_csv(path: Path, *, text_column: str, label_column: str, task: str) -> TextModel:
    texts, labels = read_labelled_csv(path, text_column=text_column, label_column=label_column)
    if task == "complaint":  # accept 1/0, true/false, complaint/other
        labels = [
            "1" if lab.lower() in ("1", "true", "yes", "complaint") else "0" for lab in labels
        ]
    check_labels(task, labels)
    head = train_head(task, texts, labels, trained_on=str(path.name))
    model = TextModel(heads={task: head})
    if task == "category" and min(labels.count(c) for c in set(labels)) >= 2:
        model.decision = calibrate(texts, labels)  # thresholds by CV over this CSV
    return model


def train_corpus() -> TextModel:
    """The shipped model: the default recipe on the project corpus, with its decision rule
    chosen by cross-validation over the same corpus (`carebird train --corpus`)."""
    rows = corpus_rows()
    model = train_default()
    model.decision = calibrate([r["text"] for r in rows], [r["category"] for r in rows])
    return model


def train_with_corrections(corrections: Sequence[tuple[str, str]], *, weight: int) -> TextModel:
    """Category and complaint heads from the shipped corpus plus (text, category) corrections,
    each counted `weight` times; the sentiment head stays the shipped one."""
    rows = corpus_rows()
    texts = [r["text"] for r in rows]
    cats = [r["category"] for r in rows]
    for text, label in corrections:
        texts.extend([text] * weight)
        cats.extend([label] * weight)
    check_labels("category", cats)
    source = f"carebird corpus + {len(corrections)} agent corrections x{weight}"
    heads = train_heads(
        texts,
        {"category": cats, "complaint": ["1" if c == "complaint" else "0" for c in cats]},
        trained_on=source,
    )
    # The corpus outweighs the corrections: the shipped rule's thresholds still apply.
    return TextModel(heads=heads, decision=default_decision().as_dict())


def train_from_desk(session: Session) -> TextModel:
    """The fast tier from the shipped corpus plus every agent correction (no evaluation;
    `carebird train --from-desk` goes through carebird.understand.learn)."""
    from carebird.understand.learn import CORRECTION_WEIGHT, desk_corrections

    corrections = desk_corrections(session)
    if not corrections:
        raise InvalidInput("no category corrections stored yet: nothing new to learn")
    return train_with_corrections(corrections, weight=CORRECTION_WEIGHT)
