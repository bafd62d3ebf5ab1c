"""bf16 only where it is fast: the CPU experiments fall back to 32-true on CPUs without bf16 instructions (there a
bf16-mixed step runs many times slower), and an explicit bf16 there is warned about."""

import logging

import pytest

from helpers import compose_cfg
from visiontrain.run import precision

BF16_EXPERIMENTS = ("det_shapes_yolo", "seg_shapes_unet", "restore_denoise", "restore_inpaint", "restore_compress")


def _cpuinfo(tmp_path, flags: str) -> str:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: a CPU\nflags\t\t: fpu sse2 avx2 {flags}\n\nprocessor\t: 1\n")
    return str(path)


@pytest.mark.parametrize("flags, native", [("fma", False), ("avx512f avx512_bf16", True), ("amx_tile amx_bf16", True)])
def test_native_bf16_is_read_from_the_cpu_flags(tmp_path, monkeypatch, flags, native):
    monkeypatch.setattr(precision.platform, "machine", lambda: "x86_64")
    assert precision.cpu_has_native_bf16(_cpuinfo(tmp_path, flags)) is native


def test_no_cpuinfo_means_no_native_bf16(tmp_path, monkeypatch):
    monkeypatch.setattr(precision.platform, "machine", lambda: "x86_64")
    assert precision.cpu_has_native_bf16(str(tmp_path / "missing")) is False


@pytest.mark.parametrize("native, expected", [(False, "32-true"), (True, "bf16-mixed")])
@pytest.mark.parametrize("experiment", BF16_EXPERIMENTS)
def test_cpu_experiments_train_in_bf16_only_on_cpus_that_compute_it_natively(
        tmp_path, data_dir, monkeypatch, experiment, native, expected):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    cfg = compose_cfg([f"experiment={experiment}"], tmp_path, data_dir)
    assert cfg.trainer.accelerator == "cpu" and cfg.trainer.precision == expected


def test_on_a_gpu_the_experiments_keep_bf16(tmp_path, data_dir, monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    cfg = compose_cfg(["experiment=det_shapes_yolo", "trainer=gpu"], tmp_path, data_dir)
    assert cfg.trainer.precision == "bf16-mixed"


def _report(monkeypatch, caplog, native: bool, **trainer) -> list[logging.LogRecord]:
    from omegaconf import OmegaConf

    from visiontrain.config.resolvers import register_resolvers

    register_resolvers()
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="visiontrain"):
        precision.report_precision(OmegaConf.create(trainer))
    return caplog.records


AUTO = "${vt_bf16_where_fast:${accelerator}}"


def test_the_run_log_says_when_this_cpu_made_it_32_true(monkeypatch, caplog):
    [record] = _report(monkeypatch, caplog, False, accelerator="cpu", precision=AUTO)
    assert record.levelname == "INFO" and "32-true, not bf16-mixed" in record.getMessage()
    assert not _report(monkeypatch, caplog, True, accelerator="cpu", precision=AUTO)  # bf16-mixed: as configured
    assert not _report(monkeypatch, caplog, False, accelerator="gpu", precision=AUTO)


def test_explicit_bf16_on_a_cpu_without_it_is_warned_about_and_kept(monkeypatch, caplog):
    [record] = _report(monkeypatch, caplog, False, accelerator="cpu", precision="bf16-mixed")
    assert record.levelname == "WARNING" and "AVX512-BF16" in record.getMessage()
    assert not _report(monkeypatch, caplog, False, accelerator="cpu", precision="32-true")
    assert not _report(monkeypatch, caplog, False, accelerator="gpu", precision="bf16-mixed")
    assert not _report(monkeypatch, caplog, True, accelerator="cpu", precision="bf16-mixed")
