"""Model files as arrays and JSON: reading one can never run code.

A model file is a numpy ``.npz`` archive read with ``allow_pickle=False``: plain numeric and
text arrays (each feature extractor's IDF, each head's coefficients, intercept and classes)
and ``description``, the model's JSON description as UTF-8 bytes. The description (also
written beside the file as ``<name>.json`` for people and tools; keys added there to the
description of the same model, such as decision thresholds, are read too) names, for each head, its
feature extractor and classifier with their parameters; loading rebuilds the same fitted
objects from it, so probabilities are exactly those of the model that was saved.

Files are recognised by their content, not their name: anything but such an archive, a
pickled (joblib) model of carebird 0.x in particular, is refused. `convert_legacy` unpickles
such a file only when asked explicitly (`carebird convert-model`), for files one trusts.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from carebird.errors import InvalidInput
from carebird.understand.features import HashedTfidf
from carebird.understand.model import FORMAT, Head, NBLogisticRegression, TextModel

MAX_BYTES = 1 << 30  # the arrays of a model file, uncompressed: refuse anything larger
_ZIP_MAGIC = b"PK\x03\x04"
_CLASSIFIERS: dict[str, type[Any]] = {
    "logistic": LogisticRegression,
    "nb-logistic": NBLogisticRegression,
}
_FEATURE_PARAMS = (
    "n_features",
    "char_ngrams",
    "word_ngrams",
    "sublinear_tf",
    "min_df",
    "word_share",
)
_LR_PARAMS = ("C", "class_weight", "fit_intercept", "intercept_scaling", "max_iter", "tol")
_NB_PARAMS = ("c", "alpha", "class_weight", "max_iter")


def _retrain_hint(path: Path) -> str:
    return (
        f"retrain it with `carebird train --out {path.with_suffix('.npz')}`, or, only if you "
        f"trust the file, convert it with `carebird convert-model --i-trust-this-file {path}`"
    )


# -- writing ---------------------------------------------------------------------------------


def model_arrays(model: TextModel) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(JSON description, named arrays) of a model: everything a file holds."""
    description = model.describe()
    arrays: dict[str, np.ndarray] = {}
    features: list[dict[str, Any]] = []
    index: dict[int, int] = {}
    for task, head in model.heads.items():
        if not isinstance(head.features, HashedTfidf):
            raise InvalidInput(f"{task}: cannot save features of type {type(head.features)}")
        if id(head.features) not in index:
            index[id(head.features)] = len(features)
            params = head.features.get_params()
            features.append({k: params[k] for k in _FEATURE_PARAMS})
            arrays[f"features.{index[id(head.features)]}.idf"] = head.features.idf_
        kind = _kind_of(task, head.clf)
        wanted = _LR_PARAMS if kind == "logistic" else _NB_PARAMS
        clf_params = head.clf.get_params()
        description["heads"][task].update(
            features=index[id(head.features)],
            classifier=kind,
            params={k: clf_params[k] for k in wanted},
        )
        arrays[f"heads.{task}.coef"] = np.asarray(head.clf.coef_)
        arrays[f"heads.{task}.intercept"] = np.asarray(head.clf.intercept_)
        arrays[f"heads.{task}.classes"] = np.asarray(head.clf.classes_).astype(str)
        if hasattr(head.clf, "n_iter_"):
            arrays[f"heads.{task}.n_iter"] = np.asarray(head.clf.n_iter_)
    description["features"] = features
    return description, arrays


def _kind_of(task: str, clf: Any) -> str:
    for kind, cls in _CLASSIFIERS.items():
        if type(clf) is cls:
            return kind
    raise InvalidInput(f"{task}: cannot save a classifier of type {type(clf)}")


