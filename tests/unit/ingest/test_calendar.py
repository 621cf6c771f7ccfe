import pytest

from salescast.ingest.calendar import (
    InvalidYearWeek,
    check_year_week,
    days_per_month,
    iso_weeks_in_year,
    weeks_overlapping_month,
)


@pytest.mark.parametrize(
    ("year_week", "expected"),
    [
        (202005, ((202001, 5), (202002, 2))),  # 27 Jan – 2 Feb 2020
        (202010, ((202003, 7),)),  # 2–8 Mar 2020, inside one month
        (202053, ((202012, 4), (202101, 3))),  # 28 Dec 2020 – 3 Jan 2021: year boundary
        (202101, ((202101, 7),)),  # 4–10 Jan 2021
        (201901, ((201812, 1), (201901, 6))),  # 31 Dec 2018 – 6 Jan 2019
        (202009, ((202002, 6), (202003, 1))),  # 24 Feb – 1 Mar 2020: leap February keeps its 29th
        (202109, ((202103, 7),)),  # 1–7 Mar 2021
        (202108, ((202102, 7),)),  # 22–28 Feb 2021: non-leap February ends on the Sunday
        (202309, ((202302, 2), (202303, 5))),  # 27 Feb – 5 Mar 2023
    ],
)
def test_days_per_month_splits_each_day_into_its_own_month(year_week, expected):
    assert days_per_month(year_week) == expected
    assert sum(days for _, days in expected) == 7


@pytest.mark.parametrize(("year", "weeks"), [(2015, 53), (2020, 53), (2021, 52), (2022, 52), (2026, 53)])
def test_iso_weeks_in_year(year, weeks):
    assert iso_weeks_in_year(year) == weeks


@pytest.mark.parametrize(
    ("year_week", "fragment"),
    [
        (202000, "week 0 does not exist"),
        (202054, "2020 has only 53 ISO weeks"),
        (202153, "2021 has only 52 ISO weeks"),
        (20205, "outside"),
        (99999999, "outside"),
        (189952, "outside"),  # 1899: years run from 1900 …
        (220001, "outside"),  # … to 2199
    ],
)
def test_invalid_year_weeks_are_rejected_with_a_reason(year_week, fragment):
    with pytest.raises(InvalidYearWeek, match=fragment):
        check_year_week(year_week)


def test_week_53_of_a_53_week_year_is_valid():
    check_year_week(202053)


def test_the_first_and_last_years_accepted_are_1900_and_2199():
    check_year_week(190001)
    check_year_week(219952)


@pytest.mark.parametrize(
    ("year_month", "expected"),
    [
        (202002, (202005, 202006, 202007, 202008, 202009)),
        (202012, (202049, 202050, 202051, 202052, 202053)),
        (202101, (202053, 202101, 202102, 202103, 202104)),
        (202102, (202105, 202106, 202107, 202108)),  # 1 Feb 2021 is a Monday: exactly four weeks
    ],
)
def test_weeks_overlapping_month(year_month, expected):
    assert weeks_overlapping_month(year_month) == expected


def test_weeks_overlapping_month_are_exactly_the_weeks_giving_it_days():
    weeks = [year * 100 + week for year in (2020, 2021) for week in range(1, iso_weeks_in_year(year) + 1)]
    for year_month in [202001, 202003, 202006, 202012, 202101, 202107, 202112]:
        giving = tuple(week for week in weeks if year_month in dict(days_per_month(week)))
        assert weeks_overlapping_month(year_month) == giving
