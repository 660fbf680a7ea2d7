"""The agent workspace in a real browser: sign-in, the live inbox, triage, the case page.

One desk (server, database, SMTP catcher) and one Chromium serve the whole module; each test
brings its own customers and finds them through the inbox's search, so tests stay apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from carebird.reply.models import OutboxItem
from tests.browser.conftest import screenshot
from tests.browser.desk import PASSWORD, PEOPLE, Desk, running_desk

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one Chromium

ROWS = "#inbox li.case[data-id]"
SCRIPT = "<script>alert('xss')</script>"
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    with running_desk(tmp_path_factory.mktemp("desk")) as running:
        yield running


@pytest.fixture(autouse=True)
def close_pages(desk: Desk) -> Iterator[None]:
    """Each test's browser contexts close with it (their live streams with them)."""
    yield
    desk.close_contexts()


def row(page: Page, case_id: int) -> Locator:
    return page.locator(f'{ROWS}[data-id="{case_id}"]')


def test_sign_in_wrong_then_right(browser: Browser, desk: Desk) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(desk.url + "/")
    page.wait_for_url(re.compile(r"/login\?next=/$"))
    expect(page.locator("h1")).to_have_text("Connexion")
    page.locator("input[name=email]").fill(PEOPLE["ana"].email)
    page.locator("input[name=password]").fill("not the password")
    page.locator("form.login button[type=submit]").click()
    expect(page.locator("p.error")).to_have_text("Adresse e-mail ou mot de passe incorrect.")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.login button[type=submit]").click()
    page.wait_for_url(desk.url + "/")
    expect(page.locator("header .who")).to_contain_text("Ana Lefèvre")
    expect(page.locator("#live-state")).to_have_text("En direct")
    context.close()


def test_a_case_arriving_appears_live_in_an_open_inbox(browser: Browser, desk: Desk) -> None:
    page = desk.page(browser, "ana", "/?q=trottinette")
    errors, _ = desk.problems(page)
    expect(page.locator("#live-state")).to_have_text("En direct")
    expect(page.locator("#inbox-empty")).to_be_visible()
    page.evaluate("window.carebirdTestMark = 1")  # gone if the page reloads
    first = desk.add_case(["Ma trottinette est tombée en panne dans le train"])
    expect(row(page, first)).to_be_visible()
    expect(row(page, first).locator(".subject")).to_contain_text("trottinette")
    second = desk.add_case(
        ["URGENT trottinette volée, panne totale, toujours pas de réponse !!!"], followers=90_000
    )
    expect(row(page, second)).to_be_visible()
    ids = page.locator(ROWS).evaluate_all("rows => rows.map(r => Number(r.dataset.id))")
    assert ids == [second, first], "the more urgent case goes first"
    expect(row(page, second)).to_have_class(re.compile(r"\bfresh\b"))
    assert page.evaluate("window.carebirdTestMark") == 1, "the inbox was reloaded"
    badges = row(page, second).locator(".badges")
    expect(badges).to_contain_text("Simulé")
    expect(badges).to_contain_text("@LigneAzur_SAV")
    expect(row(page, second).locator(".waiting")).to_contain_text("Attend depuis")
    expect(row(page, second).locator(".sla.late")).to_contain_text("SLA : en retard de")
    screenshot(page, "inbox", ready=ROWS)
    assert errors == []


