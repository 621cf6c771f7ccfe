"""Speed of vegetable name resolution, cold (no cache: the rapidfuzz search) and warm (lru_cache hit).

Run: ``uv run python benchmarks/names_resolution.py``. Prints microseconds per name and saves
``benchmarks/results/names_resolution.json``.
"""

from __future__ import annotations

import platform
import timeit
from datetime import UTC, datetime
from pathlib import Path

import orjson

from salescast.ingest.generate import generate_vegetable_sales
from salescast.ingest.names import LEXICON, normalize_name, resolve_vegetable_name

RESULTS = Path(__file__).parent / "results" / "names_resolution.json"


def _microseconds_per_call(names: list[str], resolve, repeat: int = 5) -> float:
    best = min(timeit.repeat(lambda: [resolve(name) for name in names], number=1, repeat=repeat))
    return best / len(names) * 1e6


def main() -> None:
    feed_names = generate_vegetable_sales(seed=0)["vegetable"].tolist()
    unique_names = sorted(set(feed_names))
    uncached = resolve_vegetable_name.__wrapped__
    resolve_vegetable_name.cache_clear()
    results = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "lexicon_forms": len(LEXICON),
        "feed_rows": len(feed_names),
        "unique_feed_names": len(unique_names),
        "uncached_us_per_unique_name": round(_microseconds_per_call(unique_names, uncached), 2),
        "cached_us_per_feed_row": round(_microseconds_per_call(feed_names, resolve_vegetable_name), 3),
    }
    # Names that miss the exact lexicon (typos, unknown words) pay for the fuzzy search.
    misses = [name for name in unique_names if normalize_name(name) not in LEXICON]
    results["fuzzy_feed_names"] = len(misses)
    results["uncached_us_per_fuzzy_name"] = round(_microseconds_per_call(misses, uncached), 2)
    for key, value in results.items():
        print(f"{key:32} {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
