"""Norwegian (bokmål) formatting of figures and lists in finding messages."""

import re
from collections.abc import Iterable

# The one rounding rule for figures (spatial/figures.py), re-exported for the rules' messages.
from spatial.figures import fmt_m, fmt_m2, fmt_masl, fmt_pct, thousands  # noqa: F401

_LAYER_PREFIX = re.compile(r"^[a-z][a-z0-9_]*\.")


def unnamed(key: str) -> str:
    """A layer feature without a name or an official id, as a planner reads it: «objekt 3»
    (our loaders' source ids read "<layer id>.<n>"; the layer id is no word for a reader)."""
    return "objekt " + _LAYER_PREFIX.sub("", key)


def join_words(items: Iterable[str], last: str = "og") -> str:
    """Join words the Norwegian way, 'a, b og c', dropping repeats and keeping order."""
    words = list(dict.fromkeys(items))
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
