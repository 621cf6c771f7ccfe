# syntax=docker/dockerfile:1
# salescast: one image for the API, the MLflow server, the dashboard and the jobs (train, monitor --retrain, …).
#
#   docker build -t salescast .                                        # on python:3.11-slim-bookworm
#   docker build --build-arg BASE_IMAGE=registry.example/bookworm-python:3.12 -t salescast .
#
# BASE_IMAGE: any Debian bookworm image whose `python3` is Python >= 3.11 with its venv module. Every stage starts
# from it, so the virtual environment built in one finds its interpreter at the same path in the others.
#
# Layers, from the least to the most often changed: uv, the locked dependencies (rebuilt only when uv.lock or
# pyproject.toml change), the project's own wheel (rebuilt on every source change: a few hundred kB). Files are
# brought in with COPY, never bind mounts, because COPY is content-addressed by every builder (buildah reuses a
# cached RUN even when a file bind-mounted into it changed).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS uv
ARG UV_VERSION=0.13.9
# uv from PyPI, the registry the dependencies come from anyway, into a venv that never reaches the final image.
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -m venv /opt/uv && /opt/uv/bin/pip install --disable-pip-version-check "uv==${UV_VERSION}"
ENV PATH=/opt/uv/bin:$PATH \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON=python3 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

FROM uv AS dependencies
# Exactly what uv.lock pins for the runtime: no dev group (pytest, ruff, locust, playwright…).
COPY pyproject.toml uv.lock /src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-project --no-editable

FROM uv AS project
COPY . /src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv build --wheel --out-dir /dist

FROM ${BASE_IMAGE} AS runtime
# A user without a login shell; its home holds what the commands write by default (SQLite under data/, mlruns/,
# reports/). Compose mounts named volumes on these folders, and Docker seeds a new volume with their owner.
RUN groupadd --gid 10001 salescast \
    && useradd --uid 10001 --gid salescast --no-create-home --no-log-init --home-dir /var/lib/salescast \
       --shell /usr/sbin/nologin salescast \
    && install -d -o salescast -g salescast -m 0750 /var/lib/salescast \
    && install -d -o salescast -g salescast /var/lib/salescast/data /var/lib/salescast/reports \
       /var/lib/salescast/mlruns /var/lib/salescast/mlartifacts
# Owned by root: the service user runs the code and cannot change it.
COPY --from=dependencies /app/.venv /app/.venv
COPY --from=project /dist/ /app/wheels/
RUN --mount=type=bind,from=uv,source=/opt/uv,target=/opt/uv \
    /opt/uv/bin/uv pip install --python /app/.venv/bin/python --no-deps --no-index --no-cache --compile-bytecode \
       /app/wheels/*.whl
COPY deploy/healthcheck.py /app/healthcheck.py
# GIT_PYTHON_REFRESH: MLflow looks for git (not in the image) on every run and would log a warning each time.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GIT_PYTHON_REFRESH=quiet
USER salescast
WORKDIR /var/lib/salescast
EXPOSE 8000
# /health answers 503 while the database does not, so the container turns unhealthy with it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["python", "/app/healthcheck.py"]
# `serve` refuses a non-loopback bind without SALESCAST_ADMIN_TOKEN: without it the container exits, saying why.
CMD ["salescast", "serve", "--host", "0.0.0.0"]
