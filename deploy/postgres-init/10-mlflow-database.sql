-- Run once, by the postgres image, when its volume is initialised: the MLflow tracking server keeps its
-- runs and registry in a database of its own (its Alembic history must not meet salescast's).
CREATE DATABASE mlflow;
