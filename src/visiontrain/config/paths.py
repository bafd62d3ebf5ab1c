"""Where the config tree lives: inside the installed package, or at the repository root for editable installs."""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def config_dir() -> Path:
    packaged = _PACKAGE_DIR / "conf"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parents[1] / "conf"


CONFIG_DIR = str(config_dir())
