"""Headless Chromium (Debian's ``chromium``) for tests: pages served on 127.0.0.1, a new empty profile each time."""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-dev-shm-usage")


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return path


def dump_dom(url: str, wait_ms: int = 8000, timeout: float = 120) -> str:
    """The page's DOM after ``wait_ms`` of virtual time (scripts run, fetches to 127.0.0.1 answered)."""
    exe = chromium()
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={wait_ms}",
                               "--dump-dom", url], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@contextlib.contextmanager
def serve(folder: Path):
    """A static file server for ``folder`` on 127.0.0.1 (a free port), stopped on exit."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
