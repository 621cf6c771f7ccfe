"""salescast: weekly sales ingestion, forecasting and model lifecycle."""

from importlib.metadata import version

__version__ = version("salescast")


def make_predictions(config, base_dir=None):
    """One-month-ahead predictions from a config dict; see :func:`salescast.forecast.pipeline.make_predictions`."""
    from salescast.forecast.pipeline import make_predictions as _make_predictions

    return _make_predictions(config, base_dir=base_dir)


__all__ = ["__version__", "make_predictions"]
