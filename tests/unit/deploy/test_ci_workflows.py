"""The GitHub workflows and .ci/run run the same checks, in the same order, as the README promises."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
import yaml

REPO = Path(__file__).resolve().parents[3]
CHECKS = ["uv sync --locked", "uv run ruff check", "uv run ruff format --check", "uv run pytest"]


def _workflow(name: str) -> dict:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())
    # YAML 1.1 reads the bare key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def _in_order(commands: list[str]) -> list[str]:
    return [check for command in commands for check in CHECKS if command.strip() == check]


def test_ci_workflow_runs_the_checks_with_uv_and_a_postgres_service():
    job = _workflow("ci.yml")["jobs"]["test"]
    steps = job["steps"]
    assert any(step.get("uses", "").startswith("astral-sh/setup-uv@") for step in steps)
    commands = [line for step in steps for line in step.get("run", "").splitlines()]
    assert _in_order(commands) == CHECKS
    service = job["services"]["postgres"]
    assert service["image"].startswith("postgres:") and "5432:5432" in service["ports"]
    url = sa.make_url(job["env"]["SALESCAST_TEST_POSTGRES_URL"])
    assert (url.host, url.port, url.database) == ("127.0.0.1", 5432, service["env"]["POSTGRES_DB"])
    assert url.password == service["env"]["POSTGRES_PASSWORD"]
    assert job["env"]["SALESCAST_REQUIRE_POSTGRES"] == job["env"]["SALESCAST_REQUIRE_CONTAINER"] == "1"
    assert job["timeout-minutes"] <= 45


def test_ci_run_calls_the_same_checks_in_the_same_order():
    commands = (REPO / ".ci" / "run").read_text().splitlines()
    assert _in_order(commands) == CHECKS
    assert re.search(r"^export SALESCAST_REQUIRE_CONTAINER=1$", "\n".join(commands), flags=re.MULTILINE)


def test_readme_test_command_is_the_one_ci_runs():
    quickstart = (REPO / "README.md").read_text().split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^uv run pytest\b", quickstart, flags=re.MULTILINE)


def test_image_workflow_builds_the_dockerfile_on_pushes_to_main():
    workflow = _workflow("image.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    build = next(step for step in workflow["jobs"]["build"]["steps"] if "build-push-action" in step.get("uses", ""))
    assert build["with"]["context"] == "."
    assert build["with"]["push"] == "${{ github.event_name == 'push' }}"
