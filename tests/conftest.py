import os
import tempfile

import pytest

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_ERROR_REPORTING", "false")
os.environ.setdefault("VT_CACHE_DIR", tempfile.mkdtemp(prefix="vt_test_cache_"))  # start-up caches, not ~/.cache


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """Generated datasets are shared by all tests of a session (they are written once per parameter set)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(autouse=True)
def _torch_threads():
    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    yield
