"""Loaded by every Python process of a test run (via PYTHONPATH): records any attempt to reach a non-loopback host
in the file named by VT_NET_LOG. Recording, not blocking: the test asserts the file stays empty."""

import os
import socket

_LOG = os.environ.get("VT_NET_LOG")
_LOCAL = {"127.0.0.1", "::1", "localhost", "0.0.0.0", ""}


def _record(what: str, host) -> None:
    if _LOG and str(host) not in _LOCAL and not str(host).startswith("127."):
        with open(_LOG, "a") as fh:
            fh.write(f"{os.getpid()} {what} {host}\n")


_connect = socket.socket.connect
_getaddrinfo = socket.getaddrinfo


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        _record("connect", address[0])
    return _connect(self, address)


def getaddrinfo(host, *args, **kwargs):
    _record("getaddrinfo", host)
    return _getaddrinfo(host, *args, **kwargs)


if _LOG:
    socket.socket.connect = connect
    socket.getaddrinfo = getaddrinfo
