"""Hydra sweep syntax → Optuna distributions: ``interval(a, b)`` (float), ``tag(log, interval(a, b))``,
``tag(int, interval(a, b))`` / ``tag(int, log, …)`` (integers), ``range(start, stop, step)``, ``choice(…)``. A plain value
is a fixed override passed to every trial."""

from __future__ import annotations

from typing import Any

from visiontrain.errors import ConfigError


def parse_search_space(arguments: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``key=<sweep>`` strings → (name → distribution, name → fixed value string)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    distributions: dict[str, Any] = {}
    fixed: dict[str, str] = {}
    for override in OverridesParser.create().parse_overrides(arguments):
        key = override.get_key_element()
        if override.is_sweep_override():
            distributions[key] = _distribution(override, key)
        else:
            fixed[key] = override.get_value_element_as_str()
    return distributions, fixed


def _distribution(override: Any, key: str) -> Any:
    from hydra.core.override_parser.types import Transformer
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    value = override.value()
    if override.is_choice_sweep() or (override.is_range_sweep() and value.shuffle):
        return CategoricalDistribution(list(override.sweep_iterator(transformer=Transformer.encode)))
    if override.is_range_sweep():  # range(start, stop, step): stop excluded, as in Python
        if all(isinstance(v, int) for v in (value.start, value.stop, value.step)):
            return IntDistribution(value.start, value.stop - value.step, step=value.step)
        return CategoricalDistribution(list(override.sweep_iterator(transformer=Transformer.encode)))
    if override.is_interval_sweep():
        log = "log" in value.tags
        if "int" in value.tags:  # Hydra parses interval bounds as floats
            return IntDistribution(int(value.start), int(value.end), log=log)
        return FloatDistribution(float(value.start), float(value.end), log=log)
    raise ConfigError(f"hydra.sweeper.params.{key}: {override.input_line!r} is not a search space "
                      "Optuna can sample (use choice, range, interval or tag(log, interval))")
