"""Class names that look like one name misspelt: a typo in one label silently becomes a class of its own."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

MAX_FUZZY = 300  # pairwise comparison beyond this many classes costs more than it is worth


def _plain(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _one_typo_apart(a: str, b: str) -> bool:
    """One swap of neighbours ("dgo"), which difflib scores low, counts as close too."""
    return len(a) == len(b) and any(a[:i] + a[i + 1] + a[i] + a[i + 2:] == b for i in range(len(a) - 1))


def near_duplicates(counts: Mapping[str, int], what: str = "class") -> list[str]:
    """One warning per rare name that is another name spelt differently: equal ignoring case, spaces and
    punctuation, or close (difflib ratio >= 0.8, or two neighbours swapped) while having at most max(2, 5 %) of the other's samples."""
    names = list(counts)
    out, paired = [], set()
    for rare in sorted(names, key=lambda n: counts[n]):
        for other in names:
            if other == rare or counts[other] < counts[rare] or other in paired:
                continue
            same = _plain(rare) == _plain(other)
            few = counts[rare] <= max(2, 0.05 * counts[other])
            a, b = _plain(rare), _plain(other)
            close = len(names) <= MAX_FUZZY and len(a) >= 3 and (
                difflib.SequenceMatcher(None, a, b).ratio() >= 0.8 or _one_typo_apart(a, b))
            if same or (few and close):
                out.append(f"{what} '{rare}' ({counts[rare]} samples) looks like '{other}' ({counts[other]} samples) "
                           f"spelt differently: they are trained as two classes; fix the label if they are one")
                paired.add(rare)
                break
    return out
