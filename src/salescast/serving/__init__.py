"""Serving the champion: loading and hot-swapping it, the data it forecasts from, month and horizon forecasts."""
