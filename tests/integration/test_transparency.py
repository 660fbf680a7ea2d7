"""The public transparency page (both engines): opt-in per account through the API, the CLI
and the Accounts page's option; no sign-in, escaped, cacheable; 404 when not opted in."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from carebird.cli.main import cli
from carebird.db.base import utcnow
from carebird.db.database import Database
from carebird.ingest.models import NetworkAccount
from tests.factories import (
    BRAND,
    T0,
    TestClient,
    agent_with_token,
    bearer,
    customer,
    ingest,
    item,
)

HOSTILE = "<script>alert('x')</script> & Co"


def test_the_record_is_public_only_when_the_account_opts_in(
    db: Database, client: TestClient
) -> None:
    start = (utcnow() - T0).total_seconds() / 60 - 3 * 24 * 60  # three days ago
    ingest(db, [
        item(customer(1), "Mon colis n'est jamais arrivé, remboursez-moi", minutes=start,
             external_id="a1"),
        item(BRAND, "Votre colis repart ce matin, suivi par e-mail.", minutes=start + 20,
             external_id="a2", in_reply_to_id="a1"),
        item(customer(2), "Panne internet depuis hier, aidez-moi", minutes=start + 30,
             external_id="b1"),
        item(customer(3), "Ma facture est fausse", minutes=start - 60 * 24 * 40,
             external_id="c1"),  # older than 30 days: not in the record
    ])  # fmt: skip
    with db.session() as s, s.begin():
        account = s.scalars(select(NetworkAccount)).one()
        account.display_name, account_id = HOSTILE, account.id
        account.active = False  # paused: the factory's account has no credentials to check
    page = f"/public/transparency/{account_id}"
    assert client.get(page).status_code == 404
    assert client.get("/public/transparency/Brand_SAV").status_code == 404
    assert client.get("/public/transparency/nobody").status_code == 404

    _, admin = agent_with_token(db, "admin")
    bad = client.patch(f"/api/accounts/{account_id}", json={"options": {
        "publish_transparency": "yes"}}, headers=bearer(admin))  # fmt: skip
    assert bad.status_code == 422
    on = client.patch(f"/api/accounts/{account_id}", json={"publish_transparency": True},
                      headers=bearer(admin))  # fmt: skip
    assert on.status_code == 200, on.text

    client.cookies.clear()
    for ref in (str(account_id), "Brand_SAV", "@brand_sav", "x:Brand_SAV"):
        response = client.get(f"/public/transparency/{ref}")
        assert response.status_code == 200, ref
        assert response.headers["cache-control"] == "private, max-age=300"
    html = response.text
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    assert 'data-key="answered_within_1h"><span class="n">50 %' in html
    assert 'data-key="support_cases"><span class="n">2<' in html
    assert "20 min" in html
    assert html.count('<tr data-week="') in (1, 2)
    assert client.get("/public/transparency/²").status_code == 404  # a digit, not an id
    # Kept for 5 minutes: a new case does not make an anonymous visit recompute the record.
    ingest(db, [item(customer(4), "Toujours pas de colis", minutes=start + 40, external_id="d1")])
    again = client.get(page).text
    assert 'data-key="support_cases"><span class="n">2<' in again

    off = CliRunner().invoke(cli, ["--database", db.url, "accounts", "set", str(account_id),
                                   "--no-transparency"])  # fmt: skip
    assert off.exit_code == 0, off.output
    assert client.get(page).status_code == 404
