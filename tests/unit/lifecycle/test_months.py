"""The month plan and the strict / --skip-missing rules with their messages."""

from __future__ import annotations

import pandas as pd
import pytest

from salescast.lifecycle.months import (
    MissingMonthsError,
    MonthFormatError,
    complete_months_from_weeks,
    describe_months,
    format_month,
    parse_month,
    parse_months,
    plan_months,
)


def months(*texts: str) -> list[pd.Timestamp]:
    return [parse_month(text) for text in texts]


AVAILABLE = [*months("2022-01", "2022-02", "2022-03", "2022-04", "2022-05"), *months("2022-07", "2022-08")]


def test_parse_and_format_round_trip():
    assert parse_month("2023-4") == pd.Timestamp("2023-04-01")
    assert format_month(parse_month("2023-04")) == "2023-04"
    assert parse_months("2023-02, 2023-01,2023-02") == months("2023-01", "2023-02")
    for bad in ("2023-13", "23-01", "2023/01", "", "april"):
        with pytest.raises(MonthFormatError, match="YYYY-MM"):
            parse_month(bad)


def test_describe_months_compacts_runs():
    assert describe_months(AVAILABLE) == "2022-01..2022-05, 2022-07..2022-08"
    assert describe_months([]) == "none"


def test_default_plan_is_the_window_before_the_latest_month():
    plan = plan_months(months("2022-01", "2022-02", "2022-03", "2022-04", "2022-05"))
    assert plan.test_month == parse_month("2022-05")
    assert plan.train_months == months("2022-02", "2022-03", "2022-04")
    assert plan.skipped_months == []


def test_incomplete_months_count_as_missing_and_are_named():
    with pytest.raises(MissingMonthsError) as raised:
        plan_months(AVAILABLE, test_month=parse_month("2022-09"), incomplete=months("2022-09"), window=2)
    message = str(raised.value)
    assert "missing months for test month 2022-09 (training months 2022-07..2022-08): 2022-09" in message
    assert "of which incomplete (some days not ingested yet): 2022-09" in message
    assert "latest complete month: 2022-08" in message


def test_explicit_training_months_must_precede_the_test_month():
    plan = plan_months(AVAILABLE, test_month=parse_month("2022-05"), train_months=months("2022-01", "2022-03"))
    assert plan.train_months == months("2022-01", "2022-03")
    with pytest.raises(MonthFormatError, match="not before the test month 2022-05"):
        plan_months(AVAILABLE, test_month=parse_month("2022-05"), train_months=months("2022-04", "2022-05"))


def test_strict_lists_missing_available_and_the_options():
    with pytest.raises(MissingMonthsError) as raised:
        plan_months(AVAILABLE, test_month=parse_month("2022-08"))
    message = str(raised.value)
    assert "missing months for test month 2022-08 (training months 2022-05..2022-07): 2022-06" in message
    assert "available months: 2022-01..2022-05, 2022-07..2022-08" in message
    assert "ingest the data for 2022-06" in message
    assert "--skip-missing" in message
    assert "pick another --test-month (latest complete month: 2022-08)" in message
    assert raised.value.missing == months("2022-06")


def test_skip_missing_trains_on_the_months_present():
    plan = plan_months(AVAILABLE, test_month=parse_month("2022-08"), skip_missing=True)
    assert plan.train_months == months("2022-05", "2022-07")
    assert plan.skipped_months == months("2022-06")


def test_skip_missing_needs_two_training_months():
    with pytest.raises(MissingMonthsError) as raised:
        plan_months(AVAILABLE, test_month=parse_month("2022-07"), window=2, skip_missing=True)
    message = str(raised.value)
    assert "missing months for test month 2022-07 (training months 2022-05..2022-06): 2022-06" in message
    assert "--skip-missing cannot help: only 1 training month(s) remain and at least 2 are needed" in message
    assert "rerun with --skip-missing" not in message
    assert "pick another --test-month" in message


def test_skip_missing_needs_the_test_month():
    with pytest.raises(MissingMonthsError, match="the test month 2022-06 itself is missing"):
        plan_months(AVAILABLE, test_month=parse_month("2022-06"), skip_missing=True)


def test_no_data_at_all_says_how_to_get_some():
    with pytest.raises(MissingMonthsError, match="no monthly sales at all"):
        plan_months([])
    with pytest.raises(MissingMonthsError, match=r"no complete month yet \(partly ingested: 2022-01\)"):
        plan_months([], incomplete=months("2022-01"))


def test_complete_months_need_every_day_covered():
    # 2020-W01 starts Monday 30 Dec 2019; weeks 1..5 cover 2019-12-30 .. 2020-02-02.
    assert complete_months_from_weeks(range(202001, 202006)) == months("2020-01")
    assert complete_months_from_weeks(range(202001, 202005)) == []
