"""The pandera gate on monthly sales."""

from __future__ import annotations

import pandas as pd
import pytest

from salescast.lifecycle.validation import SalesValidationError, validate_monthly_sales


def frame(**overrides) -> pd.DataFrame:
    data = {
        "dates": pd.to_datetime(["2022-01-01", "2022-02-01", "2022-01-01"]),
        "item_id": [1, 1, 2],
        "sales": [3.0, 0.0, 5.5],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def test_valid_frames_pass_with_int_or_string_items():
    assert len(validate_monthly_sales(frame())) == 3
    assert len(validate_monthly_sales(frame(item_id=["carrot", "carrot", "leek"]))) == 3


def test_every_problem_is_reported_at_once():
    bad = frame(dates=pd.to_datetime(["2022-01-01", "2022-01-01", "2022-03-15"]), sales=[1.0, -2.0, None])
    with pytest.raises(SalesValidationError) as raised:
        validate_monthly_sales(bad, source="sales.csv")
    message = str(raised.value)
    assert message.startswith("sales.csv failed validation")
    assert "duplicate (dates, item_id): 2 row(s)" in message
    assert "sales must be >= 0 — 1 row(s) at rows [1]: -2.0" in message
    assert "dates must be month starts" in message
    assert "not_nullable" in message


def test_missing_column_is_named():
    with pytest.raises(SalesValidationError, match="missing required column 'sales'"):
        validate_monthly_sales(frame().drop(columns="sales"))


def test_float_item_ids_are_rejected():
    with pytest.raises(SalesValidationError, match="item_id must be integers or strings"):
        validate_monthly_sales(frame(item_id=[1.5, 1.5, 2.0]))
