"""A deterministic synthetic weekly vegetable feed, with the mess the real feed has (and its ground truth).

The feed covers ISO weeks 2020-W01 … 2023-W52 (2020 has 53 ISO weeks, so 2020-W53 is included) for 16
vegetables. Each vegetable has its own scale (potato ~3,000 a week, artichoke ~40) and a yearly seasonal
profile (a sinusoid peaking at its own week), a small yearly growth and multiplicative noise.

The mess, all drawn from ``numpy.random.default_rng(seed)``:

* raw names drawn at random among each vegetable's EN/FR/ES display forms (:func:`vegetable_vocabulary`),
  with case variations, accents dropped, stray spaces, and a few percent of typos (a letter missing,
  doubled, swapped or wrong) — every typo is checked to resolve to the right canonical name;
* in some weeks one vegetable's sales are split across several raw names (``"Tomate"`` and
  ``"tomatoes"`` in the same week): the cleaned layer must sum them;
* a few exact duplicate keys (same ``year_week`` and same raw name) at the end of their week, as when the
  feed is sent twice — some with the same value, some corrected. **For a duplicate key the last row wins**;
* a few injected outliers (10x sales for one vegetable in one in-season week; recorded);
* a few rows naming fruits (``pomme``, ``banana``): valid rows whose name stays unresolved;
* a few invalid rows: negative sales, empty or blank name, non-numeric sales text, week 0, week 54,
  week 53 of 2021 and of 2022 (years with 52 ISO weeks).
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from salescast.ingest.names import LEXICON, normalize_name, resolve_vegetable_name, vegetable_vocabulary

logger = logging.getLogger(__name__)

FIRST_YEAR = 2020
LAST_YEAR = 2023
OUTLIER_FACTOR = 10
OUTLIER_COUNT = 6
TYPO_RATE = 0.03
DUPLICATE_KEY_COUNT = 8
ROW_KINDS = ("valid", "typo", "duplicate", "unknown", "invalid")


@dataclass(frozen=True)
class SeasonalProfile:
    """Weekly sales of one vegetable: ``level * (1 + amplitude * cos(2 pi (week - peak_week) / 52)) * growth``."""

    vegetable: str
    level: float
    amplitude: float
    peak_week: int


PROFILES: tuple[SeasonalProfile, ...] = (
    SeasonalProfile("potato", 3000, 0.15, 45),
    SeasonalProfile("carrot", 1500, 0.20, 2),
    SeasonalProfile("onion", 1200, 0.10, 40),
    SeasonalProfile("tomato", 600, 0.60, 30),
    SeasonalProfile("cabbage", 450, 0.50, 3),
    SeasonalProfile("lettuce", 400, 0.50, 26),
    SeasonalProfile("leek", 350, 0.60, 2),
    SeasonalProfile("zucchini", 300, 0.70, 30),
    SeasonalProfile("bell pepper", 250, 0.60, 32),
    SeasonalProfile("cauliflower", 250, 0.40, 6),
    SeasonalProfile("green bean", 200, 0.70, 28),
    SeasonalProfile("pumpkin", 150, 0.80, 43),
    SeasonalProfile("eggplant", 150, 0.70, 32),
    SeasonalProfile("spinach", 120, 0.40, 14),
    SeasonalProfile("asparagus", 60, 0.85, 18),
    SeasonalProfile("artichoke", 40, 0.60, 20),
)

_UNKNOWN_NAMES = ("pomme", "Banana", "fresas", "poire")
_YEARLY_GROWTH = 0.03
_NOISE_SIGMA = 0.08


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`write_vegetable_csv` wrote: row counts by kind and the injected outliers."""

    path: Path
    rows: int
    invalid_rows: int
    outliers: int
    vegetables: int
    weeks: int
    typo_rows: int
    duplicate_rows: int
    unknown_name_rows: int
    outlier_keys: tuple[tuple[int, str], ...]


