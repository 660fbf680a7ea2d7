"""The user's path: an account added and its acknowledgements switched on with the CLI,
`carebird serve` (no simulation) against a local Mastodon server. A private message gets
exactly one acknowledgement, in French, and its case still counts as unanswered in the export;
a public mention gets none (public posts are off by default)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import func, select

from carebird.config import Settings
from carebird.db.database import Database
from carebird.reply.models import OutboxItem
from tests.integration.test_serve_background import _add_account, _case_of, _env, _token
from tests.support.mastodon_harness import BRAND, MastodonHarness
from tests.support.processes import Carebird, run_cli, wait_for


def _from_brand(peer: MastodonHarness) -> list[dict[str, str]]:
    return [m for m in peer.private_messages(customer=0) if m["author"] == BRAND]


def _acks(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        with db.session() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(OutboxItem.purpose == "acknowledgement")
                )
                or 0
            )
    finally:
        db.dispose()


def test_serve_acknowledges_a_private_message_once_and_no_public_post(
    settings: Settings, tmp_path: Path
) -> None:
    env = _env(settings)
    run_cli(env, tmp_path, "db", "upgrade")
    with MastodonHarness() as mastodon:
        _add_account(env, tmp_path, mastodon)
        listed = run_cli(env, tmp_path, "accounts", "list").splitlines()
        (account,) = [json.loads(line) for line in listed if line]
        shown = json.loads(
            run_cli(env, tmp_path, "accounts", "acknowledge", str(account["id"]), "--private")
        )
        assert shown["private"] is True and shown["public"] is False
        server = Carebird("serve", env=env, workdir=tmp_path).wait_healthy()
        try:
            token = _token(env, tmp_path)
            mastodon.send_private(
                "Bonjour, ma carte bancaire est bloquée depuis ce matin, pouvez-vous m'aider ?"
            )
            (ack,) = wait_for("the acknowledgement", lambda: _from_brand(mastodon))
            assert "message bien reçu" in ack["text"] and "revenons vers vous" in ack["text"]
            assert ack["visibility"] == "direct"
            case_id = wait_for("the case", lambda: _case_of(server, token, "carte bancaire"))
            mention = mastodon.customer_posts(
                f"@{BRAND} mon train de 8h12 est encore supprimé", customer=1
            )
            wait_for("the mention's case", lambda: _case_of(server, token, "8h12"))
            assert _acks(settings) == 1  # queued with the case, in the same transaction
            time.sleep(3)  # several outbox passes later, still one acknowledgement, no other
            assert len(_from_brand(mastodon)) == 1
            assert mastodon.replies_to(mention) == []
            exported = run_cli(env, tmp_path, "cases", "export", "--format", "jsonl")
            rows = {r["case_id"]: r for r in map(json.loads, exported.splitlines()) if r}
            assert rows[case_id]["first_response_seconds"] is None
            assert rows[case_id]["first_response_at"] is None
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- serve said:\n{server.output()[-6000:]}") from exc
        finally:
            server.stop()
    assert "Traceback" not in server.output(), server.output()
