"""Class names that look like one name misspelt: a typo in one label silently becomes a class of its own."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

MAX_FUZZY = 300  # pairwise comparison beyond this many classes costs more than it is worth


def _plain(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def near_duplicates(counts: Mapping[str, int], what: str = "class") -> list[str]:
    """One warning per rare name that is another name spelt differently: equal ignoring case, spaces and
    punctuation, or close (difflib ratio >= 0.8) while having at most max(2, 5 %) of the other's samples."""
    names = list(counts)
    out, paired = [], set()
    for rare in sorted(names, key=lambda n: counts[n]):
        for other in names:
            if other == rare or counts[other] < counts[rare] or other in paired:
                continue
            same = _plain(rare) == _plain(other)
            few = counts[rare] <= max(2, 0.05 * counts[other])
            close = len(names) <= MAX_FUZZY and len(_plain(rare)) >= 3 and \
                difflib.SequenceMatcher(None, _plain(rare), _plain(other)).ratio() >= 0.8
            if same or (few and close):
                out.append(f"{what} '{rare}' ({counts[rare]} samples) looks like '{other}' ({counts[other]} samples) "
                           f"spelt differently: they are trained as two classes; fix the label if they are one")
                paired.add(rare)
                break
    return out
