"""HashedTfidf: the vectorised hashing equals the naive reference; tf-idf, pickling, sklearn."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from carebird.understand import features
from carebird.understand.features import HashedTfidf, reference_features

ODD = [
    "",
    "a",
    " ",
    "ab",
    "😀",
    "👍🏽 ok 👨‍👩‍👧",
    "日本語のテキスト、中文",
    "déjà vu, à côté, ça, où, naïve, ÉTÉ",
    "e\u0301te\u0301 cafe\u0301 n\u0303",  # combining marks split tokens
    "a\x00b \x00 \x1f c",
    "\u2028line\u2029sep\ufeff\ufffe\uffff end",
    "\U0010ffff\U000e0001x\U00020000y\U0002ffff\U00030000z",  # last ones: word table edge
    "lone \ud800 surrogate \udfff",
    "  double  spaces  ",
    "_url_ _user_ 0 00 0,0 €",
    "x" * 7,
    "tab\there\nnewline",
]
TWEETS = [
    "_user_ mon train est encore en retard, c'est inadmissible 😡",
    "the router keeps rebooting every ten minutes for a week. unbearable. _user_",
    "quick question: what time does the ticket office in avignon open on sundays?",
    "merci beaucoup pour votre réactivité, problème réglé en 0 min 👍",
]


def random_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    alphabet = "abcdefghij éèàçô_0.,'!?  😀日本\u0301\x00\u2028"
    return [
        "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 2, 5, 30, 120, 280])))
        for _ in range(n)
    ]


def as_counter(row: sp.csr_matrix) -> dict[int, int]:
    return dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))


def assert_matches_reference(vec: HashedTfidf, texts: list[str]) -> None:
    counts = vec._counts(texts)
    assert counts.shape == (len(texts), 2 * vec.n_features)
    assert counts.dtype == np.int32
    for i, text in enumerate(texts):
        want = reference_features(
            text,
            n_features=vec.n_features,
            char_ngrams=vec.char_ngrams,
            word_ngrams=vec.word_ngrams,
        )
        assert as_counter(counts[i]) == dict(want), repr(text)
        assert np.all(np.diff(counts[i].indices) > 0)  # sorted, no duplicates


@pytest.mark.parametrize("text", ODD + TWEETS)
def test_one_text_matches_reference(text: str) -> None:
    assert_matches_reference(HashedTfidf(), [text])


def test_batch_matches_reference_and_keeps_order() -> None:
    texts = ODD + TWEETS + random_texts(600)  # ~50k codepoints: several chunks
    assert_matches_reference(HashedTfidf(), texts)


def test_very_long_text() -> None:
    long = " ".join(random_texts(1500, seed=3))  # ~95k codepoints: more than a chunk
    assert len(long) > 2 * features._CHUNK_CHARS
    assert_matches_reference(HashedTfidf(), ["short one", long, "", "another"])


@pytest.mark.parametrize(
    "params",
    [
        {"n_features": 1000, "char_ngrams": (1, 3), "word_ngrams": (1, 3)},
        {"n_features": 2**10, "char_ngrams": (3, 3), "word_ngrams": (2, 2)},
        {"n_features": 2**25},  # 64-bit keys
        {"n_features": 7, "char_ngrams": (1, 6), "word_ngrams": (1, 4)},
    ],
)
def test_other_parameters_match_reference(params: dict[str, Any]) -> None:
    assert_matches_reference(HashedTfidf(**params), ODD + TWEETS + random_texts(80, seed=1))


def test_tiny_chunks_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ODD + TWEETS + random_texts(200, seed=2)
    vec = HashedTfidf()
    want = vec._counts(texts)
    monkeypatch.setattr(features, "_CHUNK_CHARS", 16)
    got = vec._counts(texts)
    assert (want != got).nnz == 0
    assert np.array_equal(want.indptr, got.indptr)


def test_rows_do_not_depend_on_the_batch() -> None:
    vec = HashedTfidf().fit(TWEETS + ODD)
    alone = [vec.transform([t]) for t in TWEETS + ODD]
    together = vec.transform(TWEETS + ODD)
    shuffled = vec.transform(list(reversed(TWEETS + ODD)))
    for i, row in enumerate(alone):
        assert (together[i] != row).nnz == 0
        assert (shuffled[len(alone) - 1 - i] != row).nnz == 0


def test_hashing_is_the_same_in_another_process() -> None:
    text = TWEETS[0]
    code = (
        "from carebird.understand.features import reference_features as r;"
        f"print(sorted(r({text!r}).items()))"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.strip() == str(sorted(reference_features(text).items()))


def test_transform_shape_dtype_and_norms() -> None:
    vec = HashedTfidf(n_features=2**12)
    x = vec.fit(TWEETS + ODD).transform([*TWEETS, "", "😀", "zzz unseen qqq"])
    assert isinstance(x, sp.csr_matrix)
    assert x.shape == (len(TWEETS) + 3, 2**13)
    assert vec.n_columns_ == 2**13
    assert x.dtype == np.float32
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel()
    assert np.allclose(norms[: len(TWEETS)], 1.0, atol=1e-5)
    assert norms[len(TWEETS)] == 0.0  # empty text
    assert np.isclose(norms[len(TWEETS) + 1], 1.0)  # characters only
    assert np.isclose(norms[-1], 1.0)  # unseen n-grams dropped, the seen ones (" z", …) remain
    assert x.has_sorted_indices


def test_empty_batch() -> None:
    vec = HashedTfidf(n_features=2**10).fit(TWEETS)
    x = vec.transform([])
    assert x.shape == (0, 2**11)
    assert x.dtype == np.float32
    assert vec._counts(iter([])).shape == (0, 2**11)


def test_weights_are_sublinear_tf_times_idf_per_block() -> None:
    train = [*TWEETS, "retard retard retard", "_user_ merci"]
    vec = HashedTfidf(n_features=2**12, word_share=0.3).fit(train)
    text = "retard retard retard encore _user_"
    counts = reference_features(text, n_features=2**12)
    n = len(train)
    df = np.zeros(2**13)
    for t in train:
        for col in reference_features(t, n_features=2**12):
            df[col] += 1
    want = np.zeros(2**13)
    for col, c in counts.items():
        if df[col] > 0:
            want[col] = (1 + np.log(c)) * (np.log((1 + n) / (1 + df[col])) + 1)
    words, chars = want[: 2**12], want[2**12 :]
    want = np.concatenate(
        [words / np.linalg.norm(words) * np.sqrt(0.3), chars / np.linalg.norm(chars) * np.sqrt(0.7)]
    )
    got = vec.transform([text]).toarray().ravel()
    assert np.allclose(got, want, atol=1e-6)
    raw = HashedTfidf(n_features=2**12, sublinear_tf=False).fit(train).transform([text])
    assert not np.allclose(raw.toarray().ravel(), got)


def test_idf_learnt_in_fit_changes_the_weights() -> None:
    common = [f"{w} train" for w in ("late", "cancelled", "delayed", "again")]
    a = HashedTfidf(n_features=2**12).fit(common)
    b = HashedTfidf(n_features=2**12).fit([*common, "late late", "late again"])
    assert not np.allclose(a.transform(["late train"]).data, b.transform(["late train"]).data)
    # in `a`, "train" is in every text, "late" in one: "late" weighs more
    x = a.transform(["late train"])
    cols = a._counts(["late", "train"])
    late, train = cols[0, : 2**12].indices[0], cols[1, : 2**12].indices[0]
    assert x[0, late] > x[0, train] > 0


def test_min_df_drops_rare_columns() -> None:
    texts = ["aa bb", "aa cc", "aa dd"]
    vec = HashedTfidf(n_features=2**12, min_df=2).fit(texts)
    x = vec.transform(["aa bb"])
    aa = vec._counts(["aa"])[0, : 2**12].indices[0]
    bb = vec._counts(["bb"])[0, : 2**12].indices[0]
    assert x[0, aa] > 0
    assert x[0, bb] == 0


def test_joblib_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "features.joblib"
    vec = HashedTfidf(n_features=2**14).fit(TWEETS + random_texts(50))
    joblib.dump(vec, path)
    again = joblib.load(path)
    texts = TWEETS + ODD
    a, b = vec.transform(texts), again.transform(texts)
    assert (a != b).nnz == 0
    assert np.array_equal(a.indptr, b.indptr)


def test_bad_input_and_unfitted() -> None:
    with pytest.raises(TypeError):
        HashedTfidf()._counts("a single string")
    with pytest.raises(ValueError):
        HashedTfidf(char_ngrams=(3, 2))._counts(["x"])
    with pytest.raises(ValueError):
        HashedTfidf(n_features=0)._counts(["x"])
    with pytest.raises(NotFittedError):
        HashedTfidf().transform(["x"])
    vec = HashedTfidf(n_features=2**10).fit(["x"])
    vec.set_params(n_features=2**11)
    with pytest.raises(ValueError):
        vec.transform(["x"])


def test_pipeline_with_logistic_regression() -> None:
    complaints = [
        "mon train est encore annulé, c'est inadmissible",
        "toujours pas de remboursement, honteux",
        "my parcel is late again, terrible service",
        "still no refund after three weeks, awful",
        "no internet since yesterday, unacceptable",
        "la box ne marche plus depuis hier, nul",
    ]
    others = [
        "merci beaucoup pour votre aide",
        "thanks a lot, great service today",
        "what time does the office open?",
        "à quelle heure ouvre le guichet ?",
        "lovely welcome at the station, thank you",
        "bravo pour la nouvelle appli",
    ]
    texts = complaints + others
    labels = ["complaint"] * len(complaints) + ["other"] * len(others)
    pipe = Pipeline([("features", HashedTfidf()), ("clf", LogisticRegression(C=10))])
    pipe.fit(texts, labels)
    assert list(pipe.predict(texts)) == labels
    pred = pipe.predict(["train annulé encore, inadmissible", "thanks a lot for the help"])
    assert list(pred) == ["complaint", "other"]
    assert clone(pipe).get_params()["features__n_features"] == 2**18
