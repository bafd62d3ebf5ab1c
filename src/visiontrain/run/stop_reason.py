"""Why a run stopped, read from the exception that ended it (no Lightning import: a config error is reported
before Lightning is loaded)."""

from __future__ import annotations

from typing import Any

STOP_SIGNALS = {"SIGTERMException": "SIGTERM", "KeyboardInterrupt": "SIGINT"}


def _chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def stop_signal(exc: BaseException) -> str | None:
    """``"SIGTERM"`` / ``"SIGINT"`` when ``exc`` is (or was raised while handling) the run being told to stop."""
    return next((STOP_SIGNALS[type(e).__name__] for e in _chain(exc) if type(e).__name__ in STOP_SIGNALS), None)


def metrics_so_far(exc: BaseException) -> dict[str, Any]:
    """What ``trainer.callback_metrics`` held when ``exc`` stopped the trainer (empty when it never reached one)."""
    return next((e.metrics_so_far for e in _chain(exc) if isinstance(getattr(e, "metrics_so_far", None), dict)), {})
