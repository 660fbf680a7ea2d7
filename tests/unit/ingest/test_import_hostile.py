"""Hostile import files through `carebird import`, on SQLite and PostgreSQL: control
characters in any field, an unterminated quote, absurdly wide rows. Bad input costs at most
its own row, is reported with its line, and never aborts a batch."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from carebird.cli.main import cli
from carebird.db.database import Database
from carebird.ingest.models import Author, Message, NetworkAccount

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"
T0 = datetime(2017, 10, 31, 10, 0, tzinfo=UTC)


def at(n: int) -> str:
    return (T0 + timedelta(seconds=n)).strftime("%a %b %d %H:%M:%S +0000 %Y")


def run_import(db_url: str, path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["--database", db_url, "import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    assert summary["rows_read"] == (
        summary["stored"] + summary["already_present"] + summary["skipped_count"]
    )
    return summary


def write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode())
    return path


def stored(db_url: str) -> dict[str, Message]:
    db = Database(db_url)
    try:
        with db.session() as s:
            return {m.external_id: m for m in s.scalars(select(Message))}
    finally:
        db.dispose()


def test_a_nul_in_an_author_id_costs_no_row(db_url: str, tmp_path: Path) -> None:
    rows = [f"{n},cust{n % 300},True,{at(n)},@acme help {n},," for n in range(1, 5001)]
    rows[2499] = f"2500,cust\x0042,True,{at(2500)},@acme help 2500,,"
    rows[3999] = f"4000,cust7,True,{at(4000)},@acme \x00hi\x1b,\x00,"  # text and raw too
    summary = run_import(db_url, write(tmp_path / "nul.csv", rows))
    assert (summary["stored"], summary["skipped"]) == (5000, [])
    got = stored(db_url)
    assert len(got) == 5000
    assert got["4000"].text == "@acme hi" and got["4000"].raw["response_tweet_id"] == ""
    db = Database(db_url)
    try:
        with db.session() as s:
            ids = set(s.scalars(select(Author.external_id)))
    finally:
        db.dispose()
    assert "cust42" in ids and not any("\x00" in i for i in ids)
    assert run_import(db_url, tmp_path / "nul.csv")["already_present"] == 5000  # rerun is fine


def test_json_lines_with_control_characters_in_every_field(db_url: str, tmp_path: Path) -> None:
    def line(n: int, **over: Any) -> str:
        obj = {
            "network": "x",
            "external_id": str(n),
            "author": {"external_id": f"a{n}", "handle": f"h{n}", "display_name": "D"},
            "text": f"@acme hello {n}",
            "created_at": (T0 + timedelta(seconds=n)).isoformat(),
            "account_handle": "acme",
        } | over
        return json.dumps(obj)

    lines = [line(n) for n in range(1, 1501)]
    lines[100] = line(
        101,
        author={"external_id": "a\x00101", "handle": "h\x00\x07101", "display_name": "D\x00"},
        account_handle="ac\x00me",
        in_reply_to_id="1\x00",
        conversation_id="\x001",
        language="fr\x00",
        metrics={"li\x00kes": 2},
        raw={"k\x00ey": ["v\x00", {"deep\x01": "x\x1f"}], "ok": 1},
    )
    lines[200] = line(201, direction="out", account_handle="desk\x002", text="@h1 done")
    path = tmp_path / "ctl.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = run_import(db_url, path)
    assert (summary["stored"], summary["skipped"]) == (1500, [])
    m = stored(db_url)["101"]
    assert m.raw == {"key": ["v", {"deep": "x"}], "ok": 1}
    assert (m.in_reply_to_id, m.conversation_id, m.language) == ("1", "1", "fr")
    assert m.metrics == {"likes": 2}
    db = Database(db_url)
    try:
        with db.session() as s:
            author = s.scalar(select(Author).where(Author.id == m.author_id))
            handles = set(s.scalars(select(NetworkAccount.handle)))
    finally:
        db.dispose()
    assert author is not None and (author.external_id, author.handle) == ("a101", "h101")
    assert handles == {"acme", "desk2"} and m.account_id is not None


def test_an_unterminated_quote_is_reported_and_the_next_rows_kept(
    db_url: str, tmp_path: Path
) -> None:
    rows = [
        f"1,cust1,True,{at(1)},@acme hello,,",  # line 2
        f'2,cust2,True,{at(2)},"@acme it says ""no signal,,',  # line 3: the quote never ends
        f"3,cust3,True,{at(3)},@acme still down,,",
        f"4,cust4,True,{at(4)},@acme me too,,",
        f'5,cust5,True,{at(5)},"@acme two\nlines, quoted",,',  # lines 6-7: a real multi-line
        f"6,cust6,True,{at(6)},@acme and me,,",
        f'7,cust7,True,{at(7)},@acme "quoted" words,,',
    ]
    summary = run_import(db_url, write(tmp_path / "quote.csv", rows))
    assert [s["line"] for s in summary["skipped"]] == [3]
    assert "unterminated quote" in summary["skipped"][0]["reason"]
    got = stored(db_url)
    assert sorted(got, key=int) == ["1", "3", "4", "5", "6", "7"]
    assert got["5"].text == "@acme two\nlines, quoted" and got["7"].text == '@acme "quoted" words'


def test_an_unterminated_quote_at_the_end_of_the_file(db_url: str, tmp_path: Path) -> None:
    rows = [f"1,cust1,True,{at(1)},@acme hello,,", f'2,cust2,True,{at(2)},"@acme oops,,']
    summary = run_import(db_url, write(tmp_path / "eof.csv", rows))
    assert summary["stored"] == 1 and [s["line"] for s in summary["skipped"]] == [3]
    assert "unterminated quote" in summary["skipped"][0]["reason"]


def test_unknown_columns_are_kept_bounded_in_raw(db_url: str, tmp_path: Path) -> None:
    extra = [f"extra{i}" for i in range(40)]
    header = ",".join([HEADER, *extra])
    rows = [
        ",".join([f"{n},cust{n},True,{at(n)},@acme hi {n},,", *(["v" * 300] * 40)])
        for n in range(1, 11)
    ]
    summary = run_import(db_url, write(tmp_path / "wide.csv", rows, header=header))
    assert (summary["stored"], summary["skipped"]) == (10, [])
    raw = stored(db_url)["3"].raw
    assert {k: raw[k] for k in HEADER.split(",")} == {
        "tweet_id": "3",
        "author_id": "cust3",
        "inbound": "True",
        "created_at": at(3),
        "text": "@acme hi 3",
        "response_tweet_id": "",
        "in_response_to_tweet_id": "",
    }
    extras = {k: v for k, v in raw.items() if k.startswith("extra")}
    assert len(json.dumps(extras)) <= 4096
    assert len(extras) == 8 and all(v == "v" * 256 + "…" for v in extras.values())
    assert raw["_dropped_columns"] == 32


def test_an_absurdly_wide_file_keeps_its_rows_with_a_bounded_raw(
    db_url: str, tmp_path: Path
) -> None:
    header = ",".join([HEADER, *(f"c{i}" for i in range(50_000))])
    rows = [",".join([f"{n},cust{n},True,{at(n)},@acme hi,,", *("x" * 50_000)]) for n in (1, 2)]
    summary = run_import(db_url, write(tmp_path / "absurd.csv", rows, header=header))
    assert (summary["stored"], summary["skipped"]) == (2, [])
    for message in stored(db_url).values():
        assert len(json.dumps(message.raw)) <= 4096
        assert message.raw["_dropped_columns"] == 50_000 - 8
