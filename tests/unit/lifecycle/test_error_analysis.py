"""Error analysis: per item, per quartile bucket, worst rows with features, bias; JSON + PNG."""

from __future__ import annotations

import orjson
import pandas as pd
import pytest

from salescast.lifecycle.error_analysis import analyze_errors, write_error_analysis


@pytest.fixture
def predictions() -> pd.DataFrame:
    sales = [float(value) for value in range(1, 13)]
    # Items 0..5 are over-forecast by 1, items 6..10 under-forecast by 2, item 11 exact.
    prediction = [s + 1 for s in sales[:6]] + [s - 2 for s in sales[6:11]] + [sales[11]]
    return pd.DataFrame(
        {
            "dates": pd.Timestamp("2023-03-01"),
            "item_id": range(12),
            "sales": sales,
            "prediction": prediction,
            "last_month": [s * 2 for s in sales],
        }
    )


def test_bias_buckets_items_and_worst(predictions):
    analysis = analyze_errors(predictions, worst=3)
    assert analysis["bias"] == {
        "share_over": 0.5,
        "share_under": pytest.approx(5 / 12),
        "share_exact": pytest.approx(1 / 12),
        "mean_signed_error": pytest.approx((6 * 1 - 5 * 2) / 12),
    }
    assert [row["bucket"] for row in analysis["per_bucket"]] == ["Q1", "Q2", "Q3", "Q4"]
    assert [row["rows"] for row in analysis["per_bucket"]] == [3, 3, 3, 3]
    assert analysis["per_bucket"][0]["actual_max"] == 3.0
    assert analysis["per_bucket"][0]["mean_signed_error"] == 1.0
    assert len(analysis["per_item"]) == 12
    assert analysis["per_item"][0]["mae"] == 2.0
    assert len(analysis["worst"]) == 3
    worst = analysis["worst"][0]
    assert worst["error"] == -2.0 and worst["last_month"] == worst["sales"] * 2
    assert worst["dates"] == "2023-03-01"


def test_written_as_json_and_png(predictions, tmp_path):
    json_path, png_path = write_error_analysis(analyze_errors(predictions), tmp_path / "analysis", title="v1")
    assert orjson.loads(json_path.read_bytes())["overall"]["rows"] == 12
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_empty_frame_is_refused(predictions):
    with pytest.raises(ValueError, match="at least one row"):
        analyze_errors(predictions.iloc[:0])


def test_per_item_mase_and_scale_list_the_scale_free_worst_first(predictions):
    # item 0 errs by 1 on a scale of 0.1 (MASE 10): the worst relative to its own history, not by MAE (2 for 6..10)
    scale = [0.1] + [1.0] * 10 + [float("nan")]
    analysis = analyze_errors(predictions.assign(mase_scale=scale))
    first = analysis["per_item"][0]
    assert (first["item_id"], first["scale"], first["mase"]) == (0, 0.1, pytest.approx(10.0))
    assert analysis["per_item"][1]["mase"] == 2.0
    assert analysis["per_item"][-1] == analysis["per_item"][-1] | {"item_id": 11, "scale": None, "mase": None}
    assert "mase" not in analyze_errors(predictions)["per_item"][0]  # without a scale: MAE only, as before
