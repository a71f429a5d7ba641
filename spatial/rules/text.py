"""Norwegian (bokmål) formatting of figures and lists in finding messages."""

from collections.abc import Iterable


def thousands(value: float | None) -> str:
    """Format a whole number with spaces between thousands: '12 345'."""
    return f"{value or 0:,.0f}".replace(",", " ")


def fmt_m2(value: float) -> str:
    """Format an area: '12 345 m²'."""
    return f"{thousands(value)} m²"


def fmt_m(value: float) -> str:
    """Format a length or distance: '1 234 m'."""
    return f"{thousands(value)} m"


def fmt_pct(value: float, decimals: int = 1) -> str:
    """Format a share with a decimal comma, as Norwegian writes it: '38,0 %'."""
    return f"{value:.{decimals}f}".replace(".", ",") + " %"


def join_words(items: Iterable[str], last: str = "og") -> str:
    """Join words the Norwegian way, 'a, b og c', dropping repeats and keeping order."""
    words = list(dict.fromkeys(items))
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