def iso_weeks(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> np.ndarray:
    """All ISO weeks of the years as ``YYYYWW`` integers, in order (a year has 53 weeks when 28 Dec is in W53)."""
    weeks = [
        year * 100 + week
        for year in range(first_year, last_year + 1)
        for week in range(1, date(year, 12, 28).isocalendar().week + 1)
    ]
    return np.asarray(weeks, dtype=np.int64)


def _weekly_truth(rng: np.random.Generator, year_weeks: np.ndarray) -> pd.DataFrame:
    """True weekly sales per (year_week, vegetable) on the full grid, with outliers injected and flagged."""
    n_weeks, n_vegetables = len(year_weeks), len(PROFILES)
    week_of_year = year_weeks % 100
    years_elapsed = (year_weeks // 100 - FIRST_YEAR) + week_of_year / 52
    level = np.array([profile.level for profile in PROFILES])
    amplitude = np.array([profile.amplitude for profile in PROFILES])
    peak = np.array([profile.peak_week for profile in PROFILES])
    season = 1 + amplitude[None, :] * np.cos(2 * np.pi * (week_of_year[:, None] - peak[None, :]) / 52)
    growth = 1 + _YEARLY_GROWTH * years_elapsed[:, None]
    noise = rng.lognormal(0.0, _NOISE_SIGMA, size=(n_weeks, n_vegetables))
    sales = np.maximum(np.rint(level[None, :] * season * growth * noise), 1).astype(np.int64)

    # Outliers: 10x in an in-season week (season ≥ 1), one per vegetable, so that each is unmistakable
    # under a per-vegetable 5-standard-deviation rule.
    is_outlier = np.zeros_like(sales, dtype=bool)
    for column in rng.choice(n_vegetables, size=OUTLIER_COUNT, replace=False):
        in_season = np.flatnonzero(season[:, column] >= 1)
        row = rng.choice(in_season)
        sales[row, column] *= OUTLIER_FACTOR
        is_outlier[row, column] = True

    return pd.DataFrame(
        {
            "year_week": np.repeat(year_weeks, n_vegetables),
            "canonical": np.tile([profile.vegetable for profile in PROFILES], n_weeks),
            "sales": sales.ravel(),
            "is_injected_outlier": is_outlier.ravel(),
        }
    )


def _split_across_names(rng: np.random.Generator, truth: pd.DataFrame) -> pd.DataFrame:
    """One row per raw name: each true weekly sale split over 1 to 3 distinct display forms of its vegetable."""
    vocabulary = vegetable_vocabulary()
    # Shuffle each vegetable's forms once so neighbouring forms mix languages.
    forms_by_vegetable = {
        profile.vegetable: [
            vocabulary[profile.vegetable][i] for i in rng.permutation(len(vocabulary[profile.vegetable]))
        ]
        for profile in PROFILES
    }
    flat_forms = np.array(
        [form for profile in PROFILES for form in forms_by_vegetable[profile.vegetable]], dtype=object
    )
    form_counts = np.array([len(forms_by_vegetable[profile.vegetable]) for profile in PROFILES])
    form_starts = np.concatenate([[0], np.cumsum(form_counts)[:-1]])
    vegetable_index = pd.Index([profile.vegetable for profile in PROFILES]).get_indexer(truth["canonical"])

    n_keys = len(truth)
    names_per_key = np.minimum(rng.choice([1, 2, 3], size=n_keys, p=[0.82, 0.14, 0.04]), form_counts[vegetable_index])
    key_of_row = np.repeat(np.arange(n_keys), names_per_key)
    first_row_of_key = np.concatenate([[0], np.cumsum(names_per_key)[:-1]])
    position_in_key = np.arange(len(key_of_row)) - first_row_of_key[key_of_row]

    # Integer split that conserves each key's total: random shares, floor, remainder on the key's first row.
    weights = rng.uniform(0.2, 1.0, size=len(key_of_row))
    shares = weights / np.bincount(key_of_row, weights)[key_of_row]
    totals = truth["sales"].to_numpy()
    parts = np.floor(totals[key_of_row] * shares).astype(np.int64)
    parts[first_row_of_key] += totals - np.bincount(key_of_row, parts, minlength=n_keys).astype(np.int64)

    row_vegetable = vegetable_index[key_of_row]
    offset = rng.integers(0, form_counts[vegetable_index])[key_of_row]
    form_index = form_starts[row_vegetable] + (offset + position_in_key) % form_counts[row_vegetable]
    return pd.DataFrame(
        {
            "year_week": truth["year_week"].to_numpy()[key_of_row],
            "vegetable": flat_forms[form_index],
            "sales": parts,
            "canonical": truth["canonical"].to_numpy()[key_of_row],
            "is_injected_outlier": truth["is_injected_outlier"].to_numpy()[key_of_row],
        }
    )


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _vary_surface(rng: np.random.Generator, names: pd.Series) -> pd.Series:
    """Case, accents and stray spaces as people type them; the normalized name never changes."""
    draw = rng.random(len(names))
    varied = names.copy()
    capitalized = draw < 0.15
    varied[capitalized] = varied[capitalized].str.capitalize()
    upper = (draw >= 0.15) & (draw < 0.22)
    varied[upper] = varied[upper].str.upper()
    plain = (draw >= 0.22) & (draw < 0.30)
    varied[plain] = varied[plain].map(_strip_accents)
    padded = (draw >= 0.30) & (draw < 0.33)
    varied[padded] = " " + varied[padded] + "  "
    return varied


def _typo(rng: np.random.Generator, name: str) -> str:
    """One spelling mistake — a letter missing, doubled, swapped or wrong — never on the first letter."""
    letters = [i for i, char in enumerate(name) if char.isalpha() and i > 0]
    position = int(rng.choice(letters))
    kind = rng.integers(4)
    if kind == 0:
        return name[:position] + name[position + 1 :]
    if kind == 1:
        return name[:position] + name[position] + name[position:]
    if kind == 2 and position + 1 < len(name) and name[position + 1].isalpha():
        return name[:position] + name[position + 1] + name[position] + name[position + 2 :]
    replacement = str(rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != name[position].casefold()]))
    if name[position].isupper():
        replacement = replacement.upper()
    return name[:position] + replacement + name[position + 1 :]


