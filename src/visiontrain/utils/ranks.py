"""Process rank, readable before and after Lightning sets up the strategy."""

import os


def is_rank_zero() -> bool:
    try:  # Lightning reads RANK / LOCAL_RANK / SLURM_PROCID at import and corrects it once the strategy is set up
        from lightning_fabric.utilities.rank_zero import rank_zero_only

        return getattr(rank_zero_only, "rank", 0) == 0
    except ImportError:
        return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0"))) == 0
