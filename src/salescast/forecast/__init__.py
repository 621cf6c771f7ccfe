"""The forecasting engine: a data catalog, one module per feature, sklearn-style models, a generator with truth.

``make_predictions(config)`` (re-exported as ``salescast.make_predictions``) wires them together; see
:mod:`salescast.forecast.pipeline`.
"""
