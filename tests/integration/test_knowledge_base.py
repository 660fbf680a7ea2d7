"""The knowledge base through the API and its pages, on SQLite and PostgreSQL: versions, search,
the public help page (no login, cacheable, hostile content inert)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from carebird.db.database import Database
from carebird.ingest.models import NetworkAccount
from carebird.reply.articles import ArticleVersion
from tests.factories import TestClient, agent_with_token, bearer
from tests.support.processes import run_cli

HOSTILE = (
    "<script>alert('kb')</script>\n\n<img src=x onerror=alert(1)>\n\n"
    "[click](javascript:alert(2)) **gras** [doc](https://example.test/doc)"
)


def test_articles_are_versioned_and_searched(client: TestClient, db: Database) -> None:
    boss_agent, boss_token = agent_with_token(db, "supervisor")
    boss, agent = bearer(boss_token), bearer(agent_with_token(db, "agent")[1])
    made = client.post(
        "/api/articles",
        json={
            "title": "Rétablir la Box après une coupure",
            "language": "fr",
            "summary": "Débranchez la box 30 secondes.",
            "body": "1. Débrancher\n2. Attendre",
            "tags": ["box", "panne"],
        },
        headers=boss,
    )
    assert made.status_code == 201, made.text
    article = made.json()
    assert article["slug"] == "retablir-la-box-apres-une-coupure" and article["version"] == 1
    assert (
        client.post(
            "/api/articles", json={"title": "x", "language": "fr"}, headers=agent
        ).status_code
        == 403
    )
    url = f"/api/articles/{article['id']}"
    changed = client.patch(
        url, json={"summary": "Débranchez-la 1 minute.", "public": True}, headers=boss
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    same = client.patch(url, json={"public": True}, headers=boss)  # nothing changed: no version
    assert same.json()["version"] == 2
    history = client.get(f"{url}/versions", headers=agent).json()
    assert [v["version"] for v in history] == [2, 1]
    assert (
        history[0]["changes"] == ["public", "summary"] and history[0]["changed_by"] == boss_agent.id
    )
    assert history[1]["summary"] == "Débranchez la box 30 secondes."  # the old text is kept
    with db.session() as s:
        assert s.scalar(select(ArticleVersion.version).order_by(ArticleVersion.id.desc())) == 2

    def titles(query: str) -> list[str]:
        return [a["title"] for a in client.get(f"/api/articles{query}", headers=agent).json()]

    assert titles("?q=RETABLIR coupure") == ["Rétablir la Box après une coupure"]  # accents folded
    assert titles("?q=minute") == ["Rétablir la Box après une coupure"]
    assert titles("?q=100%25") == [] and titles("?q=_") == []  # LIKE's wildcards are literal
    assert titles("?language=en") == []
    bad = client.patch(url, json={"language": "de"}, headers=boss)
    assert bad.status_code == 422
    assert client.get("/api/articles/999999", headers=agent).status_code == 404
    assert client.delete(url, headers=agent).status_code == 403
    assert client.delete(url, headers=boss).status_code == 204
    assert client.get(f"{url}/versions", headers=agent).status_code == 404
    with db.session() as s:  # the history goes with its article
        assert s.scalars(select(ArticleVersion)).all() == []


def test_the_public_help_page_needs_no_login_and_escapes_everything(
    client: TestClient, db: Database
) -> None:
    with db.session() as s, s.begin():
        s.add(NetworkAccount(network="x", handle="Brand_SAV", display_name="<b>Brand</b>"))
    boss = bearer(agent_with_token(db, "supervisor")[1])
    public = {"title": "<i>Panne</i> TV", "language": "fr", "summary": "<script>x()</script>",
              "body": HOSTILE, "public": True}  # fmt: skip
    made = client.post("/api/articles", json=public, headers=boss).json()
    hidden = {"title": "Interne", "language": "fr", "body": "secret"}
    assert client.post("/api/articles", json=hidden, headers=boss).status_code == 201
    client.cookies.clear()
    listing = client.get("/help/brand_sav")
    assert listing.status_code == 200
    assert listing.headers["cache-control"] == "public, max-age=300"
    assert "set-cookie" not in listing.headers
    assert "&lt;i&gt;Panne&lt;/i&gt; TV" in listing.text and "Interne" not in listing.text
    assert "<b>Brand</b>" not in listing.text
    page = client.get(f"/help/Brand_SAV/{made['slug']}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(" in html  # shown as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<strong>gras</strong>" in html
    assert 'href="https://example.test/doc" rel="nofollow noopener noreferrer"' in html
    assert client.get("/help/Brand_SAV/interne").status_code == 404  # not public
    assert client.get("/help/nobody").status_code == 404
    assert client.get("/help/Brand_SAV/BAD%20slug").status_code == 422


def test_articles_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    env = {"CAREBIRD_DATABASE_URL": db_url}
    body = tmp_path / "body.md"
    body.write_text("# Étapes\n\n1. Débrancher", encoding="utf-8")
    added = run_cli(
        env, tmp_path, "articles", "add", "--title", "Panne TV : que faire ?",
        "--language", "fr", "--summary", "Redémarrez le décodeur.", "--body-file", str(body),
        "--tag", "tv", "--public",
    )  # fmt: skip
    article_id, slug = added.split()
    assert slug == "panne-tv-que-faire"
    listed = json.loads(run_cli(env, tmp_path, "articles", "list", "-q", "decodeur", "--json"))
    assert [a["id"] for a in listed] == [int(article_id)] and listed[0]["public"] is True
    shown = json.loads(run_cli(env, tmp_path, "articles", "show", article_id, "--json"))
    assert shown["body"].startswith("# Étapes") and [v["version"] for v in shown["versions"]] == [1]
    assert run_cli(env, tmp_path, "articles", "show", "99", status=2) == ""  # said on stderr


def test_two_saves_at_once_make_two_versions(db: Database) -> None:
    """Two agents saving one article at the same moment: both versions kept, numbered apart."""
    import threading

    from carebird.reply.articles import create_article, update_article

    with db.session() as s, s.begin():
        article_id = create_article(
            s, fields={"title": "Box en panne", "summary": "Redémarrez la box.", "body": "x",
                       "language": "fr"}, agent_id=None,
        ).id  # fmt: skip
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def save(body: str) -> None:
        try:
            start.wait()
            with db.session() as s, s.begin():
                update_article(s, article_id=article_id, changes={"body": body}, agent_id=None)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(b,)) for b in ("un", "deux")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        versions = s.scalars(
            select(ArticleVersion.version).where(ArticleVersion.article_id == article_id)
        ).all()
        assert sorted(versions) == [1, 2, 3]
