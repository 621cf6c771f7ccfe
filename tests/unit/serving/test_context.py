"""A champion trained with an exogenous table still forecasts from a source that lacks it."""

from __future__ import annotations

import pandas as pd

from salescast.forecast.catalog import catalog_from_frames
from salescast.serving.champion import Champion
from salescast.serving.forecasts import with_champion_context


def test_missing_tables_come_from_the_champion_and_present_ones_stay():
    sales = pd.DataFrame({"dates": ["2023-01-01"], "item_id": [1], "sales": [3.0]})
    marketing = pd.DataFrame({"dates": ["2023-01-01"], "item_id": [1], "marketing": [7.0]})
    trained = catalog_from_frames(sales, marketing=marketing)
    champion = Champion("m", "1", "2023-01", [], forecaster=None, context={"marketing": trained.marketing})

    without = catalog_from_frames(sales)
    assert with_champion_context(without, champion).marketing["marketing"].tolist() == [7.0]

    own = catalog_from_frames(sales, marketing=marketing.assign(marketing=1.0))
    assert with_champion_context(own, champion).marketing["marketing"].tolist() == [1.0]
    assert with_champion_context(without, Champion("m", "1", None, [], forecaster=None)) is without
