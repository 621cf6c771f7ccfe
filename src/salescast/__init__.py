"""salescast: weekly sales ingestion, forecasting and model lifecycle."""

from importlib.metadata import version

__version__ = version("salescast")
