"""Hyperparameter search with Optuna: storage, search space and the ask → launch → tell loop behind the
``vt_optuna`` Hydra sweeper (``hydra_plugins.visiontrain_optuna_sweeper``), and the trial a job reports to."""
