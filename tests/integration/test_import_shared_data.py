"""Importing the real TWCS files of ../shared/data: every row kept, texts intact, idempotent.

Expected values come from an independent pass over the CSV (below), sharing no code with the
importer. It has to cope with the files' quirk: pandas wrote them with a ``\\n`` terminator,
so a text holding a bare ``\\r`` is *not* quoted (tweet 3399 of head5k, six SpotifyCares
tweets) and a plain ``csv.reader`` cuts those records at the ``\\r``. The independent pass
therefore turns every ``\\r`` into NUL (which Python's csv module keeps as data) and back.

SpotifyCares (15,096 rows) runs on SQLite only: about 3 s there against about 10 s on
PostgreSQL (8,700 cases opened one INSERT at a time by the threading), and PostgreSQL is
already covered by head5k and the Kaggle sample.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from carebird.cases.models import Case
from carebird.db.database import Database
from carebird.flows.importing import import_file
from carebird.ingest.models import Author, Message
from tests.factories import intake_for
from tests.support.shared import shared_data

WINDOW = timedelta(days=7)


def independent_rows(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert b"\x00" not in data
    text = data.decode("utf-8").replace("\r", "\x00")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return [{k: v.replace("\x00", "\r") for k, v in row.items()} for row in rows]


def stored(db: Database) -> dict[str, tuple[str, str]]:
    with db.session() as s:
        rows = s.execute(select(Message.external_id, Message.direction, Message.text))
        return {ext: (direction, text) for ext, direction, text in rows}


def check_same_as_file(db: Database, path: Path) -> list[dict[str, str]]:
    rows = independent_rows(path)
    got = stored(db)
    assert len(got) == len(rows)
    for row in rows:
        direction, text = got[str(int(row["tweet_id"]))]
        assert text == row["text"], row["tweet_id"]
        assert direction == ("in" if row["inbound"] == "True" else "out"), row["tweet_id"]
    return rows


def test_head5k(db: Database) -> None:
    path = shared_data("twcs-head5k/twcs.csv")
    report = import_file(db, path, intake=intake_for())
    assert (report.rows_read, report.stored, report.already_present) == (5000, 5000, 0)
    assert report.skipped == []
    rows = check_same_as_file(db, path)
    assert sum(r["inbound"] == "True" for r in rows) == sum(
        d == "in" for d, _ in stored(db).values()
    )

    # Tweet 3399, read straight from the bytes of its physical line (its text has no comma).
    line = next(x for x in path.read_bytes().split(b"\n") if x.startswith(b"2484,3399,"))
    expected = line.split(b",")[5].decode()
    assert "\r\r" in expected
    assert stored(db)["3399"][1] == expected
    with open(path, newline="", encoding="utf-8") as fh:  # what a plain csv.reader would do
        assert sum(1 for _ in csv.reader(fh)) == 5001 + 2

    with db.session() as s:
        count = select(func.count())
        brand_cases = count.select_from(Case).join(Author, Author.id == Case.customer_id)
        assert s.scalar(brand_cases.where(Author.is_brand)) == 0  # cases are customers'
        assert s.scalar(count.select_from(Author).where(Author.is_brand)) == 76
        assert s.scalar(count.select_from(Case)) == report.cases_created

    again = import_file(db, path, intake=intake_for())
    assert (again.stored, again.already_present, again.cases_created) == (0, 5000, 0)
    assert again.skipped == []
    assert len(stored(db)) == 5000


def test_kaggle_sample(db: Database) -> None:
    path = shared_data("twcs-kaggle-sample/sample.csv")
    report = import_file(db, path, intake=intake_for())
    assert (report.rows_read, report.stored, report.skipped) == (93, 93, [])
    check_same_as_file(db, path)


def test_spotifycares_on_sqlite(sqlite_template: Path, tmp_path: Path) -> None:
    path = shared_data("twcs-spotifycares-requests/support_requests.csv")
    shutil.copyfile(sqlite_template, tmp_path / "spotify.db")
    db = Database(f"sqlite:///{tmp_path / 'spotify.db'}")
    try:
        report = import_file(db, path, intake=intake_for())
        assert (report.rows_read, report.stored, report.skipped) == (15096, 15096, [])
        rows = check_same_as_file(db, path)
        assert sum("\r" in r["text"] for r in rows) == 8
        assert {d for d, _ in stored(db).values()} == {"in"}
    finally:
        db.dispose()