def test_customer_markup_renders_as_text(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case([f"balise {SCRIPT}", ("dm", f"image {IMG}")])
    page = desk.page(browser, "ana", "/?q=balise")
    errors, dialogs = desk.problems(page)
    expect(row(page, case_id).locator(".subject")).to_have_text(f"balise {SCRIPT}")
    row(page, case_id).locator("a.open").click()
    page.wait_for_url(f"{desk.url}/cases/{case_id}")
    texts = page.locator("#messages p.text")
    expect(texts.nth(0)).to_have_text(f"balise {SCRIPT}")
    expect(texts.nth(1)).to_have_text(f"image {IMG}")
    expect(page.locator("#messages li.msg.private .badge.private")).to_have_text("Privé")
    expect(page.locator("#messages li.msg.public .badge.public")).to_have_text("Public")
    assert page.evaluate("document.querySelectorAll('img[src=x], main script').length") == 0
    sources = page.evaluate("[...document.scripts].map(s => s.getAttribute('src'))")
    assert set(sources) == {
        "/static/common.js",
        "/static/case.js",
        "/static/case_panels.js",
        "/static/composer.js",
        "/static/suggestions.js",
    }
    screenshot(page, "case-markup", ready="#messages li.msg")
    assert dialogs == [] and errors == []
    viewer = desk.page(browser, "vic", f"/cases/{case_id}")  # reads, cannot act
    seen, _ = desk.problems(viewer)
    expect(viewer.locator("#messages p.text").nth(1)).to_have_text(f"image {IMG}")
    expect(viewer.locator("#timeline li").first).to_be_visible()
    expect(viewer.locator("#composer")).to_have_count(0)
    expect(viewer.locator("#status-select")).to_be_disabled()
    assert seen == []


def test_bidi_controls_are_shown_and_isolated_in_drawn_text(browser: Browser, desk: Desk) -> None:
    # U+202E would make "kcart" read "track" backwards; the scripts draw the inbox and the
    # conversation, so the markers and the isolation come from common.js, not the server.
    rlo = "\u202e"
    case_id = desk.add_case([f"valise {rlo}987 ed kcart perdue"])
    shown = "valise \u27e8U+202E\u27e9987 ed kcart perdue"
    page = desk.page(browser, "ana", "/?q=valise")
    errors, _ = desk.problems(page)
    subject = row(page, case_id).locator(".subject")
    expect(subject).to_have_text(shown)
    expect(subject).to_have_attribute("dir", "auto")
    row(page, case_id).locator("a.open").click()
    page.wait_for_url(f"{desk.url}/cases/{case_id}")
    text = page.locator("#messages p.text").first
    expect(text).to_have_text(shown)
    expect(text).to_have_attribute("dir", "auto")
    drawn = page.evaluate("document.querySelector('#inbox, #messages').textContent")
    assert rlo not in drawn
    assert errors == []


def test_the_ui_speaks_french_and_switches_to_english(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(["Bonjour, mon colis est en retard"])
    context = desk.context(browser, "sam")
    page = context.new_page()
    page.goto(f"{desk.url}/cases/{case_id}")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#notes-title")).to_have_text("Notes internes")
    expect(page.locator("#send")).to_have_text("Envoyer en public")
    when = page.locator("#messages time").first
    expect(when).to_have_text("02/03/2026 10:00")  # 09:00 UTC in Paris, French format
    page.locator(".lang-switch button[value=en]").click()
    page.wait_for_url(f"{desk.url}/cases/{case_id}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#notes-title")).to_have_text("Internal notes")
    expect(page.locator("#send")).to_have_text("Send publicly")
    expect(page.locator("#messages time").first).to_have_text("2 Mar 2026, 10:00")
    page.locator(".lang-switch button[value=fr]").click()
    expect(page.locator("#notes-title")).to_have_text("Notes internes")


def test_triage_by_keyboard(browser: Browser, desk: Desk) -> None:
    calm = desk.add_case(["clavier : où trouver les horaires ?"])
    urgent = desk.add_case(["clavier : URGENT panne, toujours pas de réponse"], followers=50_000)
    page = desk.page(browser, "ana", "/?q=clavier")
    errors, _ = desk.problems(page)
    expect(page.locator(ROWS)).to_have_count(2)
    page.keyboard.press("j")
    expect(row(page, urgent)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("j")
    expect(row(page, calm)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("k")
    expect(row(page, urgent)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("a")  # assign to me
    expect(row(page, urgent).locator(".badge.assignee")).to_have_text("Ana Lefèvre")
    expect(row(page, urgent)).to_have_class(re.compile(r"\bcurrent\b"))  # kept after redraw
    page.keyboard.press("j")
    page.keyboard.press("e")  # resolve: it leaves the active inbox
    expect(row(page, calm)).to_have_count(0)
    page.keyboard.press("?")
    expect(page.locator("dialog#help")).to_be_visible()
    expect(page.locator("dialog#help")).to_contain_text("Cas suivant / précédent")
    page.keyboard.press("Escape")
    expect(page.locator("dialog#help")).to_be_hidden()
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("#bulk")).to_be_visible()
    expect(page.locator("#bulk-count")).to_have_text("Sélectionnés : 1")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{desk.url}/cases/{urgent}")
    expect(page.locator("#assignee-select")).to_have_value(str(desk.agent_ids["ana"]))
    page.keyboard.press("r")
    expect(page.locator("#reply-text")).to_be_focused()
    assert errors == []


def test_filters_and_bulk_actions(browser: Browser, desk: Desk) -> None:
    ids = [desk.add_case([f"vrac : demande numéro {n}"]) for n in range(3)]
    page = desk.page(browser, "ana", "/?q=vrac")
    expect(page.locator(ROWS)).to_have_count(3)
    for case_id in ids[:2]:
        row(page, case_id).locator("input.pick").check()
    expect(page.locator("#bulk-count")).to_have_text("Sélectionnés : 2")
    page.locator("#bulk-tag").fill("lot-rouge")
    page.locator("#bulk button[data-bulk=tag]").click()
    for case_id in ids[:2]:
        expect(row(page, case_id).locator(".badge.tag")).to_have_text("#lot-rouge")
    expect(row(page, ids[2]).locator(".badge.tag")).to_have_count(0)
    page.locator("#select-all").check()
    page.locator("#bulk-assignee").select_option(label="Ben Carter")
    page.locator("#bulk button[data-bulk=assign]").click()
    for case_id in ids:
        expect(row(page, case_id).locator(".badge.assignee")).to_have_text("Ben Carter")
    page.locator("#filters input[name=view][value=mine]").check()
    expect(page.locator(ROWS)).to_have_count(0)  # none is Ana's
    assert "view=mine" in page.url
    page.locator("#filters input[name=view][value='']").check()
    expect(page.locator(ROWS)).to_have_count(3)
    row(page, ids[0]).locator("input.pick").check()
    page.locator("#bulk button[data-bulk=not_support]").click()
    expect(row(page, ids[0]).locator(".badge.category")).to_have_text("Pas une demande de support")
    page.locator("#filters select[name=category]").select_option("other")
    expect(page.locator(ROWS)).to_have_count(1)
    page.locator("#filters select[name=category]").select_option("")
    page.locator("#filters select[name=language]").select_option("en")
    expect(page.locator(ROWS)).to_have_count(0)  # all written in French
    page.locator("#filters select[name=language]").select_option("fr")
    expect(page.locator(ROWS)).to_have_count(3)
    row(page, ids[1]).locator("input.pick").check()
    page.locator("#bulk button[data-bulk=resolve]").click()
    expect(row(page, ids[1])).to_have_count(0)
    page.locator("#filters select[name=status]").select_option("resolved")
    expect(row(page, ids[1])).to_be_visible()
    expect(row(page, ids[2])).to_have_count(0)


def compose(page: Page, text: str) -> None:
    box = page.locator("#reply-text")
    box.fill(text)
    expect(page.locator("#reply-length")).to_contain_text(" / ")


def test_reply_publicly_then_privately(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(["Bonjour, où en est mon remboursement ?"])
    page = desk.page(browser, "ana", f"/cases/{case_id}")
    errors, _ = desk.problems(page)
    compose(page, "Nous regardons cela tout de suite.")
    expect(page.locator("#reply-target")).to_have_class(re.compile(r"\bpublic\b"))
    expect(page.locator("#target-text")).to_contain_text("Réponse publique à @")
    expect(page.locator("#reply-length")).to_contain_text("/ 280 caractères")
    expect(page.locator("#reply-signature")).to_have_text("Signature : ^AL")
    expect(page.locator("#reply-cost")).to_have_text(re.compile(r"^Coût : 0,015\s?\$"))
    page.locator("#send").click()
    expect(page.locator("#sent-replies li.public")).to_have_count(1)
    out = page.locator("#messages li.msg.out")
    expect(out.filter(has_text="Nous regardons cela tout de suite.")).to_have_class(
        re.compile(r"\bpublic\b"), timeout=20_000
    )  # posted by the outbox to the network, read back into the conversation, live
    page.locator("input[name=target][value=private]").check()
    expect(page.locator("#reply-target")).to_have_class(re.compile(r"\bprivate\b"))
    compose(page, "Je vous écris en privé pour la suite.")
    expect(page.locator("#target-text")).to_contain_text("Message privé à @")
    expect(page.locator("#send")).to_have_text("Envoyer en privé")
    page.locator("#send").click()
    expect(page.locator("#sent-replies li.private")).to_have_count(1)
    expect(out.filter(has_text="Je vous écris en privé")).to_have_class(
        re.compile(r"\bprivate\b"), timeout=20_000
    )
    screenshot(page, "case", ready="#messages li.msg")
    assert errors == []


def test_a_double_click_posts_once(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(["double clic : ma carte ne passe pas"])
    page = desk.page(browser, "ana", f"/cases/{case_id}")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    compose(page, "Nous vérifions votre carte.")
    page.locator("#send").dblclick()
    expect(page.locator("#sent-replies li")).to_have_count(1)
    out = page.locator("#messages li.msg.out")
    expect(out).to_have_count(1, timeout=20_000)  # posted, and read back from the network
    with desk.db.session() as s:
        rows = s.scalars(select(OutboxItem).where(OutboxItem.case_id == case_id)).all()
    assert [(r.status, r.private) for r in rows] == [("sent", False)]
    assert len([u for u in posts if u.endswith(f"/cases/{case_id}/replies")]) <= 2


def test_the_personal_data_guard_blocks_and_switches(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(["Rappelez-moi svp, mon colis n'arrive pas"])
    page = desk.page(browser, "ana", f"/cases/{case_id}")
    compose(page, "Appelez-nous au 06 12 34 56 78, nous réglons cela.")
    guard = page.locator("#pii-guard")
    expect(guard).to_be_visible()
    expect(guard).to_contain_text("un numéro de téléphone")
    expect(page.locator("#send")).to_be_disabled()
    page.locator("#switch-private").click()
    expect(page.locator("input[name=target][value=private]")).to_be_checked()
    expect(guard).to_be_hidden()
    expect(page.locator("#send")).to_be_enabled()
    assert desk.problems(page) == ([], [])
    page.locator("#send").click()
    expect(page.locator("#sent-replies li.private")).to_have_count(1)
    expect(page.locator("input[name=target][value=private]")).to_be_checked()  # stays private
    page.locator("input[name=target][value=public]").check()
    compose(page, "Écrivez-nous à sav@ligneazur.example avec votre numéro de commande.")
    expect(guard).to_contain_text("une adresse e-mail")
    page.locator("#invite-private").click()
    expect(page.locator("input[name=target][value=public]")).to_be_checked()
    invitation = page.locator("#reply-text")
    expect(invitation).to_have_value(re.compile(r"https://twitter\.com/messages/compose"))
    expect(guard).to_be_hidden()
    expect(page.locator("#send")).to_be_enabled()
    assert desk.problems(page) == ([], [])


def test_a_template_with_variables(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(["Toujours pas remboursé de mon billet"])
    page = desk.page(browser, "ana", f"/cases/{case_id}")
    page.locator("#template-q").fill("rembours")
    pick = page.locator("#template-results button.template-pick", has_text="Remboursement")
    pick.first.click()
    wait = page.locator("#template-vars input[name=expected_wait]")
    expect(wait).to_be_focused()
    expect(page.locator("#template-vars input[name=customer_name]")).to_have_attribute(
        "placeholder", "d’après le cas"
    )
    wait.fill("48 h")
    page.locator("#template-form button[type=submit]").click()
    expect(page.locator("#reply-text")).to_have_value(
        re.compile(
            rf"^Bonjour [^,]+, votre remboursement du dossier {case_id} arrive "
            r"sous 48 h\.$"
        )
    )
    expect(page.locator("#template-form")).to_be_hidden()
    expect(page.locator("#reply-length")).to_contain_text("caractères")
    page.locator("#preview summary").click()
    page.locator("#card-button").click()
    card = page.locator("#card-image")
    expect(card).to_be_visible()
    assert card.evaluate("img => img.complete && img.naturalWidth") > 300
    assert desk.problems(page) == ([], [])


def test_attaching_the_answer_card(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(["carte : je voudrais le détail de ma facture"])
    page = desk.page(browser, "ana", f"/cases/{case_id}")
    attach = page.locator("#card-attach")
    expect(attach).to_be_hidden()  # nothing to attach before a card is shown
    compose(page, "Votre facture est disponible dans votre espace client.")
    page.locator("#preview summary").click()
    page.locator("#card-button").click()
    expect(page.locator("#card-image")).to_be_visible()
    expect(page.locator("#card-attach-row")).to_have_text("Joindre cette carte à la réponse")
    attach.check()
    with page.expect_request(f"**/api/cases/{case_id}/replies") as sent:
        page.locator("#send").click()
    body = sent.value.post_data_json
    assert body["card_title"] == ""
    assert body["card_text"] == "Votre facture est disponible dans votre espace client."
    # The simulated network cannot carry an image: the server's refusal is shown, nothing queued.
    expect(page.locator("#send-state")).to_contain_text("cannot carry an answer card")
    expect(page.locator("#sent-replies li")).to_have_count(0)
    attach.uncheck()
    with page.expect_request(f"**/api/cases/{case_id}/replies") as sent:
        page.locator("#send").click()
    assert "card_text" not in sent.value.post_data_json
    expect(page.locator("#sent-replies li.public")).to_have_count(1)
    expect(attach).to_be_hidden()  # the next reply starts without a card
    assert desk.problems(page) == ([], [])


def test_a_long_public_answer_is_split_into_a_thread(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(["Pourquoi mon train a-t-il été supprimé ce matin ?"])
    page = desk.page(browser, "ana", f"/cases/{case_id}")
    sentence = "Le train de 8 h 12 a été supprimé à cause d'une panne de signalisation. "
    compose(page, sentence * 5)
    expect(page.locator("#reply-parts")).to_have_text("Fil de 2 messages")
    expect(page.locator("#preview")).to_have_attribute("open", "")
    parts = page.locator("#preview-body li.part p.text")
    expect(parts).to_have_count(2)
    expect(parts.nth(0)).to_have_text(re.compile(r" 1/2$"))
    expect(parts.nth(1)).to_have_text(re.compile(r"\^AL 2/2$"))
    lengths = page.locator("#preview-body li.part .part-len").all_inner_texts()
    assert all(int(t.split(" / ")[0]) <= 280 for t in lengths), lengths


def test_collision_between_two_agents(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(["collision : ma valise a disparu à Lyon"])
    ana = desk.page(browser, "ana", f"/cases/{case_id}")
    ben = desk.page(browser, "ben", f"/cases/{case_id}")
    expect(ana.locator("#presence")).to_contain_text("Ben Carter consulte")
    compose(ana, "Nous cherchons votre valise.")
    expect(ben.locator("#presence")).to_contain_text("Ana Lefèvre is typing…")
    compose(ben, "We found your suitcase, it is at the Lyon desk.")
    ben.locator("#send").click()
    expect(ben.locator("#sent-replies li")).to_have_count(1)
    ana.locator("#send").click()
    warning = ana.locator("#collision")
    expect(warning).to_be_visible()
    expect(ana.locator("#sent-replies li")).to_have_count(0)
    expect(ana.locator("#send")).to_be_disabled()
    expect(warning.locator("li.msg.out")).to_contain_text("We found your suitcase", timeout=20_000)
    screenshot(ana, "case-collision", ready="#messages li.msg")
    ana.locator("#collision-ack").click()
    expect(warning).to_be_hidden()
    ana.locator("#send").click()
    expect(ana.locator("#sent-replies li")).to_have_count(1)
    assert desk.problems(ana) == ([], []) and desk.problems(ben) == ([], [])


def test_case_work_panels(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(
        ["panneaux : mon abonnement est facturé deux fois", ("dm", "autre sujet : ma carte perdue")]
    )
    page = desk.page(browser, "ana", f"/cases/{case_id}", accept_dialogs=True)
    errors, dialogs = desk.problems(page)
    expect(page.locator("#previous-cases")).to_contain_text("Aucun cas précédent")
    page.locator("#note-text").fill("Client fidèle, geste commercial possible.")
    page.locator("#note-form button[type=submit]").click()
    expect(page.locator("#notes li.note")).to_contain_text("Client fidèle")
    expect(page.locator("#notes li.note .author")).to_have_text("Ana Lefèvre")
    page.locator("#tag-input").fill("facturation")
    page.locator("#tag-form button[type=submit]").click()
    expect(page.locator("#tags li.tag")).to_have_text(re.compile("facturation"))
    page.locator("#tags li.tag button.remove").click()
    expect(page.locator("#tags li.tag")).to_have_count(0)
    page.locator("#category-select").select_option("complaint")
    expect(page.locator("#timeline")).to_contain_text("Catégorie corrigée")
    page.locator("#team-select").select_option(label="Facturation")
    page.locator("#status-select").select_option("open")
    expect(page.locator("#case-status")).to_have_text("Ouvert")
    expect(page.locator("#timeline")).to_contain_text("Nouveau → Ouvert")
    # Split the private message into its own case, then merge it back.
    page.locator("#messages li.msg.private .split-pick input").check()
    page.locator("#split-button").click()
    link = page.locator("#split-result")
    expect(link).to_be_visible()
    new_id = int((link.get_attribute("href") or "").rsplit("/", 1)[1])
    expect(page.locator("#messages li.msg")).to_have_count(1)
    expect(page.locator("#previous-cases")).to_contain_text(f"#{new_id}")  # same customer
    page.locator("#merge-target").fill(str(new_id))
    page.locator("#merge-form button[type=submit]").click()
    expect(page.locator("#messages li.msg")).to_have_count(2)
    expect(page.locator("#timeline")).to_contain_text("Cas fusionné ici")
    expect(page.locator("#previous-cases")).to_contain_text("Aucun cas précédent")
    page.reload()
    expect(page.locator("#team-select")).to_have_value(str(desk.team_id))
    expect(page.locator("#category-select")).to_have_value("complaint")
    page.goto(f"{desk.url}/?team_id={desk.team_id}")
    expect(page.locator("#filters select[name=team_id]")).to_have_value(str(desk.team_id))
    expect(page.locator(ROWS)).to_have_count(1)
    expect(row(page, case_id).locator(".badge.cat-complaint")).to_have_text("Réclamation")
    assert errors == []
    assert dialogs and "fusionner" in dialogs[0].lower()


def test_forward_to_an_outside_owner(browser: Browser, desk: Desk) -> None:
    case_id = desk.add_case(["Mon vélo a été abîmé dans le train 6123"])
    page = desk.page(browser, "ana", f"/cases/{case_id}")
    before = len(desk.smtp.messages)
    page.locator("#forward-owner").select_option(str(desk.owner_id))
    page.locator("#forward-message").fill("Pouvez-vous vérifier l'état du vélo ?")
    page.locator("#forward-form button[type=submit]").click()
    expect(page.locator("#forwards li")).to_contain_text("Voies Partenaires")
    expect(page.locator("#forwards li .state")).to_have_text("en attente de réponse")
    mail = desk.smtp.wait_for(before + 1)[-1]
    assert mail.rcpt_tos == ["partner@example.test"]
    assert mail.link.startswith(desk.url + "/outside/")
    outside = browser.new_context(locale="fr-FR")  # no desk login: the link is the key
    owner = outside.new_page()
    owner.goto(mail.link)
    expect(owner.locator("h1")).to_contain_text(str(case_id))
    expect(owner.locator("main")).to_contain_text("Pouvez-vous vérifier l'état du vélo ?")
    expect(owner.locator("main")).to_contain_text("Mon vélo a été abîmé")
    owner.locator("textarea[name=answer]").fill("Le vélo est réparable, nous le prenons en charge.")
    owner.locator("form button[type=submit]").click()
    expect(owner.locator("h1")).to_have_text("Merci !")
    outside.close()
    page.reload()
    expect(page.locator("#notes li.note.outside")).to_contain_text("Le vélo est réparable")
    expect(page.locator("#forwards li .state")).to_have_text("a répondu")
