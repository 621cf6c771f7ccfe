"""The one logging configuration: ``timestamp | level | module | message``."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s | %(levelname)s | %(name)s | %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Route every logger through one stderr handler with the project's format."""
    logging.basicConfig(level=level, format=LOG_FORMAT, force=True)
