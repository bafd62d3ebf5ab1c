"""Check a whole `-m` sweep before its first job starts: every combination is composed and validated.

Hydra composes each job only when it starts, so a typo in the 40th combination would fail after 39 jobs ran. Here
the basic sweeper's grid is expanded as Hydra expands it (``BasicSweeper.split_arguments``); for Optuna every
``choice`` value and both ends of every ``interval``/``range`` are checked, one parameter at a time. Slurm resources
(nodes, tasks and GPUs per node) must agree with ``trainer.num_nodes``/``devices`` before anything is submitted.

``--dry-run`` (or ``sweep_dry_run=true``) prints the jobs, their run dirs and the launcher resources, and exits.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from visiontrain.errors import ConfigError, find_user_error, one_line

_DRY_RUN = ("--dry-run", "sweep_dry_run=true", "sweep_dry_run=True", "+sweep_dry_run=true")
_VALUED_FLAGS = {"--config-dir": "dir", "-cd": "dir", "--config-name": "name", "-cn": "name"}
_SKIP_FLAGS = ("--cfg", "-c", "--info", "-i", "--help", "-h", "--hydra-help", "--shell-completion", "-sc",
               "--package", "-p", "--resolve", "--experimental-rerun", "--config-path", "-cp")


def check_sweep_argv(argv: list[str], config_dir: str, config_name: str = "train") -> list[str]:
    """``argv`` without the dry-run flag. Exits 1 with one line when a combination is bad; exits 0 after a dry
    run. Other command lines (no ``-m``) pass unchanged."""
    args = argv[1:]
    dry_run = any(a in _DRY_RUN for a in args)
    args = [a for a in args if a not in _DRY_RUN and not a.startswith("sweep_dry_run=")]
    sweeping = any(a in ("-m", "--multirun") or a.startswith(("hparams_search=", "hydra.mode=MULTIRUN"))
                   for a in args)  # an hparams_search config sets hydra.mode=MULTIRUN itself
    if not sweeping or any(a in _SKIP_FLAGS for a in args):
        return [argv[0], *args]
    overrides, extra_dir = [], None
    it = iter(args)
    for arg in it:
        if arg in ("-m", "--multirun"):
            continue
        if arg in _VALUED_FLAGS:
            value = next(it, "")
            extra_dir, config_name = (value, config_name) if _VALUED_FLAGS[arg] == "dir" else (extra_dir, value)
        elif not arg.startswith("-"):
            overrides.append(arg)
    try:
        jobs, resources = plan_sweep(overrides, config_dir, config_name, extra_dir)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if dry_run:
        print(f"{len(jobs)} job(s); launcher: {resources}")
        for num, (combo, run_dir) in enumerate(jobs):
            print(f"  job {num}: {' '.join(combo) or '(no overrides)'}\n         run dir: {run_dir}")
        raise SystemExit(0)
    return [argv[0], *args]


def plan_sweep(overrides: Sequence[str], config_dir: str, config_name: str = "train",
               extra_dir: str | None = None) -> tuple[list[tuple[list[str], str]], str]:
    """Compose and validate every job; returns ``[(overrides, run dir)]`` and the launcher's resources in words."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    from visiontrain.config.resolvers import register_resolvers
    from visiontrain.config.sweep_resolvers import register_sweep_resolvers

    register_resolvers()
    register_sweep_resolvers()
    fixed = list(overrides)
    if extra_dir and not any(o.startswith("hydra.searchpath=") for o in fixed):
        fixed.append(f"hydra.searchpath=[file://{Path(extra_dir).resolve()}]")
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=config_dir, version_base="1.3"):
            loader = GlobalHydra.instance().config_loader()
            try:
                combos = _combinations(fixed, config_name, loader)
            except Exception as exc:  # noqa: BLE001  an override no job could compose with
                raise ConfigError(f"sweep: {_one_line(exc)}; no job was started") from None
            jobs, resources = [], ""
            sweep_dir = None
            for num, combo in enumerate(combos):
                try:
                    cfg = _compose(compose, config_name, combo)
                    sweep_dir = sweep_dir or str(cfg.hydra.sweep.dir)
                    run_dir = f"{sweep_dir}/{num}"
                    _validate(cfg, run_dir, num)
                    resources = _check_resources(cfg)
                except Exception as exc:  # noqa: BLE001  composition and validation errors alike, as one line
                    shown = " ".join(o for o in combo if o not in fixed or _is_sweep(o))
                    raise ConfigError(f"sweep job {num} ({shown or 'no overrides'}): {_one_line(exc)}; "
                                      "no job was started") from None
                jobs.append((combo, run_dir))
    finally:
        GlobalHydra.instance().clear()
        HydraConfig.instance().cfg = None
    return jobs, resources


