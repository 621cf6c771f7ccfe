"""Input edges that used to reach the storage: values it cannot hold, names it cannot store, numbers beyond JSON."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from salescast.ingest.names import MAX_NAME_KEY_LENGTH, name_key
from salescast.ingest.schema import (
    NAME_PATTERN,
    AliasIn,
    InvalidJson,
    NumberOutOfRange,
    name_problem,
    parse_json_body,
    validate_sales_rows,
)

GOOD = {"year_week": 202005, "vegetable": "tomato", "sales": 70}


def reasons_of(row: dict, **options) -> list[str]:
    valid, rejected = validate_sales_rows([row], **options)
    assert not valid
    return rejected[0].reasons


@pytest.mark.parametrize("sales", [2e307, 1e308, 1.797e308, 1e12 + 1, 10**400])
def test_sales_above_the_maximum_reject_their_row(sales):
    assert any("larger than the maximum 1e+12" in reason for reason in reasons_of({**GOOD, "sales": sales}))


def test_the_maximum_itself_is_accepted_and_the_bound_is_a_parameter():
    valid, rejected = validate_sales_rows([{**GOOD, "sales": 1e12}])
    assert rejected == [] and valid[0].sales == 1e12
    assert any("maximum 100" in reason for reason in reasons_of({**GOOD, "sales": 101}, max_sales=100))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("tom\x00ato", "U+0000"),
        ("tomato\n", "U+000A"),
        ("to\x7fmato", "U+007F"),
        ("tomato\u2028", "U+2028"),
        ("\ud800tomato", "U+D800"),  # a lone surrogate: not encodable in UTF-8, so not storable
        ("\u200b", "no letter or digit"),  # a zero-width space: nothing visible
        ("\u200b\u200d\ufeff", "no letter or digit"),
        ("!!!", "no letter or digit"),
        ("   ", "empty or blank"),
        ("x" * 201, "longer than 200"),
    ],
)
def test_names_the_storage_could_not_hold_or_nobody_could_read_are_rejected(name, reason):
    assert reason in name_problem(name)
    assert any(reason in text for text in reasons_of({**GOOD, "vegetable": name}))


@pytest.mark.parametrize(
    "name", ["Tomate", "jitomate", "pommes de terre", "ñame", "トマト", "½", "tomato\u200b", "x" * 200]
)
def test_ordinary_and_foreign_names_pass(name):
    assert name_problem(name) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_the_documented_pattern_says_exactly_what_validation_accepts(text):
    """The OpenAPI pattern (used by clients and fuzzers) and the server's rule never disagree."""
    assert (re.fullmatch(NAME_PATTERN, text) is not None) == (name_problem(text) is None)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'[{"sales": 1e309}]', [{"sales": "1e309"}]),
        (b'[{"sales": -1e400}]', [{"sales": "-1e400"}]),
        (b'[{"year_week": 1' + b"0" * 5000 + b"}]", [{"year_week": "1" + "0" * 5000}]),
    ],
)
def test_numbers_beyond_a_float_are_kept_as_text_so_only_their_row_fails(body, expected):
    parsed = parse_json_body(body)
    assert [{key: repr(value) for key, value in row.items()} for row in parsed] == expected
    assert all(isinstance(value, NumberOutOfRange) for row in parsed for value in row.values())


def test_a_row_with_an_out_of_range_number_is_rejected_and_its_neighbours_stored():
    rows = parse_json_body(
        b'[{"year_week": 202005, "vegetable": "tomato", "sales": 1e309}, '
        + b'{"year_week": 202006, "vegetable": "tomato", "sales": 3}]'
    )
    valid, rejected = validate_sales_rows(rows)
    assert [row.year_week for row in valid] == [202006]
    assert rejected[0].index == 0 and rejected[0].reasons == ["sales: 1e309 is out of range (at most 1e+12)"]


@pytest.mark.parametrize("body", [b"[NaN]", b"[Infinity]", b"{not json", b"", b"[" * 100_000, b"[1e309"])
def test_what_is_not_json_stays_refused(body):
    with pytest.raises(InvalidJson, match="not valid JSON"):
        parse_json_body(body)


def test_a_lone_surrogate_parses_and_its_row_is_rejected():
    rows = parse_json_body(b'[{"year_week": 202005, "vegetable": "\\ud800", "sales": 1}, {"sales": 1e309}]')
    _, rejected = validate_sales_rows(rows)
    assert rejected[0].reasons == ["vegetable: holds control or unprintable characters (U+D800)"]
    assert rejected[1].index == 1


def test_messages_never_echo_a_huge_value():
    (reason,) = reasons_of({**GOOD, "sales": "9" * 1_000_000})
    assert len(reason) < 100


def test_alias_bodies_are_bounded_like_names():
    assert AliasIn(alias="tomatl", vegetable="tomato").vegetable == "tomato"
    for bad in ("x" * 1_000_000, "\x00", "\u200b", ""):
        with pytest.raises(ValidationError):
            AliasIn(alias="tomatl", vegetable=bad)
        with pytest.raises(ValidationError):
            AliasIn(alias=bad, vegetable="tomato")


def test_name_keys_are_bounded_even_where_normalization_expands_a_name():
    # U+FDFA becomes 18 characters under NFKD: 200 of them would not fit a PostgreSQL index entry.
    assert len(name_key("\ufdfa" * 200)) == MAX_NAME_KEY_LENGTH
    assert name_key("  Pommes-de-Terre ") == "pommes de terre"
    assert name_key("\ufe70") == "\ufe70"  # a letter normalization removes entirely still has a key
