"""The synthetic vegetable feed: determinism, calendar, scales, and the injected mess with its ground truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salescast.ingest.generate import (
    OUTLIER_COUNT,
    expected_cleaned_weekly_sales,
    generate_labelled_vegetable_sales,
    generate_vegetable_sales,
    iso_weeks,
    write_vegetable_csv,
)
from salescast.ingest.names import NON_VEGETABLES, normalize_name, resolve_vegetable_name


@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    return generate_labelled_vegetable_sales(seed=3)


def _is_real_iso_week(year_week: int) -> bool:
    year, week = divmod(year_week, 100)
    return 1 <= week <= date(year, 12, 28).isocalendar().week


def test_same_seed_gives_the_same_feed_and_other_seeds_differ() -> None:
    first = generate_vegetable_sales(seed=11)
    pd.testing.assert_frame_equal(first, generate_vegetable_sales(seed=11))
    other = generate_vegetable_sales(seed=12)
    assert not first.equals(other)
    assert list(first.columns) == ["year_week", "vegetable", "sales"]


def test_iso_weeks_run_from_2020_w01_to_2023_w52_with_2020_w53() -> None:
    weeks = iso_weeks()
    assert weeks[0] == 202001
    assert weeks[-1] == 202352
    assert 202053 in weeks
    assert 202153 not in weeks
    assert len(weeks) == 53 + 52 + 52 + 52
    assert np.all(np.diff(weeks) > 0)


def test_valid_rows_cover_every_week_for_at_least_twelve_vegetables(labelled: pd.DataFrame) -> None:
    cleaned = expected_cleaned_weekly_sales(labelled)
    assert cleaned["vegetable"].nunique() >= 12
    assert set(cleaned["year_week"]) == set(iso_weeks())
    assert cleaned.groupby("vegetable")["year_week"].nunique().eq(len(iso_weeks())).all()


def test_vegetables_sell_at_different_scales_with_a_seasonal_pattern(labelled: pd.DataFrame) -> None:
    cleaned = expected_cleaned_weekly_sales(labelled)
    cleaned = cleaned[~cleaned["is_injected_outlier"]]
    median = cleaned.groupby("vegetable")["sales"].median()
    assert median["potato"] > 1000
    assert 100 < median["tomato"] < 1000
    assert median["artichoke"] < 100
    tomato = cleaned[cleaned["vegetable"] == "tomato"]
    by_week_of_year = tomato.groupby(tomato["year_week"] % 100)["sales"].mean()
    assert by_week_of_year.loc[27:33].mean() > 2 * by_week_of_year.loc[1:6].mean()


def test_one_vegetable_appears_under_several_raw_names_in_the_same_week(labelled: pd.DataFrame) -> None:
    resolvable = labelled[labelled["row_kind"].isin(["valid", "typo"])]
    names_per_key = resolvable.groupby(["year_week", "canonical"])["vegetable"].nunique()
    assert (names_per_key >= 2).sum() >= 50
    assert (names_per_key >= 3).any()


def test_exact_duplicate_keys_come_after_the_row_they_repeat(labelled: pd.DataFrame) -> None:
    keys = labelled[["year_week", "vegetable"]]
    repeated = labelled[keys.duplicated(keep=False)]
    assert (repeated["row_kind"] == "duplicate").sum() >= 5
    last_of_each_key = repeated.drop_duplicates(["year_week", "vegetable"], keep="last")
    assert (last_of_each_key["row_kind"] == "duplicate").all()
    corrected = repeated.groupby(["year_week", "vegetable"])["sales"].nunique() > 1
    assert corrected.any(), "some re-sent rows should correct the value, so that last-wins is observable"


def test_invalid_rows_are_present_and_recognisably_invalid(labelled: pd.DataFrame) -> None:
    invalid = labelled[labelled["row_kind"] == "invalid"]
    reasons: set[str] = set()
    for row in invalid.itertuples(index=False):
        row_reasons = set()
        if not _is_real_iso_week(row.year_week):
            row_reasons.add(f"week {row.year_week}")
        if not row.vegetable.strip():
            row_reasons.add("blank name")
        if isinstance(row.sales, str):
            row_reasons.add("non-numeric sales")
        elif row.sales < 0:
            row_reasons.add("negative sales")
        assert row_reasons, f"row {row} is labelled invalid but nothing is wrong with it"
        reasons |= row_reasons
    assert {"week 202054", "week 202100", "week 202153", "blank name", "non-numeric sales", "negative sales"} <= reasons


def test_rows_not_labelled_invalid_are_valid(labelled: pd.DataFrame) -> None:
    fine = labelled[labelled["row_kind"] != "invalid"]
    assert fine["year_week"].map(_is_real_iso_week).all()
    assert fine["vegetable"].str.strip().ne("").all()
    sales = pd.to_numeric(fine["sales"], errors="raise")
    assert (sales >= 0).all()


def test_typo_names_are_real_typos_that_resolve_to_the_right_vegetable(labelled: pd.DataFrame) -> None:
    typos = labelled[labelled["row_kind"] == "typo"]
    share = len(typos) / (labelled["row_kind"] == "valid").sum()
    assert 0.01 < share < 0.06
    for row in typos.itertuples(index=False):
        assert resolve_vegetable_name(row.vegetable) == row.canonical, row.vegetable


def test_every_resolvable_row_resolves_to_its_truth_and_fruits_stay_unresolved(labelled: pd.DataFrame) -> None:
    resolvable = labelled[labelled["row_kind"].isin(["valid", "typo", "duplicate"])]
    resolved = resolvable["vegetable"].map(resolve_vegetable_name)
    pd.testing.assert_series_equal(resolved, resolvable["canonical"], check_names=False, check_dtype=False)
    unknown = labelled[labelled["row_kind"] == "unknown"]
    assert len(unknown) > 0
    assert unknown["vegetable"].map(normalize_name).isin(NON_VEGETABLES).all()
    assert unknown["vegetable"].map(resolve_vegetable_name).isna().all()


def test_injected_outliers_and_only_they_break_the_five_sigma_rule(labelled: pd.DataFrame) -> None:
    cleaned = expected_cleaned_weekly_sales(labelled)
    by_vegetable = cleaned.groupby("vegetable")["sales"]
    z = (cleaned["sales"] - by_vegetable.transform("mean")).abs() / by_vegetable.transform("std", ddof=1)
    assert cleaned["is_injected_outlier"].sum() == OUTLIER_COUNT
    pd.testing.assert_series_equal(z > 5, cleaned["is_injected_outlier"], check_names=False)


def test_write_vegetable_csv_writes_the_feed_and_reports_counts(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "vegetables.csv"
    summary = write_vegetable_csv(path, seed=5)
    assert path.read_text(encoding="utf-8").splitlines()[0] == "year_week,vegetable,sales"
    written = pd.read_csv(path, keep_default_na=False, dtype={"vegetable": str, "sales": str})
    expected = generate_vegetable_sales(seed=5)
    assert len(written) == summary.rows == len(expected)
    assert written["year_week"].tolist() == expected["year_week"].tolist()
    assert written["vegetable"].tolist() == expected["vegetable"].tolist()
    assert written["sales"].tolist() == expected["sales"].astype(str).tolist()
    assert any(not name.isascii() for name in written["vegetable"]), "accented names must survive the UTF-8 round trip"
    assert summary.invalid_rows == 9
    assert summary.outliers == OUTLIER_COUNT == len(summary.outlier_keys)
    assert summary.vegetables >= 12
    assert summary.weeks == 209
    assert summary.duplicate_rows > 0 and summary.typo_rows > 0 and summary.unknown_name_rows > 0
    for year_week, vegetable in summary.outlier_keys:
        assert _is_real_iso_week(year_week)
        assert resolve_vegetable_name(vegetable) == vegetable


def test_seed_0_is_the_feed_the_readme_describes(tmp_path: Path) -> None:
    summary = write_vegetable_csv(tmp_path / "vegetables.csv", seed=0)
    assert (summary.rows, summary.vegetables, summary.weeks) == (4078, 16, 209)
    assert (summary.duplicate_rows, summary.outliers, summary.unknown_name_rows, summary.invalid_rows) == (8, 6, 4, 9)
    labelled = generate_labelled_vegetable_sales(seed=0)
    assert 0.02 < summary.typo_rows / labelled["row_kind"].isin(["valid", "typo"]).sum() < 0.04  # "~3 % typos"
    # Half of the re-sent keys correct their value.
    resent = labelled[labelled["row_kind"] == "duplicate"]
    first = labelled[labelled["row_kind"] != "duplicate"].merge(resent, on=["year_week", "vegetable"])
    assert len(first) == 8 and (first["sales_x"] != first["sales_y"]).sum() == 4
    assert {"pomme", "Banana"} <= set(labelled.loc[labelled["row_kind"] == "unknown", "vegetable"])
    invalid = labelled[labelled["row_kind"] == "invalid"]
    assert {202054, 202100, 202153, 202253} <= set(invalid["year_week"])
    assert {"twelve", "12kg"} <= set(invalid["sales"].astype(str))
    assert (invalid["vegetable"].str.strip() == "").sum() == 2  # an empty and a blank name
    assert (pd.to_numeric(invalid["sales"], errors="coerce") < 0).sum() == 1
    # Scales: potato ~3,000 a week, tomato ~600, artichoke ~40.
    cleaned = expected_cleaned_weekly_sales(labelled)
    mean = cleaned[~cleaned["is_injected_outlier"]].groupby("vegetable")["sales"].mean()
    assert 2500 < mean["potato"] < 3500 and 500 < mean["tomato"] < 750 and 30 < mean["artichoke"] < 55