def _is_sweep(override: str) -> bool:
    return bool(re.search(r"=.*(,|choice\(|range\(|interval\(|glob\()", override))


def _compose(compose, config_name: str, combo: list[str]):
    return compose(config_name, overrides=combo, return_hydra_config=True)


def _combinations(overrides: list[str], config_name: str, loader) -> list[list[str]]:
    """The jobs Hydra's sweeper would launch (Optuna: each choice and each interval end, one at a time)."""
    from hydra import compose
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create(config_loader=loader)
    parsed = parser.parse_overrides(overrides)
    plain = [o.input_line for o in parsed if not o.is_sweep_override()]
    base = compose(config_name, overrides=plain, return_hydra_config=True)
    sweeper = str(base.hydra.sweeper.get("_target_", ""))
    params = {str(k): str(v) for k, v in (base.hydra.sweeper.get("params") or {}).items()}
    from_config = parser.parse_overrides([f"{k}={v}" for k, v in params.items()])
    if "optuna" not in sweeper.lower():
        batches = BasicSweeper.split_arguments([*from_config, *parsed], max_batch_size=None)
        return [list(combo) for batch in batches for combo in batch]
    sweeps = [o for o in [*from_config, *parsed] if o.is_sweep_override()]
    values = {o.key_or_group: _values(o) for o in sweeps}
    firsts = {key: vals[0] for key, vals in values.items()}
    combos = []
    for key, vals in values.items():
        for value in vals:
            combo = [*plain, *(f"{k}={value if k == key else v}" for k, v in firsts.items())]
            if combo not in combos:
                combos.append(combo)
    return combos or [plain]


def _values(override) -> list[str]:
    """A few concrete values of an Optuna search dimension: the choices, or the ends of an interval/range."""
    from hydra.core.override_parser.types import IntervalSweep

    value = override.value()
    if isinstance(value, IntervalSweep):
        return [str(value.start), str(value.end)]
    items = list(override.sweep_string_iterator())
    return [items[0], items[-1]] if override.is_range_sweep() else items


def _validate(cfg, run_dir: str, num: int) -> None:
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from visiontrain.config.validation import validate_config

    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = run_dir
        cfg.hydra.job.num = num
        cfg.hydra.job.id = f"dry-run_{num}"
    HydraConfig.instance().set_config(cfg)
    validate_config(cfg)


def _check_resources(cfg) -> str:
    """Slurm's nodes/tasks/GPUs per node against the trainer; the launcher's resources in words."""
    launcher = cfg.hydra.launcher
    target = str(launcher.get("_target_", ""))
    trainer = cfg.trainer
    devices, nodes = trainer.get("devices", "auto"), trainer.get("num_nodes", 1)
    name = target.rsplit(".", 1)[-1] or "basic"
    sweeper = cfg.hydra.sweeper
    if "optuna" in str(sweeper.get("_target_", "")).lower():  # its trials are sampled later: these are checks
        name = f"{name}; Optuna sweeper, n_trials={sweeper.get('n_trials')} (jobs below: the search space's " \
               "choices and interval ends, each checked)"
    if "slurm" not in target.lower():  # local processes: Lightning starts the DDP ranks itself
        return f"{name} (local processes); trainer.devices={devices}, trainer.num_nodes={nodes}"
    asked = {k: launcher.get(k) for k in ("nodes", "tasks_per_node", "gpus_per_node") if k in launcher}
    if "nodes" in asked and asked["nodes"] is not None and int(asked["nodes"]) != int(nodes or 1):
        raise ConfigError(f"hydra.launcher.nodes={asked['nodes']} but trainer.num_nodes={nodes}: Lightning needs "
                          "one trainer node per Slurm node (set both, or only trainer.num_nodes)")
    count = int(devices) if str(devices).isdigit() else None
    tasks = asked.get("tasks_per_node")
    if count is not None and tasks is not None and int(tasks) != count:
        raise ConfigError(f"hydra.launcher.tasks_per_node={tasks} but trainer.devices={devices}: Lightning's "
                          "SLURMEnvironment starts one rank per Slurm task (leave tasks_per_node to follow devices)")
    gpus = asked.get("gpus_per_node")
    if gpus is not None and count is not None and trainer.get("accelerator") in ("gpu", "cuda") and count > int(gpus):
        raise ConfigError(f"trainer.devices={devices} but hydra.launcher.gpus_per_node={gpus}: each node would "
                          "have fewer GPUs than ranks")
    return f"{name} nodes={asked.get('nodes')} tasks_per_node={tasks} gpus_per_node={gpus}; " \
           f"trainer.devices={devices}, trainer.num_nodes={nodes}"


