"""compose.yaml, .env.example and the Dockerfile agree with each other and with the CLI they start.

tests/e2e/test_container_image.py runs these services' commands in the built image; this checks the parts
a container engine would only find out about in production (volumes, healthchecks, dependencies, secrets).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import typer
import yaml

from salescast.cli import app
from salescast.lifecycle.sources import DatabaseSource, load_pipeline_config
from salescast.settings import Settings

REPO = Path(__file__).resolve().parents[3]
LONG_RUNNING = {"postgres", "mlflow", "api", "dashboard"}
JOBS = {"train": ["train"], "monitor": ["monitor", "--retrain"]}
SALESCAST_SERVICES = {"mlflow", "api", "dashboard", "train", "monitor"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _compose_variables() -> dict[str, str]:
    """Every ``${NAME…}`` compose.yaml interpolates, with its operator (``:-`` default, ``:?`` required)."""
    found = re.findall(r"\$\{([A-Z_][A-Z0-9_]*)(:[-?])?", (REPO / "compose.yaml").read_text())
    return {name: operator for name, operator in found}


def _url(value: str):
    """A URL from compose.yaml with its interpolations filled (a secret's ``:?message`` would read as a query)."""
    filled = re.sub(r"\$\{[A-Z_][A-Z0-9_]*:\?[^}]*\}", "secret", value)
    return urlsplit(re.sub(r"\$\{[A-Z_][A-Z0-9_]*:-([^}]*)\}", r"\1", filled))


def _env_example() -> tuple[dict[str, str], set[str]]:
    """.env.example's set variables and the ones it documents commented out (``# NAME=default``)."""
    text = (REPO / ".env.example").read_text()
    assigned = dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", text, flags=re.MULTILINE))
    documented = set(re.findall(r"^# ([A-Z_][A-Z0-9_]*)=", text, flags=re.MULTILINE))
    return assigned, documented


def test_the_stack_has_its_services_and_the_jobs_run_only_on_demand(services):
    assert set(services) == LONG_RUNNING | set(JOBS)
    for name in LONG_RUNNING:
        assert "profiles" not in services[name], f"{name} must start with `docker compose up`"
        assert services[name]["restart"] == "unless-stopped"
    for name in JOBS:
        assert set(services[name]["profiles"]) == {"jobs", name}
        assert services[name]["restart"] == "no"
        assert services[name]["healthcheck"] == {"disable": True}


def test_every_long_running_service_has_a_healthcheck_on_its_own_port(services):
    for name in LONG_RUNNING:
        check = services[name]["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"} and check["interval"] and check["retries"] >= 3
    assert "pg_isready -h 127.0.0.1" in services["postgres"]["healthcheck"]["test"][1]
    ports = {"api": "8000", "dashboard": "8501", "mlflow": "5000"}
    for name, port in ports.items():
        url = services[name]["healthcheck"]["test"][-1]
        assert services[name]["healthcheck"]["test"][:3] == ["CMD", "python", "/app/healthcheck.py"]
        assert urlsplit(url).port == int(port), f"{name}'s healthcheck probes {url}"
        assert any(mapping.endswith(f":{port}") for mapping in services[name]["ports"])
    assert urlsplit(services["api"]["healthcheck"]["test"][-1]).path == "/health"
    assert urlsplit(services["dashboard"]["healthcheck"]["test"][-1]).path == "/_stcore/health"
    assert urlsplit(services["mlflow"]["healthcheck"]["test"][-1]).path == "/health"


def test_state_lives_in_declared_named_volumes(compose, services):
    declared = set(compose["volumes"])
    used: set[str] = set()
    for service in services.values():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if not source.startswith((".", "/")):
                used.add(source)
    assert used == declared == {"postgres-data", "mlflow-artifacts", "reports"}
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    artifacts = services["mlflow"]["environment"]["MLFLOW_ARTIFACTS_DESTINATION"]
    assert f"mlflow-artifacts:{artifacts}" in services["mlflow"]["volumes"]
    reports = services["monitor"]["environment"]["SALESCAST_REPORTS_DIR"]
    assert f"reports:{reports}" in services["monitor"]["volumes"]
    assert f"reports:{reports}:ro" in services["dashboard"]["volumes"]


def test_mlflow_keeps_its_store_in_a_postgres_database_the_init_script_creates(services):
    mlflow = services["mlflow"]["environment"]
    backend = _url(mlflow["MLFLOW_BACKEND_STORE_URI"])
    assert (backend.scheme, backend.username, backend.hostname, backend.port) == (
        "postgresql+psycopg",
        "salescast",
        "postgres",
        5432,
    )
    database = backend.path.lstrip("/")
    salescast = _url(services["api"]["environment"]["SALESCAST_DATABASE_URL"]).path.lstrip("/")
    assert database != salescast  # each keeps its own Alembic history
    init_scripts = REPO / "deploy" / "postgres-init"
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in services["postgres"]["volumes"]
    created = " ".join(script.read_text() for script in init_scripts.glob("*.sql"))
    assert re.search(rf"CREATE DATABASE {database}\b", created)
    assert services["mlflow"]["command"] == ["mlflow", "server"]
    assert services["mlflow"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_salescast_services_share_the_image_and_point_at_mlflow_and_postgres(compose, services):
    image = compose["x-salescast-image"]
    tracking = f"http://mlflow:{services['mlflow']['environment']['MLFLOW_PORT']}"
    allowed = services["mlflow"]["environment"]["MLFLOW_SERVER_ALLOWED_HOSTS"].split(",")
    assert "mlflow:*" in allowed  # MLflow rejects a Host header it does not list
    for name in SALESCAST_SERVICES:
        assert services[name]["image"] == image["image"] and services[name]["build"] == image["build"]
    for name in SALESCAST_SERVICES - {"mlflow"}:
        environment = services[name]["environment"]
        assert environment["MLFLOW_TRACKING_URI"] == tracking
        assert _url(environment["SALESCAST_DATABASE_URL"]).hostname == "postgres"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert {"source": "pipeline", "target": environment["SALESCAST_PIPELINE_CONFIG"]} in services[name]["configs"]
    for job in JOBS:
        assert services[job]["depends_on"]["mlflow"]["condition"] == "service_healthy"
    assert services["api"]["environment"]["SALESCAST_ADMIN_TOKEN"].startswith("${ADMIN_TOKEN:?")


def test_every_salescast_command_parses_with_the_cli(services):
    """Unknown commands or options in compose.yaml fail here, not at 3 a.m. in the monthly cron job."""
    group = typer.main.get_command(app)
    for name in SALESCAST_SERVICES - {"mlflow"}:
        argv = services[name]["command"]
        assert argv[0] == "salescast"
        context = group.make_context("salescast", list(argv[1:]))
        command = group.get_command(context, argv[1])
        assert command is not None, f"{name}: no command {argv[1]!r}"
        with context:
            command.make_context(argv[1], list(argv[2:]), parent=context)  # raises click.UsageError
    for job, prefix in JOBS.items():
        assert services[job]["command"][1 : 1 + len(prefix)] == prefix
        assert services[job]["command"][-2:] == ["--config", services[job]["environment"]["SALESCAST_PIPELINE_CONFIG"]]


def test_a_misspelt_option_would_be_caught(services):
    group = typer.main.get_command(app)
    context = group.make_context("salescast", ["monitor", "--retrian"])
    with pytest.raises(typer.TyperException, match="No such option: --retrian"), context:
        group.get_command(context, "monitor").make_context("monitor", ["--retrian"], parent=context)


def test_the_api_runs_the_images_default_command(services):
    dockerfile = (REPO / "Dockerfile").read_text()
    command = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, flags=re.MULTILINE).group(1))
    assert command == services["api"]["command"] == ["salescast", "serve", "--host", "0.0.0.0"]
    assert re.search(r"^ARG BASE_IMAGE=python:3\.1[1-9]-slim-bookworm$", dockerfile, flags=re.MULTILINE)
    assert re.search(r"^USER salescast$", dockerfile, flags=re.MULTILINE)


