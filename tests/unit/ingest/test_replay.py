"""The file importer: TWCS CSV quirks, bad input, idempotence, batches, JSON-lines round trip."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from carebird.cases.models import Case
from carebird.db.database import Database
from carebird.errors import InvalidInput
from carebird.flows import importing as replay
from carebird.flows.importing import (
    ImportReport,
    export_jsonl,
    export_jsonl_item,
    import_file,
    stored_items,
)
from carebird.ingest.base import AuthorInfo, Direction, InboundItem, MessageKind
from carebird.ingest.models import Author, Message, NetworkAccount
from tests.factories import intake_for

WINDOW = timedelta(days=7)
HEADER = ",tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"


def at(minute: int) -> str:
    return f"Tue Oct 31 {10 + minute // 60:02d}:{minute % 60:02d}:00 +0000 2017"


def write(tmp_path: Path, lines: list[str], name: str = "twcs.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("\n".join([header, *lines]) + "\n")
    return path


def messages(db: Database) -> dict[str, dict[str, Any]]:
    with db.session() as s:
        rows = s.execute(
            select(Message, Author.handle).join(Author, Author.id == Message.author_id)
        )
        return {
            m.external_id: {
                "direction": m.direction,
                "kind": m.kind,
                "case_id": m.case_id,
                "account_id": m.account_id,
                "author": handle,
                "text": m.text,
                "in_reply_to_id": m.in_reply_to_id,
                "conversation_id": m.conversation_id,
                "raw": m.raw,
            }
            for m, handle in rows
        }


def case_groups(db: Database) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for ext, m in messages(db).items():
        if m["case_id"] is not None:
            groups.setdefault(m["case_id"], set()).add(ext)
    return {frozenset(g) for g in groups.values()}


def check_totals(report: ImportReport) -> None:
    assert report.rows_read == report.stored + report.already_present + len(report.skipped)


# Out of chronological order on purpose (TWCS is not sorted); parent ids as floats.
THREAD = [
    f"0,2,sprintcare,False,{at(1)},@115712 Sorry! Please DM us.,3,1.0",
    f'1,1,115712,True,{at(0)},"@sprintcare my phone, again",2,',
    f"2,3,115712,True,{at(2)},@sprintcare done,,2.0",
    f"3,4,sprintcare,False,{at(3)},Big news today,,",
    f"4,5,115713,True,{at(4)},@SprintCare hello,,",
]


def test_twcs_thread_brand_rows_and_cases(db: Database, tmp_path: Path) -> None:
    report = import_file(db, write(tmp_path, THREAD), intake=intake_for())
    assert (report.rows_read, report.stored, report.skipped, report.cases_created) == (5, 5, [], 2)
    got = messages(db)
    assert {k: (m["direction"], m["kind"]) for k, m in got.items()} == {
        "1": ("in", "mention"),
        "2": ("out", "reply"),
        "3": ("in", "reply"),
        "4": ("out", "own_post"),
        "5": ("in", "mention"),
    }
    assert got["2"]["in_reply_to_id"] == "1" and got["3"]["in_reply_to_id"] == "2"
    assert [got[k]["conversation_id"] for k in "12345"] == ["1", "1", "1", "4", "5"]
    assert got["1"]["case_id"] == got["2"]["case_id"] == got["3"]["case_id"] is not None
    assert got["4"]["case_id"] is None  # the brand's own post opens nothing
    assert got["5"]["case_id"] not in (None, got["1"]["case_id"])
    assert got["1"]["raw"] == {
        "tweet_id": "1",
        "author_id": "115712",
        "inbound": "True",
        "created_at": at(0),
        "text": "@sprintcare my phone, again",
        "response_tweet_id": "2",
        "in_response_to_tweet_id": "",
    }
    with db.session() as s:
        (account,) = s.scalars(select(NetworkAccount)).all()
        assert (account.network, account.handle, account.role) == ("x", "sprintcare", "support")
        brands = set(s.scalars(select(Author.external_id).where(Author.is_brand)))
        assert brands == {"sprintcare"}
        assert {c.account_id for c in s.scalars(select(Case))} == {account.id}
    assert {m["account_id"] for m in got.values()} == {account.id}  # @SprintCare too


def test_reimport_adds_nothing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, THREAD)
    import_file(db, path, intake=intake_for())
    before, groups = messages(db), case_groups(db)
    again = import_file(db, path, intake=intake_for())
    assert (again.stored, again.already_present, again.cases_created) == (0, 5, 0)
    assert messages(db) == before and case_groups(db) == groups
    with db.session() as s:
        assert len(s.scalars(select(NetworkAccount)).all()) == 1


def test_bare_cr_kept_quoted_or_not(db: Database, tmp_path: Path) -> None:
    lines = [
        f'0,1,1001,True,{at(0)},"@acme quoted\rcr and\r\ncrlf",,',
        f"1,2,1002,True,{at(1)},@acme unquoted\r\rlike tweet 3399,,",
        f"2,3,acme,False,{at(2)},@1002 ok,,2.0",
    ]
    report = import_file(db, write(tmp_path, lines), intake=intake_for())
    assert (report.stored, report.skipped) == (3, [])
    got = messages(db)
    assert got["1"]["text"] == "@acme quoted\rcr and\r\ncrlf"
    assert got["2"]["text"] == "@acme unquoted\r\rlike tweet 3399"
    assert got["2"]["raw"]["text"] == got["2"]["text"]


def test_crlf_file_and_no_index_column(db: Database, tmp_path: Path) -> None:
    header = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"
    path = tmp_path / "crlf.csv"
    rows = [header, f"7,1001,True,{at(0)},@acme hi,8,", f"8,acme,False,{at(1)},@1001 yo,,7"]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode())
    report = import_file(db, path, intake=intake_for())
    assert (report.stored, report.skipped) == (2, [])
    got = messages(db)
    assert got["7"]["text"] == "@acme hi" and got["8"]["in_reply_to_id"] == "7"
    assert got["7"]["case_id"] == got["8"]["case_id"] is not None


def test_bad_rows_are_reported_with_lines_and_good_rows_kept(db: Database, tmp_path: Path) -> None:
    lines = [
        f'0,1,1001,True,{at(0)},"two\nlines",,',  # lines 2-3
        f"1,,1001,True,{at(1)},no id,,",  # 4
        f"2,abc,1001,True,{at(2)},bad id,,",  # 5
        "3,4,1001,True,yesterday,bad date,,",  # 6
        f"4,5,1001,maybe,{at(4)},bad boolean,,",  # 7
        f"5,6,1001,True,{at(5)},too,many,columns,,",  # 8
        "6,7,1001",  # 9
        f"7,8,1001,True,{at(7)},bad parent,,x1",  # 10
        "",  # 11: a blank line is not a record
        f"8,1,1001,True,{at(8)},duplicate,,",  # 12
        f"9,9,,True,{at(9)},no author,,",  # 13
        f"10,10,1001,True,{at(10)},good,,1.0",  # 14
        f"11,11,{'9' * 201},True,{at(11)},author id too long,,",  # 15
    ]
    report = import_file(db, write(tmp_path, lines), intake=intake_for())
    reasons = dict(report.skipped)
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10, 12, 13, 15]
    assert "missing tweet_id" in reasons[4]
    assert "invalid tweet_id 'abc'" in reasons[5]
    assert "created_at 'yesterday'" in reasons[6]
    assert "inbound 'maybe'" in reasons[7]
    assert "expected 8 columns, found 10" in reasons[8]
    assert "found 3" in reasons[9]
    assert "in_response_to_tweet_id 'x1'" in reasons[10]
    assert "duplicate tweet_id 1 (line 2)" in reasons[12]
    assert "missing author_id" in reasons[13]
    assert "author.external_id longer than 200" in reasons[15]
    assert (report.rows_read, report.stored) == (12, 2)
    check_totals(report)
    got = messages(db)
    assert got["1"]["text"] == "two\nlines" and got["10"]["case_id"] == got["1"]["case_id"]


def test_invalid_utf8_keeps_the_row(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    good = f"1,2,1002,True,{at(1)},fine,,".encode()
    bad = f"0,1,1001,True,{at(0)},caf".encode() + b"\xe9 cr\xe8me \xff,,"
    path.write_bytes(HEADER.encode() + b"\n" + bad + b"\n" + good + b"\n")
    report = import_file(db, path, intake=intake_for())
    assert (report.stored, report.skipped) == (2, [])
    assert messages(db)["1"]["text"] == "caf\ufffd cr\ufffdme \ufffd"


def test_huge_and_html_text_stored_verbatim(db: Database, tmp_path: Path) -> None:
    huge = "@acme " + "é" * 50_000 + "x" * 50_000
    script = "<script>alert('x')</script> &amp; &lt;b&gt; <b>bold</b> 😀"
    lines = [f"0,1,1001,True,{at(0)},{huge},,", f'1,2,1002,True,{at(1)},"{script}",,']
    report = import_file(db, write(tmp_path, lines), intake=intake_for())
    assert (report.stored, report.skipped) == (2, [])
    got = messages(db)
    assert got["1"]["text"] == huge and got["2"]["text"] == script


def test_unknown_columns_any_order_any_case(db: Database, tmp_path: Path) -> None:
    header = (
        "Unnamed: 0,index,Text,lang,In_Response_To_Tweet_Id,tweet_id,inbound,author_id,created_at"
    )
    lines = [
        f"0,17,@acme hi,en,,1,True,1001,{at(0)}",
        f"1,18,@1001 hey,en,1.0,2,False,acme,{at(1)}",
    ]
    report = import_file(db, write(tmp_path, lines, header=header), intake=intake_for())
    assert (report.stored, report.skipped) == (2, [])
    got = messages(db)
    assert got["1"]["text"] == "@acme hi" and got["2"]["direction"] == "out"
    assert got["2"]["case_id"] == got["1"]["case_id"]
    assert got["1"]["raw"]["lang"] == "en"


def test_missing_required_columns_is_an_error(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, ["1,x,hello"], header="tweet_id,author_id,text")
    with pytest.raises(InvalidInput, match=r"inbound, created_at, in_response_to_tweet_id"):
        import_file(db, path, intake=intake_for())
    txt = path.rename(tmp_path / "data.txt")
    with pytest.raises(InvalidInput, match="extension"):
        import_file(db, txt, intake=intake_for())
    with pytest.raises(InvalidInput, match="missing column"):
        import_file(db, txt, fmt="twcs", intake=intake_for())
    with pytest.raises(InvalidInput, match="unknown import format"):
        import_file(db, txt, fmt="xml", intake=intake_for())
    with pytest.raises(InvalidInput, match="no such file"):
        import_file(db, tmp_path / "absent.csv", intake=intake_for())


def test_reply_stamped_before_its_parent_still_joins(db: Database, tmp_path: Path) -> None:
    lines = [f"0,1,1001,True,{at(5)},@acme help,,", f"1,2,acme,False,{at(4)},@1001 sure,,1"]
    import_file(db, write(tmp_path, lines), intake=intake_for())
    got = messages(db)
    assert got["2"]["case_id"] == got["1"]["case_id"] is not None


def test_batches_and_interruption_do_not_change_the_result(
    db: Database, new_db_url: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [line.replace("sprintcare", "acme") for line in THREAD]
    for n in range(6, 40):  # customers writing, the brand answering, customers answering back
        if n % 2:
            lines.append(f"{n},{n},acme,False,{at(n)},@{1000 + n % 5} msg {n},,{n - 1}.0")
        else:
            parent = f"{n - 1}.0" if n % 3 else ""
            lines.append(f"{n},{n},{1000 + n % 5},True,{at(n)},@acme msg {n},,{parent}")
    path = write(tmp_path, lines)
    import_file(db, path, intake=intake_for())
    reference = (messages(db), case_groups(db))

    other = Database(new_db_url())
    calls = {"n": 0}
    real = replay.process_batch

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        result = real(*args, **kwargs)
        if calls["n"] == 3:
            raise RuntimeError("killed mid-batch")
        return result

    monkeypatch.setattr(replay, "process_batch", flaky)
    with pytest.raises(RuntimeError):
        import_file(other, path, intake=intake_for(), batch_size=4)
    monkeypatch.setattr(replay, "process_batch", real)
    assert len(messages(other)) == 8  # two batches committed, the third rolled back
    report = import_file(other, path, intake=intake_for(), batch_size=4)
    assert (report.stored, report.already_present) == (len(lines) - 8, 8)
    got = messages(other)
    assert {k: {**m, "case_id": None, "account_id": None} for k, m in got.items()} == {
        k: {**m, "case_id": None, "account_id": None} for k, m in reference[0].items()
    }
    assert case_groups(other) == reference[1]
    other.dispose()


def test_progress_bar_goes_to_stderr(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_file(db, write(tmp_path, THREAD), intake=intake_for(), progress=True)
    captured = capsys.readouterr()
    assert "twcs.csv" in captured.err and captured.out == ""


# --- JSON lines ---------------------------------------------------------------------------


def sample_items() -> list[InboundItem]:
    when = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    alice = AuthorInfo("42", "alice", "Alice ✨", followers=1200, verified=True)
    ours = AuthorInfo("7", "acme_help", "Acme Help")
    return [
        InboundItem(
            network="mastodon",
            external_id="110",
            author=alice,
            text="@acme_help line one\r\nline two \u2028 <b>&amp;</b> 😀",
            created_at=when,
            account_handle="acme_help",
            conversation_id="110",
            language="fr",
            metrics={"likes": 3, "reposts": 1},
            raw={"visibility": "public", "nested": {"a": [1, 2]}},
        ),
        InboundItem(
            network="mastodon",
            external_id="111",
            author=ours,
            text="@alice on it",
            created_at=when + timedelta(minutes=2),
            kind=MessageKind.REPLY,
            direction=Direction.OUT,
            account_handle="acme_help",
            in_reply_to_id="110",
            conversation_id="110",
        ),
        InboundItem(
            network="x",
            external_id="9000000000000000001",
            author=AuthorInfo("43", "bob"),
            text="private question",
            created_at=when + timedelta(minutes=5),
            kind=MessageKind.DIRECT,
            account_handle="acme",
            raw={"recipient_id": "99"},
        ),
    ]


def test_jsonl_round_trip(db: Database, tmp_path: Path) -> None:
    items = sample_items()
    path = tmp_path / "items.jsonl"
    lines = [export_jsonl_item(item) for item in reversed(items)]
    assert all("\n" not in line and "\r" not in line for line in lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_file(db, path, intake=intake_for())
    assert (report.stored, report.skipped, report.cases_created) == (3, [], 2)
    with db.session() as s:
        stored = list(stored_items(s))
    # A given language is kept; inbound messages without one gain the detected one.
    assert [o.language or s.language for s, o in zip(stored, items, strict=True)] == [
        s.language for s in stored
    ]
    assert [
        dataclasses.replace(s, language=o.language) for s, o in zip(stored, items, strict=True)
    ] == items
    got = messages(db)
    assert got["111"]["case_id"] == got["110"]["case_id"] is not None


def test_csv_to_jsonl_export_and_back_gives_the_same(
    db: Database, new_db_url: Callable[[], str], tmp_path: Path
) -> None:
    import_file(db, write(tmp_path, THREAD), intake=intake_for())
    first = tmp_path / "first.jsonl"
    assert export_jsonl(db, first) == 5
    other = Database(new_db_url())
    report = import_file(other, first, intake=intake_for())
    assert (report.stored, report.cases_created) == (5, 2)
    second = tmp_path / "second.jsonl"
    export_jsonl(other, second)
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
    assert case_groups(other) == case_groups(db)
    with other.session() as s:
        assert set(s.scalars(select(Author.external_id).where(Author.is_brand))) == {"sprintcare"}
    other.dispose()


def test_jsonl_bad_lines(db: Database, tmp_path: Path) -> None:
    good = json.loads(export_jsonl_item(sample_items()[0]))

    def variant(**changes: Any) -> str:
        obj = {**good, **changes}
        return json.dumps({k: v for k, v in obj.items() if v is not ...})

    lines = [
        "{not json",  # 1
        variant(text=...),  # 2
        variant(external_id="200", created_at="2024-05-01T09:30:00"),  # 3
        variant(external_id="201", kind="shout"),  # 4
        "[1, 2]",  # 5
        "",  # 6: ignored
        variant(external_id="202", author={"external_id": "42"}),  # 7
        variant(external_id="203", metrics={"likes": "many"}),  # 8
        variant(external_id="110"),  # 9: duplicate of line 10 comes later; this one wins
        variant(external_id="110", text="again"),  # 10
        variant(external_id=204, created_at="2024-05-01T11:30:00+02:00"),  # 11: int id accepted
        variant(external_id="206", language="a-very-long-language-tag"),  # 12
        variant(external_id="207", network="n" * 17),  # 13
        variant(external_id="208", author={**good["author"], "followers": 2**64}),  # 14
        variant(external_id="209", created_at="0001-01-01T00:00:00+01:00"),  # 15
        variant(external_id="210", author=None),  # 16
    ]
    path = tmp_path / "bad.ndjson"
    data = "\n".join(lines).encode() + b"\n" + variant(external_id="205").encode()
    path.write_bytes(data.replace(b"line one", b"line \xff one"))
    report = import_file(db, path, intake=intake_for())
    reasons = dict(report.skipped)
    assert sorted(reasons) == [1, 2, 3, 4, 5, 7, 8, 10, 12, 13, 14, 15, 16]
    assert reasons[1].startswith("invalid JSON")
    assert "missing field(s): text" in reasons[2]
    assert "no UTC offset" in reasons[3]
    assert "kind" in reasons[4] and "shout" in reasons[4]
    assert "expected a JSON object" in reasons[5]
    assert "author.handle" in reasons[7]
    assert "metrics" in reasons[8]
    assert "duplicate mastodon id 110 (line 9)" in reasons[10]
    assert "field language longer than 8 characters" in reasons[12]
    assert "field network longer than 16 characters" in reasons[13]
    assert "author.followers out of range" in reasons[14]
    assert "created_at out of range" in reasons[15]
    assert reasons[16] == "missing field(s): author"
    check_totals(report)
    got = messages(db)
    assert sorted(got) == ["110", "204", "205"]
    assert got["205"]["text"].startswith("@acme_help line \ufffd one")
    with db.session() as s:
        when = s.scalar(select(Message.created_at).where(Message.external_id == "204"))
    assert when == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def test_report_to_dict_is_json_ready(db: Database, tmp_path: Path) -> None:
    lines = [*THREAD, "9,9,1001,True,never,bad,,"]
    report = import_file(db, write(tmp_path, lines), intake=intake_for())
    data = json.loads(json.dumps(report.to_dict()))
    assert data["stored"] == 5 and data["skipped_count"] == 1 and data["format"] == "twcs"
    assert data["skipped"] == [{"line": 7, "reason": data["skipped"][0]["reason"]}]
    assert data["cases_created"] == 2 and data["already_present"] == 0
