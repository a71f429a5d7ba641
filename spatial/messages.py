"""Texts people read, in bokmål and English; the web layer picks one per request.

Bokmål is the default (the service's users are Norwegian planners); English is there for
integrators who ask for it with Accept-Language (RFC 9110 §12.5.4). A text is written in
both languages where it is made, so the two cannot drift apart or go missing.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

LANGUAGES = ("nb", "en")
DEFAULT_LANGUAGE = "nb"
# Norwegian in any written form reads bokmål here: there are no nynorsk texts (yet).
NORWEGIAN = ("nb", "no", "nn")
QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
# A language choice needs no more of the header than this; the rest is not read.
MAX_HEADER = 1000


@dataclass(frozen=True)
class Text:
    """A text people read, in bokmål (`nb`) and English (`en`)."""

    nb: str
    en: str

    def __str__(self) -> str:
        return self.nb

    def __add__(self, other: "Text | str") -> "Text":
        if isinstance(other, Text):
            return Text(self.nb + other.nb, self.en + other.en)
        return Text(self.nb + other, self.en + other)

    def __radd__(self, other: str) -> "Text":
        return Text(other + self.nb, other + self.en)

    def in_language(self, language: str) -> str:
        """Return the text in the language ('en' gives English, anything else bokmål)."""
        return self.en if language == "en" else self.nb


def localize(value: "Text | str", language: str) -> str:
    """Return a Text in the language; plain strings (data, names) are returned as they are."""
    return value.in_language(language) if isinstance(value, Text) else value


def english(value: "Text | str") -> str:
    """Return the English of a Text (a plain string as it is)."""
    return localize(value, "en")


def join(parts: Iterable["Text | str"], separator: str = "; ") -> Text:
    """Join texts (and plain strings) into one Text, language by language."""
    items = list(parts)
    return Text(
        separator.join(localize(p, "nb") for p in items),
        separator.join(localize(p, "en") for p in items),
    )


def weighted_items(header: str | None) -> list[tuple[str, float]]:
    """The items of an Accept or Accept-Language header, lowercased, with their q-values, in
    the header's order (RFC 9110 §12.4.2: qvalue = 0[.ddd] or 1[.000]; anything else counts
    as 0)."""
    items = []
    for item in (header or "")[:MAX_HEADER].split(","):
        token, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                quality = float(value) if QVALUE.fullmatch(value) else 0.0
        if token.strip():
            items.append((token.strip().lower(), quality))
    return items


def negotiate(accept_language: str | None) -> str:
    """Pick 'nb' or 'en' from an Accept-Language header (RFC 9110 §12.5.4); bokmål by default."""
    ranked: list[tuple[float, int, str]] = []
    for index, (tag, quality) in enumerate(weighted_items(accept_language)):
        primary = tag.split("-")[0]
        language = "nb" if primary in NORWEGIAN or primary == "*" else primary
        if language in LANGUAGES and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
