"""visiontrain's Optuna sweeper for Hydra (``hydra/sweeper=vt_optuna``); Hydra finds it in the ``hydra_plugins``
namespace package. The search itself lives in ``visiontrain.search``."""
