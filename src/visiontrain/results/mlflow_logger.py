"""MLflow with a local SQLite store by default: MLflow 3 refuses its old file store (``file:`` URIs) unless
``MLFLOW_ALLOW_FILE_STORE=true``, and SQLite needs its folder to exist before the first connection."""

from __future__ import annotations

from pathlib import Path

from pytorch_lightning.loggers import MLFlowLogger


def sqlite_file(uri: str | None) -> Path | None:
    """``sqlite:////abs/mlflow.db`` → ``/abs/mlflow.db``; None for other stores (a server, Databricks, …)."""
    if not uri or not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///"):])


class LocalMLFlowLogger(MLFlowLogger):
    """Lightning's MLFlowLogger, with the SQLite file's folder and the artifact folder created first."""

    def __init__(self, *args, tracking_uri: str | None = None, artifact_location: str | None = None,
                 **kwargs) -> None:
        db = sqlite_file(tracking_uri)
        if db is not None:
            db.parent.mkdir(parents=True, exist_ok=True)
        if artifact_location and "://" not in artifact_location:
            Path(artifact_location).mkdir(parents=True, exist_ok=True)
            artifact_location = Path(artifact_location).resolve().as_uri()
        super().__init__(*args, tracking_uri=tracking_uri, artifact_location=artifact_location, **kwargs)

    def log_artifacts(self, files: list[Path], artifact_path: str = "results") -> None:
        for path in files:
            self.experiment.log_artifact(self.run_id, str(path), artifact_path)