def _one_line(exc: BaseException) -> str:
    """Hydra's override errors (``Key 'x' is not in struct``) as one line with a did-you-mean, others as usual."""
    user = find_user_error(exc)
    if user is not None:
        return one_line(user)
    return struct_error_line(exc) or missing_option_line(exc) or one_line(exc)


def missing_option_line(exc: BaseException) -> str | None:
    """Hydra's ``Could not find 'data/digitz'`` and its list of options as one line, with a did-you-mean."""
    text = str(exc)
    found = re.search(r"Could not find '([^']+)/([^'/]+)'\s+Available options in '[^']+':\n((?:\t.*\n?)+)", text)
    if not found:
        return None
    group, name = found.group(1), found.group(2)
    options = [line.strip() for line in found.group(3).splitlines() if line.strip()]
    close = difflib.get_close_matches(name, options, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{group}={name}: no such config{hint}; choices: {', '.join(options)}"


def struct_error_line(exc: BaseException) -> str | None:
    """``Could not override 'model.optimizr.lr' … Key 'optimizr' is not in struct`` → ``model.optimizr: unknown
    key (did you mean optimizer?)``; None for other errors."""
    text = "\n".join(str(e) for e in _chain(exc))
    found = re.search(r"Key '([^']+)' is not in struct\s+full_key: (\S+)", text)
    if not found:
        return None
    key, full_key = found.group(1), found.group(2)
    parent = full_key.rsplit(".", 1)[0] if "." in full_key else ""
    close = difflib.get_close_matches(key, _keys_of(exc, parent), n=1)
    hint = f" (did you mean {parent + '.' if parent else ''}{close[0]}?)" if close else ""
    return f"{full_key}: unknown key{hint}; a new key needs a leading +"


def _chain(exc: BaseException | None) -> list[BaseException]:
    out: list[BaseException] = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


def _keys_of(exc: BaseException, parent: str) -> list[str]:
    for err in _chain(exc):
        node: Any = getattr(err, "parent_node", None) or getattr(err, "object", None)
        if node is not None and hasattr(node, "keys"):
            return [str(k) for k in node.keys()]
    return []


def run_reporting_config_errors(hydra_main) -> None:
    """Run ``hydra_main()`` with Hydra's override errors as one line (``error: model.optimizr: unknown key (did you
    mean model.optimizer?)``) instead of Hydra's multi-line report. Hydra re-raises instead of printing when
    HYDRA_FULL_ERROR is set; every other exception goes on as before."""
    import os

    user_set = "HYDRA_FULL_ERROR" in os.environ
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    try:
        hydra_main()
    except Exception as exc:
        from hydra.errors import HydraException

        if user_set:
            raise
        line = struct_error_line(exc) or missing_option_line(exc)
        if line is None and getattr(exc, "override", None):  # OverrideParseException
            line = f"cannot parse override '{exc.override}': {str(exc).strip().splitlines()[0]}"
        if line is None and not isinstance(exc, HydraException):
            raise
        print(f"error: {line}" if line else str(exc), file=sys.stderr)  # other Hydra errors: as Hydra prints them
        raise SystemExit(1) from None
