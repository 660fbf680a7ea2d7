"""Language detection: accuracy per language and messages/s, word lists against py3langid.

Run from the repository root:

    .venv/bin/python -m benchmarks.language [--data ../shared/data] [--detectors words,hybrid]

Sets (expected language in brackets): the project's own corpus (fr, en); real French tweets
(free-mobile-tweets-fr, lower-cased, handles stripped; XLM-T's French sentiment tweets); real
English ones (TWCS customers' tweets, whose few non-English tweets count as errors for
every detector alike; TweetEval; the ACL 2019 complaints); and `tests/data/languages.csv`,
texts written for carebird: requests in 20 other languages, and very short French and
English ones. "fr/en/other" counts a text right when it lands in the right one of those
three buckets ("und" is wrong for every text here: each has words).

Detectors: `words` (carebird's word lists alone), `py3langid-all` (langid.py's model as
shipped in its package, 140 languages), `py3langid` (the same limited to carebird's
`MODEL_LANGUAGES`), `hybrid` (`carebird.understand.language.detect`: the word lists when
they are sure, the limited py3langid otherwise). Speed: every text once, one thread.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from threadpoolctl import threadpool_limits

from carebird.understand import language
from carebird.understand.defaults import corpus_rows

HERE = Path(__file__).resolve().parents[1]
Detector = Callable[[str], str]


def _csv(path: Path, column: str | int, *, header: bool = True) -> Iterator[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = csv.DictReader(fh) if header else csv.reader(fh)
        for row in rows:
            text = row[column]  # type: ignore[index]
            if text and text.strip():
                yield text


def sets(data: Path) -> dict[str, list[tuple[str, str]]]:
    """Name -> [(text, expected language)]."""
    out: dict[str, list[tuple[str, str]]] = {}
    rows = corpus_rows()
    out["corpus fr"] = [(r["text"], "fr") for r in rows if r["lang"] == "fr"]
    out["corpus en"] = [(r["text"], "en") for r in rows if r["lang"] == "en"]
    free = data / "free-mobile-tweets-fr" / "free_tweet_export.csv"
    out["free-mobile fr"] = [(t, "fr") for t in _csv(free, "text")]
    xlmt = data / "xlmt-french-sentiment"
    out["xlmt fr"] = [
        (t, "fr")
        for name in ("train_text.txt", "val_text.txt")
        for t in (xlmt / name).read_text(encoding="utf-8").splitlines()
        if t.strip()
    ]
    twcs = data / "twcs-head5k" / "twcs.csv"
    with twcs.open(encoding="utf-8", newline="") as fh:
        out["twcs customers en"] = [
            (r["text"], "en") for r in csv.DictReader(fh) if r["inbound"] == "True"
        ]
    tweeteval = data / "tweeteval-sentiment" / "val_text.txt"
    out["tweeteval en"] = [
        (t, "en") for t in tweeteval.read_text(encoding="utf-8").splitlines() if t.strip()
    ]
    acl = data / "complaints-acl2019" / "complaints-data.csv"
    out["complaints-acl2019 en"] = [(t, "en") for t in _csv(acl, 1, header=False)]
    mine = list(_csv_rows(HERE / "tests" / "data" / "languages.csv"))
    out["written: other languages"] = [(t, lang) for lang, t in mine if lang not in ("fr", "en")]
    out["written: short fr/en"] = [(t, lang) for lang, t in mine if lang in ("fr", "en")]
    return out


def _csv_rows(path: Path) -> Iterator[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            yield row["lang"], row["text"]


def _bucket(lang: str) -> str:
    return lang if lang in ("fr", "en", "und") else "other"


def _unlimited() -> Detector:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)

    def detect(text: str) -> str:
        text = language._STRIP_FAST.sub(" ", text[:2000])
        if not language._ALPHA.search(text):
            return language.UNDETERMINED
        return str(identifier.classify(text)[0])

    return detect


def detectors(names: list[str]) -> dict[str, Detector]:
    available: dict[str, Callable[[], Detector]] = {
        "words": lambda: language.detect_by_words,
        "py3langid-all": _unlimited,
        "py3langid": lambda: language.detect_by_model,
        "hybrid": lambda: language.detect,
    }
    return {name: available[name]() for name in names}


def measure(data: Path, names: list[str]) -> dict[str, object]:
    all_sets = sets(data)
    figures: dict[str, object] = {"texts": {k: len(v) for k, v in all_sets.items()}}
    every = [t for rows in all_sets.values() for t, _ in rows]
    for name, detect in detectors(names).items():
        detect("warm-up")
        per_set = {}
        for set_name, rows in all_sets.items():
            got = [detect(t) for t, _ in rows]
            exact = sum(g == e for g, (_, e) in zip(got, rows, strict=True))
            bucket = sum(_bucket(g) == _bucket(e) for g, (_, e) in zip(got, rows, strict=True))
            per_set[set_name] = {
                "accuracy": round(exact / len(rows), 4),
                "fr/en/other": round(bucket / len(rows), 4),
                "und": round(sum(g == "und" for g in got) / len(rows), 4),
            }
        with threadpool_limits(limits=1):
            t0 = time.perf_counter()
            for t in every:
                detect(t)
            seconds = time.perf_counter() - t0
        figures[name] = {"msgs_per_s": round(len(every) / seconds), "sets": per_set}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE.parent / "shared" / "data")
    parser.add_argument("--detectors", default="words,py3langid-all,py3langid,hybrid")
    args = parser.parse_args()
    print(json.dumps(measure(args.data, args.detectors.split(",")), indent=2))


if __name__ == "__main__":
    main()
