import pytest


@pytest.fixture(autouse=True)
def _one_thread():
    """Detection tests run one intra-op thread: on this shared 2-core machine, two OpenMP threads competing with other
    jobs made a Faster R-CNN step 2-15x slower (measured), one thread keeps it steady."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
