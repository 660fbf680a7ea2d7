"""`carebird articles list|add|show`: the knowledge base from the command line (the same
functions as the API and the pages, `carebird.reply.articles`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from carebird.cli.root import Context, cli, pass_ctx
from carebird.reply import articles


def _public(article: articles.Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "slug": article.slug,
        "language": article.language,
        "title": article.title,
        "summary": article.summary,
        "tags": list(article.tags or []),
        "public": article.public,
        "account_id": article.account_id,
        "version": article.version,
        "updated_at": article.updated_at.isoformat(),
    }


@cli.group("articles")
def articles_group() -> None:
    """The knowledge base."""


@articles_group.command("list")
@click.option("-q", "query", default=None, help="Words to find (accents and case folded).")
@click.option("--language", type=click.Choice(articles.LANGUAGES), default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def articles_list(ctx: Context, query: str | None, language: str | None, as_json: bool) -> None:
    """Articles, newest change first."""
    with ctx.db().session() as session:
        found = [_public(a) for a in articles.search_articles(session, q=query, language=language)]
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    for a in found:
        flag = " (public)" if a["public"] else ""
        click.echo(f"{a['id']:>5}  {a['language']}  v{a['version']}  {a['title']}{flag}")


@articles_group.command("add")
@click.option("--title", required=True)
@click.option("--language", type=click.Choice(articles.LANGUAGES), required=True)
@click.option("--summary", default="")
@click.option(
    "--body-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The body, in Markdown.",
)
@click.option("--tag", "tags", multiple=True)
@click.option("--public", is_flag=True, help="Show it on the accounts' help pages.")
@click.option("--account", "account_id", type=int, default=None, help="Default: every account.")
@pass_ctx
def articles_add(
    ctx: Context,
    title: str,
    language: str,
    summary: str,
    body_file: Path | None,
    tags: tuple[str, ...],
    public: bool,
    account_id: int | None,
) -> None:
    """Write an article (its first version); prints its id and slug."""
    fields = {
        "title": title,
        "language": language,
        "summary": summary,
        "body": body_file.read_text(encoding="utf-8") if body_file else "",
        "tags": list(tags),
        "public": public,
        "account_id": account_id,
    }
    with ctx.db().session() as session, session.begin():
        article = articles.create_article(session, fields=fields, agent_id=None)
        click.echo(f"{article.id} {article.slug}")


@articles_group.command("show")
@click.argument("article_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def articles_show(ctx: Context, article_id: int, as_json: bool) -> None:
    """One article with its history."""
    with ctx.db().session() as session:
        article = articles.get_article(session, article_id=article_id)
        shown = _public(article) | {"body": article.body}
        shown["versions"] = [
            {
                "version": v.version,
                "changed_by": v.changed_by,
                "changed_at": v.changed_at.isoformat(),
                "changes": list(v.changes or []),
            }
            for v in articles.history(session, article_id=article_id)
        ]
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    click.echo(f"{shown['title']} ({shown['language']}, v{shown['version']})")
    click.echo(shown["summary"])
    click.echo("")
    click.echo(shown["body"])
    for v in shown["versions"]:
        click.echo(f"  v{v['version']}  {v['changed_at']}  {', '.join(v['changes'])}")
