import math

import pytest

from salescast.ingest.schema import SalesRow, validate_sales_rows

GOOD = {"year_week": 202005, "vegetable": "Tomate", "sales": 70}


def test_valid_rows_pass_and_keep_their_index():
    valid, rejected = validate_sales_rows([GOOD, {**GOOD, "sales": 1.5, "year_week": 202005.0}])
    assert rejected == []
    assert valid == [SalesRow(0, 202005, "Tomate", 70.0), SalesRow(1, 202005, "Tomate", 1.5)]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"year_week": 202005, "sales": 1}, "vegetable: missing"),
        ({**GOOD, "vegetable": ""}, "vegetable: empty or blank"),
        ({**GOOD, "vegetable": "   "}, "vegetable: empty or blank"),
        ({**GOOD, "vegetable": 12}, "vegetable: expected a string"),
        ({**GOOD, "vegetable": "x" * 201}, "longer than 200"),
        ({"year_week": 202005, "vegetable": "tomato"}, "sales: missing"),
        ({**GOOD, "sales": "70"}, "sales: expected a number"),
        ({**GOOD, "sales": True}, "sales: expected a number"),
        ({**GOOD, "sales": -1}, "sales: must be ≥ 0"),
        ({**GOOD, "sales": math.nan}, "sales: must be finite"),
        ({**GOOD, "sales": math.inf}, "sales: must be finite"),
        ({"vegetable": "tomato", "sales": 1}, "year_week: missing"),
        ({**GOOD, "year_week": "202005"}, "year_week: expected an integer"),
        ({**GOOD, "year_week": 202005.5}, "year_week: expected an integer"),
        ({**GOOD, "year_week": 202000}, "week 0 does not exist"),
        ({**GOOD, "year_week": 202054}, "only 53 ISO weeks"),
        ({**GOOD, "year_week": 202153}, "only 52 ISO weeks"),
    ],
)
def test_each_bad_field_is_rejected_with_its_reason(row, reason):
    valid, rejected = validate_sales_rows([row])
    assert valid == []
    assert rejected[0].index == 0
    assert any(reason in text for text in rejected[0].reasons), rejected[0].reasons


def test_one_bad_row_never_blocks_the_others_and_all_reasons_are_listed():
    rows = [GOOD, GOOD, {"year_week": 202054, "vegetable": "", "sales": -3}, "not an object", GOOD]
    valid, rejected = validate_sales_rows(rows)
    assert [row.index for row in valid] == [0, 1, 4]
    assert [error.index for error in rejected] == [2, 3]
    assert len(rejected[0].reasons) == 3
