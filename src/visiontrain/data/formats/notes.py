"""What a reader assumed, or found suspicious but valid: one line each, said once when the data is read.

Readers collect notes while indexing and return them with the index (``notes``); ``say`` logs them as warnings,
so they appear in the start-up summary of the run rather than once per sample.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

log = logging.getLogger("visiontrain.data")


def say(notes: Iterable[str]) -> list[str]:
    """Log each note once, in order; returns them as a list (what the index keeps)."""
    out: list[str] = []
    for note in notes:
        if note not in out:
            out.append(note)
            log.warning(note)
    return out
