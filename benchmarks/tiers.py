"""The fast tier (`builtin`) beside the accurate tier on data neither was trained on: the
project's 600 hand-labelled messages (categories), TweetEval's English and XLM-T's French
validation sets (sentiment), and how often the two tiers agree on simulated traffic.

Run from the repository root:

    .venv/bin/python -m benchmarks.tiers [--data ../shared/data]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from sklearn.metrics import accuracy_score, f1_score

from carebird.understand.classifier import Classifier, load_classifier
from carebird.understand.evaluate import SENTIMENT_CODES, read_csv_records
from carebird.understand.labels import CATEGORIES, SENTIMENTS

LABELS = Path("tests/data/category_labels.csv")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def hand_labelled(data: Path) -> tuple[list[str], list[str]]:
    texts = {
        ("twcs", r["tweet_id"]): r["text"] for r in read_csv_records(data / "twcs-head5k/twcs.csv")
    }
    texts.update(
        (("free-mobile", r["tweet_id"]), r["text"])
        for r in read_csv_records(data / "free-mobile-tweets-fr/free_tweet_export.csv")
    )
    with LABELS.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if (r["dataset"], r["id"]) in texts]
    return [texts[(r["dataset"], r["id"])] for r in rows], [r["category"] for r in rows]


def sentiment_set(folder: Path) -> tuple[list[str], list[str]]:
    texts = _lines(folder / "val_text.txt")
    return texts, [SENTIMENT_CODES[x.strip()] for x in _lines(folder / "val_labels.txt")]


def figures(clf: Classifier, data: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    texts, gold = hand_labelled(data)
    pred = [s.category for s in clf.classify(texts)]
    out["categories_hand_labelled"] = {
        "n": len(gold),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "macro_f1": round(
            float(f1_score(gold, pred, labels=list(CATEGORIES), average="macro", zero_division=0)),
            4,
        ),
    }
    for name, folder in (
        ("sentiment_en_tweeteval_val", "tweeteval-sentiment"),
        ("sentiment_fr_xlmt_val", "xlmt-french-sentiment"),
    ):
        texts, gold = sentiment_set(data / folder)
        pred = [s.sentiment for s in clf.classify(texts)]
        out[name] = {
            "n": len(gold),
            "macro_f1": round(
                float(f1_score(gold, pred, labels=list(SENTIMENTS), average="macro")), 4
            ),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    from carebird.cli.bench import generate

    tiers = {"fast": load_classifier("builtin"), "accurate": load_classifier("accurate")}
    result: dict[str, Any] = {name: figures(clf, args.data) for name, clf in tiers.items()}
    _, items = generate(2000, seed=3)
    sim = [it.text for it in items]
    fast, acc = (tiers[n].classify(sim) for n in ("fast", "accurate"))
    result["agreement_on_simulated_traffic"] = {
        "n": len(sim),
        "category": round(
            sum(a.category == b.category for a, b in zip(fast, acc, strict=True)) / len(sim), 4
        ),
        "sentiment": round(
            sum(a.sentiment == b.sentiment for a, b in zip(fast, acc, strict=True)) / len(sim), 4
        ),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
