"""The model lifecycle: the monthly training job, validation, MLflow tracking and registry, promotion, backtests."""
