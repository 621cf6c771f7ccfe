"""The champion/challenger rule: when a newly trained version takes the ``champion`` alias.

A candidate is promoted when it passes three gates against the SameMonthLastYearSales baseline on the
test month — it **beats** it on pooled RMSE, it is **not worse** on mean per-item MASE (pooled RMSE is
dominated by the biggest sellers; MASE weighs every item the same), and its forecasts are
**plausible** (:mod:`salescast.lifecycle.plausibility`) — **and**, if there is a champion, at least
:data:`REQUIRED_IMPROVEMENTS` of RMSE, MAE and R² improve over the champion evaluated on the same test
month. Lower RMSE/MAE/MASE and higher R² are improvements; a tie (equal up to :data:`TIE_TOLERANCE`
relative) is not, and a MASE tie is "not worse". A metric that is NaN on either side cannot improve; a
MASE that is NaN (no item has a usable seasonal-naive scale) cannot judge, and the reason says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salescast.lifecycle.plausibility import PlausibilityReport

GATE_BASELINE = "SameMonthLastYearSales"
COMPARED_METRICS = ("rmse", "mae", "r2")
HIGHER_IS_BETTER = {"r2"}
REQUIRED_IMPROVEMENTS = 2
TIE_TOLERANCE = 1e-9

PROMOTED = "promoted"
KEPT = "kept"


@dataclass(frozen=True)
class PromotionDecision:
    """What happened to one candidate and why; ``improved`` names the metrics that beat the champion.

    ``beats_baseline`` is the RMSE gate, ``mase_ok`` the MASE gate, ``plausible`` the plausibility gate.
    """

    promoted: bool
    reason: str
    beats_baseline: bool
    improved: list[str] = field(default_factory=list)
    champion_version: str | None = None
    mase_ok: bool = True
    plausible: bool = True

    @property
    def outcome(self) -> str:
        return PROMOTED if self.promoted else KEPT


def is_improvement(metric: str, candidate: float, reference: float) -> bool:
    """True when ``candidate`` is strictly better than ``reference`` on ``metric`` (ties and NaN are not)."""
    if candidate is None or reference is None or math.isnan(candidate) or math.isnan(reference):
        return False
    if math.isclose(candidate, reference, rel_tol=TIE_TOLERANCE, abs_tol=TIE_TOLERANCE):
        return False
    return candidate > reference if metric in HIGHER_IS_BETTER else candidate < reference


def _number(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4g}"


def _gates(
    candidate: Mapping[str, float], baseline: Mapping[str, float], plausibility: PlausibilityReport | None
) -> tuple[bool, bool, bool, str]:
    """(beats on RMSE, not worse on MASE, plausible, the text saying each gate's outcome with its numbers)."""
    baseline_rmse = baseline.get("rmse")
    beats = baseline_rmse is not None and is_improvement("rmse", candidate["rmse"], baseline_rmse)
    rmse = f"RMSE {_number(candidate['rmse'])} vs {GATE_BASELINE} {_number(baseline_rmse)}"
    parts = [f"{'beats' if beats else 'does not beat'} {GATE_BASELINE} on RMSE ({rmse})"]
    candidate_mase, baseline_mase = candidate.get("mase"), baseline.get("mase")
    mase = f"mean MASE {_number(candidate_mase)} vs {GATE_BASELINE} {_number(baseline_mase)}"
    judged = not any(value is None or math.isnan(value) for value in (candidate_mase, baseline_mase))
    mase_ok = not judged or not is_improvement("mase", baseline_mase, candidate_mase)
    if not judged:
        parts.append(f"MASE cannot judge ({mase}: no item has a usable seasonal-naive scale)")
    elif mase_ok:
        parts.append(f"not worse on mean MASE ({mase})")
    else:
        parts.append(f"worse than {GATE_BASELINE} on mean MASE ({mase})")
    plausible = plausibility is None or plausibility.plausible
    if plausibility is not None:
        parts.append(plausibility.describe())
    return beats, mase_ok, plausible, "; ".join(parts)


def decide_promotion(
    candidate: Mapping[str, float],
    baseline: Mapping[str, float] | None,
    champion: Mapping[str, float] | None = None,
    champion_version: str | None = None,
    plausibility: PlausibilityReport | None = None,
) -> PromotionDecision:
    """Apply the rule to the candidate's metrics, the gate baseline's (``rmse``, ``mase``) and the champion's.

    ``champion`` is None when no version holds the alias yet (the first model): then passing the baseline
    gates is enough. ``plausibility`` is the candidate's check on the test month (None: not checked).
    The reason names every failed gate first, with its numbers.
    """
    beats, mase_ok, plausible, gates = _gates(candidate, baseline or {}, plausibility)
    failed = [name for name, ok in (("RMSE", beats), ("MASE", mase_ok), ("plausibility", plausible)) if not ok]
    gates_ok = not failed
    failed_text = f"fails the {' and '.join(failed)} gate{'s' if len(failed) > 1 else ''}: " if failed else ""

    def decision(promoted: bool, reason: str, improved: list[str] | None = None) -> PromotionDecision:
        return PromotionDecision(promoted, reason, beats, improved or [], champion_version, mase_ok, plausible)

    if champion is None:
        if gates_ok:
            return decision(True, f"first champion: {gates}")
        return decision(False, f"no champion yet and {failed_text}{gates}")
    improved = [metric for metric in COMPARED_METRICS if is_improvement(metric, candidate[metric], champion[metric])]
    comparison = ", ".join(f"{metric} {candidate[metric]:.4g} vs {champion[metric]:.4g}" for metric in COMPARED_METRICS)
    if champion.get("mase") is not None:
        comparison += f"; mean MASE {_number(candidate.get('mase'))} vs {_number(champion.get('mase'))}"
    versus = f"champion v{champion_version}" if champion_version else "champion"
    summary = f"{len(improved)}/{len(COMPARED_METRICS)} metrics improve over {versus} ({comparison})"
    enough = len(improved) >= REQUIRED_IMPROVEMENTS
    if enough and gates_ok:
        reason = f"promoted: {summary}; {gates}"
    elif enough:
        reason = f"kept {versus}: {summary} but {failed_text}{gates}"
    else:
        needed = f"{REQUIRED_IMPROVEMENTS} needed"
        reason = f"kept {versus}: only {summary}, {needed}; {failed_text}{gates}"
    return decision(enough and gates_ok, reason, improved)
