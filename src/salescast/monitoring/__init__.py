"""Monitoring the champion: data and prediction drift, performance against a baseline, reports, retraining."""
