"""`carebird eval` on the real data sets (shortened to 3 folds to keep the suite fast)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from carebird.cli.main import cli
from tests.support.shared import shared_data

LABELS = Path(__file__).resolve().parents[1] / "data" / "category_labels.csv"


def test_eval_prints_every_figure() -> None:
    data = shared_data("complaints-acl2019/complaints-data.csv").parents[1]
    result = CliRunner().invoke(
        cli, ["eval", "--data", str(data), "--labels", str(LABELS), "--folds", "3"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    cv = figures["complaints"]["cv3"]
    assert cv["macro_f1"] > 0.75 and cv["roc_auc"] > 0.85  # well above chance (0.5)
    assert figures["complaints"]["shipped_model_transfer"]["roc_auc"] > 0.7
    assert figures["sentiment"]["tweeteval_en_val"]["n"] == 2000
    assert figures["sentiment"]["xlmt_fr_val"]["trained_on_xlmt_train_macro_f1"] > 0.55
    categories = figures["categories"]
    assert categories["n"] == 600  # every hand label found its text
    assert categories["per_class"]["complaint"]["precision"] > 0.7
