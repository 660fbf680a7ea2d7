"""The knowledge base and the suggestions in a real browser: an article written by a supervisor
and found from the composer, a suggestion inserted with its variables (its use recorded with
what was sent), a proposed template accepted, the public help page without a login."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from carebird.ingest.base import AuthorInfo, Direction
from carebird.ingest.models import Message, NetworkAccount
from carebird.reply.suggestions import SuggestionUse
from carebird.reply.templates import ReplyTemplate
from tests.browser.conftest import new_context, screenshot
from tests.browser.desk import SUPPORT, Desk, running_desk
from tests.factories import T0, ingest, item

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

HOSTILE_BODY = "Débranchez la box.\n\n<script>alert('kb')</script> <img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    with running_desk(tmp_path_factory.mktemp("kb")) as running:
        yield running


@pytest.fixture(autouse=True)
def close_pages(desk: Desk) -> Iterator[None]:
    yield
    desk.close_contexts()


def test_an_article_written_then_found_from_the_composer(browser: Browser, desk: Desk) -> None:
    sam = desk.page(browser, "sam", "/articles")
    sam.locator("#new-article").click()
    form = sam.locator("#article-form")
    form.locator("input[name=title]").fill("Décodeur figé après la mise à jour")
    form.locator("textarea[name=summary]").fill(
        "Décodeur figé : débranchez-le 30 secondes puis rebranchez-le."
    )
    form.locator("textarea[name=body]").fill(HOSTILE_BODY)
    form.locator("input[name=tags]").fill("décodeur, figé")
    form.locator("input[name=public]").check()
    form.locator("button[type=submit]").click()
    expect(sam.locator(".notice.done")).to_have_text("L’article est enregistré.")
    expect(sam.locator("#article-body")).to_contain_text("<script>alert('kb')</script>")
    expect(sam.locator("#versions li")).to_have_count(1)
    form = sam.locator("#article-form")
    form.locator("textarea[name=summary]").fill(
        "Décodeur figé : débranchez-le 30 secondes, puis rebranchez-le."
    )
    form.locator("button[type=submit]").click()
    expect(sam.locator("#versions li")).to_have_count(2)
    expect(sam.locator("#versions li").first).to_contain_text("Sam Martin")
    expect(sam.locator("#versions li").first).to_contain_text("summary")
    screenshot(sam, "article", ready="#versions li")

    case_id = desk.add_case(["Mon décodeur est figé depuis la mise à jour, rien ne marche"])
    page = desk.page(browser, "ana", f"/cases/{case_id}")
    found = page.locator("#suggestion-list li.suggestion[data-kind=article]")
    expect(found).to_contain_text("Décodeur figé après la mise à jour")
    expect(found.locator(".suggestion-reason")).to_contain_text("reprend les mots")
    with page.expect_response(f"**/api/cases/{case_id}/suggestions/uses") as used:
        found.locator("button.suggestion-link").click()
    assert used.value.status == 201
    expect(page.locator("#reply-text")).to_have_value(
        re.compile(r"rebranchez-le\. http://127\.0\.0\.1:\d+/help/LigneAzur_SAV/decodeur-fige-")
    )
    found.locator("button.suggestion-card").click()  # or as an image of its summary
    expect(page.locator("#reply-text")).to_have_value(
        "Décodeur figé : débranchez-le 30 secondes, puis rebranchez-le."
    )
    expect(page.locator("#card-image")).to_be_visible()
    assert desk.problems(page) == ([], [])

    # The public help page: no login, the hostile body shown as text, nothing run.
    visitor = new_context(browser)
    desk.opened.append(visitor)
    public = visitor.new_page()
    dialogs: list[str] = []
    public.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    response = public.goto(f"{desk.url}/help/{SUPPORT}")
    assert response is not None and response.headers["cache-control"].startswith("public")
    public.get_by_role("link", name="Décodeur figé après la mise à jour").click()
    expect(public.locator("article h1")).to_have_text("Décodeur figé après la mise à jour")
    expect(public.locator("article .body")).to_contain_text("<img src=x onerror=alert(1)>")
    assert public.locator("article .body script, article .body img").count() == 0
    assert dialogs == []


def test_a_suggestion_inserted_with_its_variables(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(["Toujours pas remboursé, où en est mon remboursement ?"])
    page = desk.page(browser, "ana", f"/cases/{case_id}")
    template = page.locator("#suggestion-list li.suggestion[data-kind=template]").filter(
        has_text="Remboursement en cours"
    )
    expect(template.locator(".suggestion-reason")).to_have_text("reprend les mots : remboursement")
    template.locator("button.suggestion-insert").click()
    draft = page.locator("#reply-text")
    expect(draft).to_have_value(
        re.compile(
            rf"^Bonjour \w+ \w+, votre remboursement du dossier {case_id} arrive "
            r"sous \d+ (min|h|j)( \d+)?\.$"
        )
    )
    expect(page.locator("#reply-length")).to_contain_text("caractères")
    draft.press("End")
    draft.press_sequentially(" Merci !")
    with page.expect_response("**/api/suggestion-uses/*/sent") as recorded:
        page.locator("#send").click()
    assert recorded.value.status == 200
    with desk.db.session() as s:
        use = s.scalars(select(SuggestionUse).where(SuggestionUse.case_id == case_id)).one()
        assert use.kind == "template" and use.agent_id == desk.agent_ids["ana"]
        assert use.sent_text is not None and use.sent_text.endswith("Merci !")
        assert use.kept is not None and 0.8 < use.kept < 1.0
    assert desk.problems(page) == ([], [])


def test_a_proposed_template_is_accepted(browser: Browser, desk: Desk) -> None:
    answer = "Nous avons transmis votre demande de duplicata au service facturation."
    with desk.db.session() as s:
        account = s.scalars(select(NetworkAccount).where(NetworkAccount.handle == SUPPORT)).one()
        us = AuthorInfo(account.external_id or SUPPORT, SUPPORT, "Ligne Azur")
    recent = (datetime.now(UTC) - timedelta(hours=3) - T0).total_seconds() / 60
    for n in range(3):
        case_id = desk.add_case([f"Je voudrais un duplicata de ma facture numéro {n}"])
        with desk.db.session() as s:
            asked = s.scalar(select(Message.external_id).where(Message.case_id == case_id))
        assert asked is not None
        ingest(
            desk.db,
            [
                item(
                    us,
                    f"@client {answer} ^AL",
                    minutes=recent + n,
                    network="sim",
                    account_handle=SUPPORT,
                    direction=Direction.OUT,
                    in_reply_to_id=asked,
                    external_id=f"dup-{n}",
                )
            ],
        )
    page = desk.page(browser, "sam", "/articles")
    proposal = page.locator("#proposals li.proposal").filter(has_text="duplicata")
    expect(proposal.locator(".count")).to_have_text(
        "Vous avez répondu ceci 3 fois à la main cette semaine."
    )
    proposal.locator("summary").click()
    expect(proposal.locator(".members li")).to_have_count(3)
    proposal.locator("input[name=name]").fill("Duplicata de facture")
    expect(proposal.locator("textarea[name=body]")).to_have_value(answer)
    proposal.locator("button[type=submit]").click()
    expect(page.locator(".notice.done")).to_have_text("Le modèle est créé.")
    expect(page.locator("#proposals li.proposal").filter(has_text="duplicata")).to_have_count(0)
    with desk.db.session() as s:
        made = s.scalars(select(ReplyTemplate).where(ReplyTemplate.name == "Duplicata de facture"))
        assert made.one().body == answer
    assert desk.problems(page) == ([], [])
