"""Fixtures of the dashboard tests: the generated vegetable feed in SQLite, models trained on it, a drift report."""

from __future__ import annotations

import json
from pathlib import Path

from salescast.settings import Settings

MODEL_FEATURES = ["same_month_last_year", "last_year_average", "growth"]
# With a 12-month window Ridge beats SameMonthLastYearSales on 2023-10 (promoted) but not on 2023-11 (kept):
# one champion and one challenger, both decisions on the page.
TEST_MONTHS = ("2023-10", "2023-11")


def fill_sales_database(database_url: str, *, seed: int = 0, rows: list[dict] | None = None) -> dict:
    """Post the generated feed (or ``rows``) through the ingestion service; returns the counts."""
    from salescast.ingest.generate import generate_vegetable_sales
    from salescast.ingest.service import IngestService
    from salescast.ingest.store import SalesStore

    if rows is None:
        rows = generate_vegetable_sales(seed).to_dict("records")
    store = SalesStore(database_url)
    store.migrate()
    service = IngestService(store)
    try:
        result = service.post_sales(rows)
    finally:
        service.close()
    return {"inserted": result.inserted, "rejected": result.rejected}


def write_dashboard_pipeline(path: Path) -> Path:
    """The README's pipeline.yaml: the ingestion database without outliers, Ridge on a 12-month window."""
    import yaml

    config = {
        "source": {"kind": "database", "remove_outliers": True},
        "model": "Ridge",
        "features": MODEL_FEATURES,
        "lifecycle": {"window": 12},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def train_versions(settings: Settings, pipeline: Path, months: tuple[str, ...] = TEST_MONTHS):
    """Run the monthly job of ``pipeline`` once per test month."""
    from salescast.lifecycle.job import run_training_job
    from salescast.lifecycle.months import parse_month
    from salescast.lifecycle.sources import load_pipeline_config, load_source

    config = load_pipeline_config(pipeline)
    data = load_source(config.source, settings)
    return [run_training_job(config, settings, test_month=parse_month(month), data=data) for month in months]


def monitoring_report(month: str = "2023-12", *, drifted: bool = True, champion_version: str = "1") -> dict:
    """A report in the format of docs/monitoring_report.md, as salescast monitor writes it."""
    features = [
        ("same_month_last_year", 0.08, 0.11, 0.41),
        ("last_year_average", 0.05, 0.09, 0.62),
        ("growth", 0.31 if drifted else 0.12, 0.29, 0.004 if drifted else 0.2),
    ]
    rows = [
        {
            "name": name,
            "kind": "feature",
            "psi": psi,
            "ks_statistic": ks,
            "ks_pvalue": pvalue,
            "reference_rows": 192,
            "current_rows": 16,
            "drifted": psi >= 0.2 or pvalue < 0.01,
        }
        for name, psi, ks, pvalue in features
    ]
    rows.append(
        {
            "name": "target",
            "kind": "target",
            "psi": 0.12,
            "ks_statistic": 0.2,
            "ks_pvalue": 0.3,
            "reference_rows": 192,
            "current_rows": 16,
            "drifted": False,
        }
    )
    rows.append(
        {
            "name": "prediction",
            "kind": "prediction",
            "psi": None,
            "ks_statistic": None,
            "ks_pvalue": None,
            "reference_rows": 192,
            "current_rows": 16,
            "drifted": False,
        }
    )
    performance = [
        {
            "month": m,
            "champion_rmse": rmse,
            "baseline_rmse": base,
            "champion_mae": rmse * 0.55,
            "baseline_mae": base * 0.5,
            "rows": 16,
        }
        for m, rmse, base in (("2023-10", 411.2, 574.4), ("2023-11", 370.5, 184.9), ("2023-12", 492.0, 329.3))
    ]
    return {
        "month": month,
        "created_at": "2024-01-08T06:00:00+00:00",
        "champion": {"name": "salescast-forecaster", "version": champion_version, "training_month": "2023-10"},
        "thresholds": {"psi": 0.2, "ks_pvalue": 0.01},
        "data_drift": rows,
        "performance": performance,
        "performance_drift": {
            "drifted": drifted,
            "reason": "champion RMSE above the baseline's in 2 of the last 3 months" if drifted else "within bounds",
            "window_months": 3,
        },
        "drifted": drifted,
        "retrained": None,
    }


def write_monitoring_report(reports_dir: Path, report: dict, *, latest: bool = True) -> Path:
    """Write ``report`` where ``salescast monitor`` would: monitoring/<month>/report.json (+ latest.json)."""
    folder = reports_dir / "monitoring" / report["month"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.json"
    path.write_text(json.dumps(report, indent=2))
    if latest:
        (reports_dir / "monitoring" / "latest.json").write_text(json.dumps(report, indent=2))
    return path


APP_FILE = Path(__file__).resolve().parents[1] / "src" / "salescast" / "dashboard" / "app.py"


class DashboardData:
    """The generated feed in SQLite, two model versions trained on it and a drift report, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.database_url = f"sqlite:///{root / 'sales.db'}"
        self.tracking_uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
        self.reports_dir = root / "reports"
        self.pipeline = root / "pipeline.yaml"

    @property
    def settings(self) -> Settings:
        return Settings(
            database_url=self.database_url,
            mlflow_tracking_uri=self.tracking_uri,
            reports_dir=self.reports_dir,
            pipeline_config=self.pipeline,
        )

    @property
    def environment(self) -> dict[str, str]:
        """What the dashboard process needs to read this data."""
        return {
            "SALESCAST_DATABASE_URL": self.database_url,
            "SALESCAST_MLFLOW_TRACKING_URI": self.tracking_uri,
            "SALESCAST_REPORTS_DIR": str(self.reports_dir),
            "SALESCAST_PIPELINE_CONFIG": str(self.pipeline),
        }

    def build(self) -> None:
        import mlflow

        previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
        fill_sales_database(self.database_url)
        write_dashboard_pipeline(self.pipeline)
        try:
            train_versions(self.settings, self.pipeline)
        finally:  # the job points MLflow's process-wide URIs at this store; later tests must not inherit it
            mlflow.set_tracking_uri(previous[0])
            mlflow.set_registry_uri(previous[1])
        write_monitoring_report(self.reports_dir, monitoring_report("2023-11", drifted=False), latest=False)
        write_monitoring_report(self.reports_dir, monitoring_report("2023-12", drifted=True))
        (self.root / "ready").touch()


def shared_dashboard_data(tmp_path_factory) -> DashboardData:
    """One :class:`DashboardData` per test session (built by the first test module that asks, ~20 s).

    Tests must only read it. Kept in the session's base temp folder so integration and e2e modules share it.
    """
    data = DashboardData(tmp_path_factory.getbasetemp() / "dashboard-data")
    if not (data.root / "ready").exists():
        data.root.mkdir(exist_ok=True)
        data.build()
    return data