def _inject_typos(rng: np.random.Generator, rows: pd.DataFrame) -> pd.Series:
    """Typos on about :data:`TYPO_RATE` of the rows; a typo is kept only if it still resolves to the truth."""
    is_typo = np.zeros(len(rows), dtype=bool)
    names = rows["vegetable"].to_numpy(copy=True)
    canonicals = rows["canonical"].to_numpy()
    for row in np.flatnonzero(rng.random(len(rows)) < TYPO_RATE):
        for _attempt in range(10):
            candidate = _typo(rng, names[row])
            if normalize_name(candidate) not in LEXICON and resolve_vegetable_name(candidate) == canonicals[row]:
                names[row], is_typo[row] = candidate, True
                break
    rows["vegetable"] = names
    return pd.Series(is_typo, index=rows.index)


def _invalid_rows(rng: np.random.Generator, year_weeks: np.ndarray, used_keys: set[tuple[int, str]]) -> pd.DataFrame:
    """Rows the ingestion must reject, each broken in one recognisable way."""
    vocabulary = vegetable_vocabulary()
    vegetables = [profile.vegetable for profile in PROFILES]

    def free_name(year_week: int) -> str:
        while True:
            canonical = vegetables[rng.integers(len(vegetables))]
            name = vocabulary[canonical][rng.integers(len(vocabulary[canonical]))]
            if (year_week, name) not in used_keys:
                used_keys.add((year_week, name))
                return name

    def some_week() -> int:
        return int(year_weeks[rng.integers(len(year_weeks))])

    broken: list[tuple[int, str, object]] = []
    for sales in (-int(rng.integers(1, 100)), "twelve", "12kg"):
        week = some_week()
        broken.append((week, free_name(week), sales))
    broken += [(some_week(), "", int(rng.integers(10, 100))), (some_week(), "   ", int(rng.integers(10, 100)))]
    for bad_week in (202054, 202100, 202153, 202253):
        broken.append((bad_week, free_name(bad_week), int(rng.integers(10, 100))))
    frame = pd.DataFrame(broken, columns=["year_week", "vegetable", "sales"])
    frame["sales"] = frame["sales"].astype(object)
    return frame.assign(canonical=None, row_kind="invalid", is_injected_outlier=False)


