"""Learning from the desk: agents' corrections retrain both tiers (`carebird train
--from-desk`), evaluated on the newest corrections held out before the model in use is
replaced; a worse candidate, or too few corrections, leave the model in use alone."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

from carebird.cases.service import correct_category
from carebird.config import Settings
from carebird.db.database import Database
from carebird.flows.reclassify import ReclassifySetup
from carebird.understand.accurate import SHIPPED as ACCURATE_SHIPPED
from carebird.understand.accurate import AccurateClassifier
from carebird.understand.classifier import BuiltinClassifier
from carebird.understand.defaults import SHIPPED as FAST_SHIPPED
from carebird.understand.learn import (
    MIN_CORRECTIONS,
    Correction,
    Tier,
    TierReport,
    candidate_path,
    desk_corrections,
    learn_tier,
)
from tests.factories import agent_with_token, case_of, customer, ingest, item
from tests.support.processes import run_cli

# A brand's own jargon the shipped models do not read as a complaint.
JARGON = "zinkbox {n} en mode flurbo kvark"
UNSEEN = "la zinkbox fait du flurbo kvark"
NOISE = "concours zorgle: tagguez trois amis pour gagner un mug {n}"


def corrected_desk(db: Database, *, complaints: int, noise: int) -> None:
    """Messages of the jargon filed by agents as complaints, and noise as "not a request"."""
    texts = [JARGON.format(n=n) for n in range(complaints)]
    texts += [NOISE.format(n=n) for n in range(noise)]
    ingest(db, [item(customer(100 + i), t, external_id=f"j{i}") for i, t in enumerate(texts)])
    me, _ = agent_with_token(db)
    for i, text in enumerate(texts):
        with db.session() as s, s.begin():
            category = "complaint" if text.startswith("zinkbox") else "other"
            correct_category(s, case_id=case_of(db, f"j{i}"), category=category, actor_id=me.id)


def test_the_latest_correction_of_a_message_wins(db: Database) -> None:
    corrected_desk(db, complaints=2, noise=1)
    me, _ = agent_with_token(db)
    with db.session() as s, s.begin():  # the agent changes their mind
        correct_category(s, case_id=case_of(db, "j0"), category="question", actor_id=me.id)
    with db.session() as s:
        found = desk_corrections(s)
    assert len(found) == 3
    assert found[-1] == (JARGON.format(n=0), "question")  # ordered by its latest correction
    assert sorted(c for _, c in found) == ["complaint", "other", "question"]


def test_train_from_desk_learns_the_agents_jargon_and_installs_it(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    shipped = BuiltinClassifier()
    assert shipped.classify([UNSEEN])[0].category != "complaint"
    corrected_desk(db, complaints=18, noise=6)
    model = tmp_path / "desk.npz"
    env = {"CAREBIRD_DATABASE_URL": db_url, "CAREBIRD_MODEL_PATH": str(model)}
    out = json.loads(run_cli(env, tmp_path, "train", "--from-desk", "--tier", "fast", "--json"))
    (fast,) = out["tiers"]
    assert (fast["tier"], fast["corrections"], fast["held_out"]) == ("fast", 24, 5)
    assert fast["installed"] and fast["written"] == str(model)
    for side in ("current", "candidate"):
        assert set(fast[side]) == {"n", "accuracy", "macro_f1", "complaints", "missed_complaints"}
        assert fast[side]["n"] == 5
    assert fast["candidate"]["macro_f1"] >= fast["current"]["macro_f1"]
    learnt = BuiltinClassifier(model_path=model)
    assert learnt.classify([UNSEEN])[0].category == "complaint"
    assert (
        "agent corrections"
        in json.loads(model.with_suffix(".json").read_text())["heads"]["category"]["trained_on"]
    )

    # As text: the figures, then where the model went.
    text = run_cli(env, tmp_path, "train", "--from-desk", "--tier", "fast")
    lines = text.splitlines()
    assert lines[0] == "fast tier: 24 corrections, 5 newest held out"
    assert lines[1].lstrip().startswith("current") and "macro-F1" in lines[1]
    assert lines[2].lstrip().startswith("candidate") and "missed complaints" in lines[2]
    assert lines[-1] == f"  installed: {model}"


def test_too_few_corrections_leave_the_model_in_use(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    corrected_desk(db, complaints=MIN_CORRECTIONS - 5, noise=4)
    model = tmp_path / "desk.npz"
    env = {"CAREBIRD_DATABASE_URL": db_url, "CAREBIRD_MODEL_PATH": str(model)}
    text = run_cli(env, tmp_path, "train", "--from-desk", "--tier", "fast", status=3)
    assert f"only 19 corrections (at least {MIN_CORRECTIONS} needed)" in text
    assert not model.exists() and not candidate_path(model).exists()


def _wrongly_taught() -> list[Correction]:
    """Older corrections filing plain complaints as praise, the newest (held out) right."""
    angry = "remboursez-moi immédiatement, votre service est une arnaque honteuse {n}"
    wrong = [(angry.format(n=n), "praise") for n in range(16)]
    return wrong + [(angry.format(n=100 + n), "complaint") for n in range(5)]


def test_a_worse_candidate_is_written_beside_not_installed(tmp_path: Path) -> None:
    in_use = tmp_path / "desk.npz"
    shutil.copyfile(FAST_SHIPPED, in_use)
    shutil.copyfile(FAST_SHIPPED.with_suffix(".json"), in_use.with_suffix(".json"))
    before = in_use.read_bytes()
    seen: list[bool] = []

    def evaluated(report: TierReport) -> None:
        seen.append(candidate_path(in_use).exists())  # reported before anything is written

    report = learn_tier(
        Tier("fast"), _wrongly_taught(), target=in_use, in_use=in_use, evaluated=evaluated
    )
    assert seen == [False]
    assert report.held_out == 5 and report.current["complaints"] == 5
    assert report.candidate["missed_complaints"] >= report.current["missed_complaints"]
    assert report.candidate["macro_f1"] < report.current["macro_f1"]
    assert not report.installed and report.reason.startswith("worse")
    assert in_use.read_bytes() == before  # the model in use is untouched
    assert report.written == candidate_path(in_use) and report.written.is_file()

    forced = learn_tier(Tier("fast"), _wrongly_taught(), target=in_use, in_use=in_use, force=True)
    assert forced.installed and in_use.read_bytes() != before


def test_the_accurate_tier_learns_and_the_desk_reloads_its_heads(tmp_path: Path) -> None:
    heads = tmp_path / "accurate.npz"
    shutil.copyfile(ACCURATE_SHIPPED, heads)
    shutil.copyfile(ACCURATE_SHIPPED.with_suffix(".json"), heads.with_suffix(".json"))
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        secret_key=secrets.token_urlsafe(32),
        accurate_tier=True,
        accurate_model_path=heads,
    )
    setup = ReclassifySetup.from_settings(settings)  # the background re-score's classifier
    assert setup is not None and isinstance(setup.classifier, AccurateClassifier)
    at_desk = setup.classifier
    assert at_desk.path == heads
    assert at_desk.classify([UNSEEN])[0].category != "complaint"
    corrections = [(JARGON.format(n=n), "complaint") for n in range(18)]
    corrections += [(NOISE.format(n=n), "other") for n in range(6)]
    printed: list[dict[str, object]] = []
    report = learn_tier(
        Tier("accurate"),
        corrections,
        target=heads,
        in_use=heads,
        evaluated=lambda r: printed.append(dict(r.candidate)),
    )
    assert printed and report.installed and report.written == heads
    meta = json.loads(heads.with_suffix(".json").read_text())
    assert (meta["corrections"], meta["correction_weight"]) == (24, 3)
    assert at_desk.classify([UNSEEN])[0].category == "complaint"  # reloaded, no restart


def test_the_accurate_tier_needs_a_heads_path(tmp_path: Path, db_url: str) -> None:
    env = {"CAREBIRD_DATABASE_URL": db_url}
    run_cli(env, tmp_path, "train", "--from-desk", "--tier", "accurate", status=2)
