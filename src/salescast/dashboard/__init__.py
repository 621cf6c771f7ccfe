"""The Streamlit dashboard: sales, forecasts, models and drift, for the planner's Monday look.

Data access lives in ``*_data.py`` modules (pure functions returning DataFrames and dicts, no Streamlit),
charts in :mod:`charts` (plotly figures from those frames), caching and empty states in :mod:`context`,
and each page in ``pages/`` only renders. ``salescast dashboard`` starts it (:mod:`cli`).
"""
