"""Model files hold arrays and JSON: loading one never runs code, and predicts as before."""

from __future__ import annotations

import json
import os
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
from click.testing import CliRunner

from carebird.cli.main import cli
from carebird.errors import InvalidInput
from carebird.understand.classifier import BuiltinClassifier
from carebird.understand.model import TextModel, load_model, train_heads
from carebird.understand.text import for_model

MARKER_ENV = "CAREBIRD_TEST_PWNED"


class _Payload:
    """Unpickling this creates the file named by $CAREBIRD_TEST_PWNED."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f'touch "${MARKER_ENV}"',))


def _small_model() -> TextModel:
    texts = [f"late train number {i} again" for i in range(12)]
    texts += [f"thanks for the quick help {i}" for i in range(12)]
    texts += [f"what time does shop {i} open" for i in range(12)]
    cats = ["complaint"] * 12 + ["praise"] * 12 + ["question"] * 12
    heads = train_heads(
        texts,
        {"category": cats, "complaint": ["1" if c == "complaint" else "0" for c in cats]},
        trained_on="unit",
    )
    return TextModel(heads=heads)


PROBES = [
    for_model(t)
    for t in ["my train is late", "thank you!", "open on sunday?", "", "🙂", "x" * 3000]
]


def test_round_trip_gives_the_same_probabilities_and_description(tmp_path: Path) -> None:
    model = _small_model()
    model.extra = {"thresholds": {"complaint": 0.42}, "note": "kept"}
    path = tmp_path / "m.npz"
    model.save(path)
    assert path.read_bytes()[:4] == b"PK\x03\x04"
    again = load_model(path)
    for task, head in model.heads.items():
        assert np.array_equal(head.proba(PROBES), again.heads[task].proba(PROBES))
        assert again.heads[task].labels == head.labels
    assert again.created_at == model.created_at
    assert again.extra == model.extra
    # heads trained together still share one feature extractor (one vectorisation)
    assert len({id(h.features) for h in again.heads.values()}) == 1
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["thresholds"] == {"complaint": 0.42}
    assert sidecar["heads"]["category"]["labels"] == ["complaint", "praise", "question"]
    assert {"format", "sklearn", "created_at", "heads"} <= set(sidecar)


def test_loading_refuses_a_pickle_without_running_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "pwned"
    monkeypatch.setenv(MARKER_ENV, str(marker))
    path = tmp_path / "old.joblib"
    joblib.dump({"format": 1, "sklearn": sklearn.__version__, "model": _Payload()}, path)
    with pytest.raises(InvalidInput, match=r"pickle.*carebird train"):
        load_model(path)
    with pytest.raises(InvalidInput, match="never loaded"):
        BuiltinClassifier(model_path=path)
    assert not marker.exists()


def test_an_archive_holding_a_pickled_array_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "pwned"
    monkeypatch.setenv(MARKER_ENV, str(marker))
    path = tmp_path / "evil.npz"
    _small_model().save(path)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["heads.category.coef"] = np.array([_Payload()], dtype=object)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    with pytest.raises(InvalidInput, match="not a readable carebird model"):
        load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "damage",
    ["truncate", "garbage", "wrong-shape", "wrong-format", "no-description"],
)
def test_damaged_files_are_refused_clearly(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "m.npz"
    _small_model().save(path)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    description = json.loads(bytes(arrays["description"]).decode())
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:2000])
    elif damage == "garbage":
        path.write_bytes(b"PK\x03\x04" + os.urandom(5000))
    else:
        if damage == "wrong-shape":
            arrays["heads.category.coef"] = arrays["heads.category.coef"][:, :10]
        elif damage == "wrong-format":
            description["format"] = 1
        else:
            del arrays["description"]
        if damage != "no-description":
            arrays["description"] = np.frombuffer(json.dumps(description).encode(), np.uint8)
        with path.open("wb") as fh:
            np.savez(fh, **arrays)
    with pytest.raises(InvalidInput, match="carebird model file"):
        load_model(path)


def test_a_model_file_cannot_be_named_like_its_description(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"\.json"):
        _small_model().save(tmp_path / "m.json")


def test_convert_model_needs_consent_and_keeps_probabilities(tmp_path: Path) -> None:
    model = _small_model()
    legacy = tmp_path / "old.joblib"
    joblib.dump({"format": 1, "sklearn": sklearn.__version__, "model": model}, legacy)
    runner = CliRunner()
    refused = runner.invoke(cli, ["convert-model", str(legacy)])
    assert refused.exit_code == 2 and "runs any code" in refused.output
    assert not legacy.with_suffix(".npz").exists()
    out = runner.invoke(cli, ["convert-model", str(legacy), "--i-trust-this-file"])
    assert out.exit_code == 0, out.output
    converted = load_model(legacy.with_suffix(".npz"))
    for task, head in model.heads.items():
        assert np.array_equal(head.proba(PROBES), converted.heads[task].proba(PROBES))


def test_train_writes_the_safe_format(tmp_path: Path) -> None:
    csv_path = tmp_path / "labels.csv"
    rows = ["text,label"] + [f"blue widget {i},1" for i in range(20)]
    rows += [f"red gadget {i},0" for i in range(20)]
    csv_path.write_text("\n".join(rows) + "\n")
    out_path = tmp_path / "m.npz"
    args = ["train", "--labels", str(csv_path), "--task", "complaint", "--out", str(out_path)]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    assert out_path.read_bytes()[:4] == b"PK\x03\x04"
    assert load_model(out_path).heads["complaint"].labels == ["0", "1"]


def test_a_pickle_copied_over_a_watched_model_is_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The desk reloads a replaced model file; a pickle in its place is refused, the model
    loaded before stays, and the next valid file is picked up."""
    marker = tmp_path / "pwned"
    monkeypatch.setenv(MARKER_ENV, str(marker))
    path = tmp_path / "desk.npz"
    model = _small_model()
    model.save(path)
    watching = BuiltinClassifier(model_path=path)
    before = watching.model()
    joblib.dump({"format": 1, "sklearn": sklearn.__version__, "model": _Payload()}, path)
    os.utime(path, (1, 1))  # a distinct mtime on fast disks
    assert watching.model() is before
    assert "keeping the model loaded before" in caplog.text
    assert not marker.exists()
    model.extra = {"version": 2}
    model.save(path)
    os.utime(path, (2, 2))
    reloaded = watching.model()
    assert reloaded is not before
    assert reloaded.extra == {"version": 2}
    assert np.array_equal(
        reloaded.heads["complaint"].proba(PROBES), model.heads["complaint"].proba(PROBES)
    )


def test_keys_added_to_the_json_beside_the_model_are_read(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    model = _small_model()
    model.extra = {"thresholds": {"complaint": 0.5}}
    model.save(path)
    sidecar = path.with_suffix(".json")
    description = json.loads(sidecar.read_text())
    description["thresholds"] = {"complaint": 0.8}
    description["decision"] = {"by": "calibration"}
    sidecar.write_text(json.dumps(description))
    reloaded = load_model(path)
    assert reloaded.extra == {"thresholds": {"complaint": 0.8}}
    assert reloaded.decision == {"by": "calibration"}  # the decision rule: a field of its own
    description["created_at"] = "2000-01-01T00:00:00+00:00"  # describes another model
    sidecar.write_text(json.dumps(description))
    assert load_model(path).extra == {"thresholds": {"complaint": 0.5}}
    sidecar.write_text("{not json")
    assert load_model(path).extra == {"thresholds": {"complaint": 0.5}}