def save_model(model: TextModel, path: Path) -> None:
    """Write `model` to `path` (atomically) and its description to `path` with ``.json``."""
    if path.suffix == ".json":
        raise InvalidInput(f"{path}: a model file cannot end in .json (its description does)")
    description, arrays = model_arrays(model)
    text = json.dumps(description, indent=2)
    arrays["description"] = np.frombuffer(text.encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as fh:  # a file object: numpy appends no ".npz" to the name
        np.savez_compressed(fh, allow_pickle=False, **arrays)
    tmp.replace(path)  # atomic: a desk watching the file never reads half of it
    path.with_suffix(".json").write_text(text)


# -- reading ---------------------------------------------------------------------------------


def load_model(path: Path) -> TextModel:
    """Read a model file written by `save_model`; refuse anything else with a clear error."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != _ZIP_MAGIC:
        raise InvalidInput(
            f"{path} is not a carebird model file (arrays and JSON). If it is a pickled "
            f"(joblib) model of an older carebird: pickles can run code, so they are never "
            f"loaded; {_retrain_hint(path)}"
        )
    try:
        arrays = _read_arrays(path)
        description = json.loads(bytes(arrays.pop("description")).decode())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not a readable carebird model file: {exc}") from exc
    try:
        model = _rebuild(description, arrays)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"{path} is not a valid carebird model file: {exc!r}") from exc
    beside = _sidecar_extra(path, model.created_at)
    model.decision = beside.pop("decision", model.decision)
    model.extra.update(beside)
    return model


_CORE = frozenset({"format", "sklearn", "created_at", "heads", "features"})


def _sidecar_extra(path: Path, created_at: str) -> dict[str, Any]:
    """Extra keys added to the JSON description beside the file (e.g. decision thresholds
    set after training), if it describes this very model (same `created_at`)."""
    try:
        sidecar = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(sidecar, dict) or sidecar.get("created_at") != created_at:
        return {}
    return {k: v for k, v in sidecar.items() if k not in _CORE}


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if sum(info.file_size for info in zf.infolist()) > MAX_BYTES:
            raise ValueError("its arrays are too large")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _rebuild(description: dict[str, Any], arrays: dict[str, np.ndarray]) -> TextModel:
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise ValueError(f"format {description.get('format')!r}, this carebird reads {FORMAT}")
    features = [_features(i, spec, arrays) for i, spec in enumerate(description["features"])]
    heads = {}
    for task, spec in description["heads"].items():
        feats = features[int(spec["features"])]
        clf = _classifier(task, spec, arrays, feats.n_columns_)
        labels = [str(lab) for lab in spec["labels"]]
        if sorted(labels) != sorted(str(c) for c in clf.classes_):
            raise ValueError(f"{task}: labels {labels} are not its classes")
        heads[str(task)] = Head(
            task=str(task),
            labels=labels,
            features=feats,
            clf=clf,
            trained_on=str(spec.get("trained_on", "")),
            examples=int(spec.get("examples", 0)),
        )
    extra = {k: v for k, v in description.items() if k not in _CORE}
    decision = extra.pop("decision", None)  # the rule's thresholds: a field of their own
    return TextModel(
        heads=heads, created_at=str(description["created_at"]), extra=extra, decision=decision
    )


def _array(arrays: dict[str, np.ndarray], name: str, kind: str, ndim: int) -> np.ndarray:
    a = arrays[name]
    if a.dtype.kind != kind or a.ndim != ndim:
        raise ValueError(f"{name}: {a.dtype}[{a.ndim}-d], expected kind {kind!r} {ndim}-d")
    return a


def _features(i: int, spec: dict[str, Any], arrays: dict[str, np.ndarray]) -> HashedTfidf:
    params = {k: spec[k] for k in _FEATURE_PARAMS}
    for name in ("char_ngrams", "word_ngrams"):
        params[name] = tuple(int(n) for n in params[name])
    feats = HashedTfidf(**params)
    idf = _array(arrays, f"features.{i}.idf", "f", 1)
    if idf.shape[0] != 2 * int(feats.n_features):
        raise ValueError(f"features {i}: {idf.shape[0]} IDF values for {feats.n_features}")
    feats.idf_ = idf
    feats.n_columns_ = idf.shape[0]
    return feats


def _classifier(task: str, spec: dict[str, Any], arrays: dict[str, np.ndarray], n: int) -> Any:
    kind = spec["classifier"]
    if kind not in _CLASSIFIERS:
        raise ValueError(f"{task}: unknown classifier {kind!r}")
    allowed = _LR_PARAMS if kind == "logistic" else _NB_PARAMS
    clf = _CLASSIFIERS[kind]().set_params(**{k: spec["params"][k] for k in allowed})
    classes = _array(arrays, f"heads.{task}.classes", "U", 1)
    coef = _array(arrays, f"heads.{task}.coef", "f", 2)
    intercept = _array(arrays, f"heads.{task}.intercept", "f", 1)
    rows = 1 if classes.shape[0] == 2 else classes.shape[0]
    if classes.shape[0] < 2 or coef.shape != (rows, n) or intercept.shape != (rows,):
        raise ValueError(f"{task}: coefficients {coef.shape} for {classes.shape[0]} classes")
    clf.classes_, clf.coef_, clf.intercept_ = classes, coef, intercept
    if kind == "logistic":
        clf.n_features_in_ = n
        clf.n_iter_ = arrays.get(f"heads.{task}.n_iter", np.zeros(1, dtype=np.int32))
    return clf


def convert_legacy(path: Path) -> TextModel:
    """Unpickle a joblib model of an older carebird. THIS RUNS CODE FROM THE FILE: only for
    files one trusts, and only when asked explicitly (`carebird convert-model`)."""
    import warnings

    import joblib
    import sklearn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = joblib.load(path)
    if not isinstance(data, dict) or data.get("format") != 1:
        raise InvalidInput(f"{path} is not a legacy carebird model file")
    if data.get("sklearn") != sklearn.__version__:
        raise InvalidInput(
            f"{path} was trained with scikit-learn {data.get('sklearn')}, this is "
            f"{sklearn.__version__}: retrain it with `carebird train`"
        )
    model = data["model"]
    if not isinstance(model, TextModel):
        raise InvalidInput(f"{path} holds no carebird model")
    return TextModel(heads=dict(model.heads), created_at=model.created_at)