def generate_labelled_vegetable_sales(seed: int = 0) -> pd.DataFrame:
    """The generated feed plus its ground truth, in file order.

    Columns: ``year_week`` (int), ``vegetable`` (raw name), ``sales`` (int, or the invalid value as sent),
    ``canonical`` (true canonical name; ``None`` for invalid rows and fruit names), ``row_kind`` (one of
    ``valid``, ``typo``, ``duplicate``, ``unknown``, ``invalid``) and ``is_injected_outlier``. Duplicate
    rows come after the row they repeat, so with "last row wins" the duplicate's value is the truth.
    """
    rng = np.random.default_rng(seed)
    year_weeks = iso_weeks()
    rows = _split_across_names(rng, _weekly_truth(rng, year_weeks))
    rows["vegetable"] = _vary_surface(rng, rows["vegetable"])
    is_typo = _inject_typos(rng, rows)
    rows["row_kind"] = np.where(is_typo, "typo", "valid")
    # Two forms can coincide after case/typo variation; merging them keeps every key unique and totals exact.
    rows = rows.groupby(["year_week", "vegetable", "canonical"], sort=False, as_index=False).agg(
        sales=("sales", "sum"), is_injected_outlier=("is_injected_outlier", "any"), row_kind=("row_kind", "last")
    )

    duplicates = rows.iloc[rng.choice(len(rows), size=DUPLICATE_KEY_COUNT, replace=False)].copy()
    corrected = np.arange(len(duplicates)) % 2 == 1
    duplicates.loc[corrected, "sales"] = duplicates.loc[corrected, "sales"] + rng.integers(1, 20, corrected.sum())
    duplicates["row_kind"] = "duplicate"

    unknown_weeks = year_weeks[rng.choice(len(year_weeks), size=len(_UNKNOWN_NAMES), replace=False)]
    unknown = pd.DataFrame(
        {
            "year_week": unknown_weeks,
            "vegetable": list(_UNKNOWN_NAMES),
            "sales": rng.integers(5, 50, size=len(_UNKNOWN_NAMES)),
            "canonical": None,
            "row_kind": "unknown",
            "is_injected_outlier": False,
        }
    )
    used_keys = set(zip(rows["year_week"], rows["vegetable"], strict=True))
    invalid = _invalid_rows(rng, year_weeks, used_keys)

    labelled = pd.concat(
        [
            rows.astype({"sales": object}),
            unknown.astype({"sales": object}),
            invalid,
            duplicates.astype({"sales": object}),
        ],
        ignore_index=True,
    )
    # File order: by week, shuffled within the week, duplicates (the re-sent rows) last in their week.
    is_resent = (labelled["row_kind"] == "duplicate").to_numpy()
    order = np.lexsort((rng.random(len(labelled)), is_resent, labelled["year_week"].to_numpy()))
    labelled = labelled.iloc[order].reset_index(drop=True)
    return labelled[["year_week", "vegetable", "sales", "canonical", "row_kind", "is_injected_outlier"]]


def generate_vegetable_sales(seed: int = 0) -> pd.DataFrame:
    """The generated weekly feed as it would be received: columns ``year_week``, ``vegetable``, ``sales``.

    Deterministic for a seed. Includes invalid rows (so ``sales`` is object dtype), fruit names, typos,
    several raw names of one vegetable in the same week (summed when cleaned) and exact duplicate keys
    (the feed sent twice: **the last row for a key wins**). See the module docstring for the full list.
    """
    return generate_labelled_vegetable_sales(seed)[["year_week", "vegetable", "sales"]]


def expected_cleaned_weekly_sales(labelled: pd.DataFrame) -> pd.DataFrame:
    """The cleaned weekly layer the ingestion should produce from a labelled feed (ground truth for tests).

    Invalid rows and fruit names are left out, the last row of a duplicate key wins, and raw names of one
    vegetable in the same week are summed. Columns ``year_week``, ``vegetable`` (canonical), ``sales``,
    ``is_injected_outlier``, ordered by (year_week, vegetable).
    """
    resolvable = labelled[labelled["row_kind"].isin(["valid", "typo", "duplicate"])]
    last_per_key = resolvable.drop_duplicates(["year_week", "vegetable"], keep="last")
    cleaned = last_per_key.groupby(["year_week", "canonical"], as_index=False).agg(
        sales=("sales", "sum"), is_injected_outlier=("is_injected_outlier", "any")
    )
    cleaned["sales"] = cleaned["sales"].astype(np.int64)
    return cleaned.rename(columns={"canonical": "vegetable"}).sort_values(["year_week", "vegetable"], ignore_index=True)


def write_vegetable_csv(path: Path, seed: int = 0) -> GenerationSummary:
    """Write the generated feed to ``path`` as CSV ``year_week,vegetable,sales`` (with header, UTF-8).

    Creates missing parent folders. Returns the counts of what was written and the injected outlier keys
    (``(year_week, canonical vegetable)``).
    """
    labelled = generate_labelled_vegetable_sales(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    labelled[["year_week", "vegetable", "sales"]].to_csv(path, index=False, encoding="utf-8")
    kinds = labelled["row_kind"].value_counts()
    outlier_keys = (
        labelled.loc[labelled["is_injected_outlier"], ["year_week", "canonical"]]
        .drop_duplicates()
        .sort_values(["year_week", "canonical"])
    )
    summary = GenerationSummary(
        path=path,
        rows=len(labelled),
        invalid_rows=int(kinds.get("invalid", 0)),
        outliers=len(outlier_keys),
        vegetables=int(labelled["canonical"].nunique()),
        weeks=len(iso_weeks()),
        typo_rows=int(kinds.get("typo", 0)),
        duplicate_rows=int(kinds.get("duplicate", 0)),
        unknown_name_rows=int(kinds.get("unknown", 0)),
        outlier_keys=tuple((int(week), str(vegetable)) for week, vegetable in outlier_keys.itertuples(index=False)),
    )
    logger.info(
        "wrote %d rows (%d invalid, %d outliers) to %s", summary.rows, summary.invalid_rows, summary.outliers, path
    )
    return summary