def test_the_pipeline_compose_mounts_reads_the_ingestion_database(compose):
    pipeline = load_pipeline_config(REPO / compose["configs"]["pipeline"]["file"])
    assert isinstance(pipeline.source, DatabaseSource)
    assert pipeline.source.database_url is None  # the services' SALESCAST_DATABASE_URL, so the secret stays in .env


def test_env_example_documents_every_variable_and_sets_the_secrets():
    assigned, documented = _env_example()
    variables = _compose_variables()
    assert set(variables) == set(assigned) | documented
    required = {name for name, operator in variables.items() if operator == ":?"}
    assert required == set(assigned) == {"POSTGRES_PASSWORD", "ADMIN_TOKEN"}
    assert all(value == "change-me" for value in assigned.values())


def test_env_file_names_never_reach_salescast_settings():
    """salescast reads a .env in its working directory: the compose .env must not set its settings."""
    assigned, documented = _env_example()
    settings_names = {f"SALESCAST_{name.upper()}" for name in Settings.model_fields}
    assert not (set(assigned) | documented) & settings_names


def test_secrets_stay_out_of_git_and_of_the_image():
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()
    patterns = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert patterns[0] == "*"  # an allowlist: only what the image is built from enters the build context
    assert not any(pattern.startswith("!") and ".env" in pattern for pattern in patterns)
