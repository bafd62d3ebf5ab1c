"""User-facing errors: reported as one line naming the file or config key, never as a traceback."""


class VisiontrainError(Exception):
    """Base class for problems the user can fix (config, data, weights)."""


class ConfigError(VisiontrainError):
    """A config key, type or choice is wrong."""


class DataError(VisiontrainError):
    """A data file or directory is missing or unreadable."""


class WeightsError(VisiontrainError):
    """Pretrained weights or a checkpoint cannot be found or loaded."""


class TrainingError(VisiontrainError):
    """Training cannot go on (e.g. the loss became NaN); the message says where and what to change."""


def find_user_error(exc: BaseException) -> VisiontrainError | None:
    """Return the VisiontrainError behind ``exc`` (Hydra and DataLoader workers wrap exceptions), if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, VisiontrainError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def one_line(exc: BaseException) -> str:
    """The last meaningful line of an exception message (worker exceptions carry a whole traceback)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[-1]
    # A DataLoader worker re-raises with the original traceback as the message; its last line is "module.Type: msg".
    qualified = f"{type(exc).__module__}.{type(exc).__name__}: "
    return text[len(qualified):] if text.startswith(qualified) else text
