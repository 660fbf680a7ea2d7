"""The command line drives the same services: import summary, agents, tokens, schema."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.script import ScriptDirectory
from click.testing import CliRunner

from carebird.cli.main import cli
from carebird.db.database import Database
from carebird.db.migrate import alembic_config
from tests.factories import TestClient, bearer


def invoke(url: str, *args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(cli, ["--database", url, *args], input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_import_json_summary_and_reimport(db_url: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "t.csv"
    csv_file.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        "1,cust1,True,Tue Oct 31 22:10:47 +0000 2017,@Brand help,2,\n"
        "2,Brand,False,Tue Oct 31 22:20:47 +0000 2017,@cust1 on it ^AB,,1.0\n"
        "x,cust2,True,not a date,broken,,\n"
    )
    first = json.loads(invoke(db_url, "import", str(csv_file), "--json"))
    assert (first["rows_read"], first["stored"], first["already_present"]) == (3, 2, 0)
    assert first["skipped"] == [{"line": 4, "reason": "invalid tweet_id 'x'"}]
    again = json.loads(invoke(db_url, "import", str(csv_file), "--json"))
    assert (again["stored"], again["already_present"]) == (0, 2)


def test_agents_and_tokens_from_the_cli(db_url: str, settings: object) -> None:
    out = invoke(
        db_url,
        "agents",
        "create",
        "--email",
        "Marie@Example.test",
        "--name",
        "Marie Curie",
        "--role",
        "supervisor",
        "--password",
        "correct horse 1",
    )
    assert "(supervisor, MC)" in out
    token = invoke(db_url, "tokens", "create", "--email", "Marie@Example.test").strip()
    assert token.startswith("cb_")
    from carebird.web.app import create_app

    db = Database(db_url)
    try:
        with TestClient(create_app(settings, db=db)) as client:  # type: ignore[arg-type]
            me = client.get("/api/me", headers=bearer(token))
            assert me.status_code == 200 and me.json()["email"] == "marie@example.test"
    finally:
        db.dispose()


def test_db_upgrade_reports_the_revision(db_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None and head in invoke(db_url, "db", "upgrade")


def test_db_reindex_rebuilds_the_search_rows(db_url: str) -> None:
    from sqlalchemy import text

    from carebird.cases.inbox import InboxFilters, inbox
    from tests.factories import customer, ingest, item

    db = Database(db_url)
    try:
        ingest(db, [item(customer(1), "order 82149557 lost"), item(customer(2), "hello")])
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM case_search"))
        assert "2 cases indexed" in invoke(db_url, "db", "reindex")
        with db.session() as s:
            assert inbox(s, filters=InboxFilters(search="2149 lost")).total == 1
    finally:
        db.dispose()
