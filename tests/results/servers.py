"""Dashboard servers (TensorBoard, MLflow) started by tests on 127.0.0.1: a free port, the process group stopped
afterwards, and a wait for the first good answer that fails with the server's output."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from typing import Any, Callable

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def started(cmd: list[str], cwd=None):
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its worker processes
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_until(proc: subprocess.Popen, answer: Callable[[], Any], what: str, timeout: float,
               interval: float = 0.5) -> Any:
    """``answer()``'s first value that is not None (an OSError: not up yet); the test fails when the server exits
    or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = answer()
            if value is not None:
                return value
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else "(timeout)"
            pytest.fail(f"{what}: {out[-3000:]}")
        time.sleep(interval)
