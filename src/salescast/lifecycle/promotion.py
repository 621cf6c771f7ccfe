"""The champion/challenger rule: when a newly trained version takes the ``champion`` alias.

A candidate is promoted when it beats the SameMonthLastYearSales baseline on RMSE **and**, if there
is a champion, at least :data:`REQUIRED_IMPROVEMENTS` of RMSE, MAE and R² improve over the champion
evaluated on the same test month. Lower RMSE/MAE and higher R² are improvements; a tie (equal up to
:data:`TIE_TOLERANCE` relative) is not. A metric that is NaN on either side cannot improve.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

GATE_BASELINE = "SameMonthLastYearSales"
COMPARED_METRICS = ("rmse", "mae", "r2")
HIGHER_IS_BETTER = {"r2"}
REQUIRED_IMPROVEMENTS = 2
TIE_TOLERANCE = 1e-9

PROMOTED = "promoted"
KEPT = "kept"


@dataclass(frozen=True)
class PromotionDecision:
    """What happened to one candidate and why; ``improved`` names the metrics that beat the champion."""

    promoted: bool
    reason: str
    beats_baseline: bool
    improved: list[str] = field(default_factory=list)
    champion_version: str | None = None

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


def decide_promotion(
    candidate: Mapping[str, float],
    baseline_rmse: float | None,
    champion: Mapping[str, float] | None = None,
    champion_version: str | None = None,
) -> PromotionDecision:
    """Apply the rule to the candidate's metrics, the gate baseline's RMSE and the champion's metrics.

    ``champion`` is None when no version holds the alias yet (the first model): then beating the
    baseline is enough.
    """
    beats_baseline = baseline_rmse is not None and is_improvement("rmse", candidate["rmse"], baseline_rmse)
    baseline_text = "n/a" if baseline_rmse is None or math.isnan(baseline_rmse) else f"{baseline_rmse:.4g}"
    gate = f"RMSE {candidate['rmse']:.4g} vs {GATE_BASELINE} {baseline_text}"
    if champion is None:
        if beats_baseline:
            return PromotionDecision(True, f"first champion: beats {GATE_BASELINE} ({gate})", True)
        return PromotionDecision(False, f"no champion yet and does not beat {GATE_BASELINE} ({gate})", False)
    improved = [metric for metric in COMPARED_METRICS if is_improvement(metric, candidate[metric], champion[metric])]
    comparison = ", ".join(f"{metric} {candidate[metric]:.4g} vs {champion[metric]:.4g}" for metric in COMPARED_METRICS)
    versus = f"champion v{champion_version}" if champion_version else "champion"
    summary = f"{len(improved)}/{len(COMPARED_METRICS)} metrics improve over {versus} ({comparison})"
    enough = len(improved) >= REQUIRED_IMPROVEMENTS
    gate_text = f"{'beats' if beats_baseline else 'does not beat'} {GATE_BASELINE} ({gate})"
    if enough and beats_baseline:
        reason = f"promoted: {summary}; {gate_text}"
    elif enough:
        reason = f"kept {versus}: {summary} but {gate_text}"
    else:
        reason = f"kept {versus}: only {summary}, {REQUIRED_IMPROVEMENTS} needed; {gate_text}"
    return PromotionDecision(enough and beats_baseline, reason, beats_baseline, improved, champion_version)
