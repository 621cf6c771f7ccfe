"""Reading monitoring reports in the format issue 6 writes."""

from __future__ import annotations

import pytest
from tests.dashboard_support import monitoring_report, write_monitoring_report

from salescast.dashboard.drift_data import (
    ReportFormatError,
    data_drift_frame,
    drifted_names,
    latest_report_path,
    load_report,
    monthly_reports,
    performance_frame,
    reports_dir,
)
from salescast.settings import Settings


def test_latest_json_wins_else_the_newest_month(tmp_path):
    assert latest_report_path(tmp_path) is None
    older = write_monitoring_report(tmp_path, monitoring_report("2023-11"), latest=False)
    newer = write_monitoring_report(tmp_path, monitoring_report("2024-01"), latest=False)
    (tmp_path / "monitoring" / "notes").mkdir()  # not a month: ignored
    assert monthly_reports(tmp_path) == {"2024-01": newer, "2023-11": older}
    assert latest_report_path(tmp_path) == newer
    write_monitoring_report(tmp_path, monitoring_report("2023-12"))
    assert latest_report_path(tmp_path) == tmp_path / "monitoring" / "latest.json"
    assert load_report(latest_report_path(tmp_path))["month"] == "2023-12"


def test_a_broken_report_names_the_file_and_what_is_missing(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("{not json")
    with pytest.raises(ReportFormatError, match=r"report\.json is not valid JSON"):
        load_report(path)
    path.write_text("[]")
    with pytest.raises(ReportFormatError, match="must hold a JSON object, not list"):
        load_report(path)
    path.write_text('{"month": "2024-01", "drifted": true, "thresholds": {}}')
    with pytest.raises(ReportFormatError, match=r"lacks key\(s\) \['created_at', 'data_drift', 'performance'"):
        load_report(path)


def test_frames_keep_report_order_and_sort_months(tmp_path):
    report = monitoring_report()
    report["performance"].reverse()
    drift = data_drift_frame(report)
    assert drift["name"].tolist()[-2:] == ["target", "prediction"] and drift["psi"].isna().sum() == 1
    assert drifted_names(report) == ["growth"]
    performance = performance_frame(report)
    assert performance["month"].dt.strftime("%Y-%m").tolist() == ["2023-10", "2023-11", "2023-12"]


def test_reports_dir_is_the_setting(monkeypatch, tmp_path):
    assert str(reports_dir(Settings())) == "reports"
    monkeypatch.setenv("SALESCAST_REPORTS_DIR", str(tmp_path))
    assert reports_dir(Settings()) == tmp_path


def test_performance_frame_has_the_mase_columns_and_older_reports_show_them_missing():
    report = monitoring_report()  # written as before the MASE keys existed
    assert performance_frame(report)[["champion_mase", "baseline_mase"]].isna().all().all()
    for row, mase in zip(report["performance"], (0.8, 0.9, 1.1), strict=True):
        row |= {"champion_mase": mase, "baseline_mase": 1.0}
    assert performance_frame(report)["champion_mase"].tolist() == [0.8, 0.9, 1.1]
