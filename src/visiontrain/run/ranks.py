"""Process rank, readable before and after Lightning sets up the strategy."""

import os
import sys

# What Lightning reads at import (lightning_fabric.utilities.rank_zero._get_rank), in its order
_RANK_VARIABLES = ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK")


def is_rank_zero() -> bool:
    module = sys.modules.get("lightning_fabric.utilities.rank_zero")
    if module is not None:  # Lightning corrects the rank once the strategy is set up
        return getattr(module.rank_zero_only, "rank", 0) == 0
    # not imported yet (a config error before the heavy imports): importing Lightning to ask costs seconds
    rank = next((os.environ[k] for k in _RANK_VARIABLES if os.environ.get(k) is not None), "0")
    return int(rank) == 0
