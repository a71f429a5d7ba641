"""Domain errors. The web layer maps each class to an HTTP problem response in one place."""

from dataclasses import dataclass, field
from typing import Any

from spatial.messages import Text, localize


@dataclass
class Problem:
    """One concrete problem with the input, naming where it is.

    `feature` is the feature's position in the file (0-based), `feature_id` its id there,
    `feltnavn` and `lokal_id` the names a planner knows it by, and `location` a point
    (longitude, latitude in CRS84) where a geometry goes wrong, for the map to mark.
    """

    message: Text | str
    feature: int | None = None
    feature_id: str | None = None
    field: str | None = None
    feltnavn: str | None = None
    lokal_id: str | None = None
    location: tuple[float, float] | None = None

    def where(self) -> Text | None:
        """Return where the problem is, in words (None when it concerns the whole input)."""
        nb: list[str] = []
        en: list[str] = []
        if self.feature is not None:
            nb.append(f"objekt nr. {self.feature + 1}")
            en.append(f"feature {self.feature}")
        for label_nb, label_en, value in (
            ("feltnavn", "feltnavn", self.feltnavn),
            ("lokalId", "lokalId", self.lokal_id),
            ("id", "id", self.feature_id),
        ):
            if value is not None:
                nb.append(f"{label_nb} «{value}»")
                en.append(f"({label_en} '{value}')")
        if self.field is not None and self.feature is None:
            nb.append(f"feltet {self.field}")
            en.append(self.field)
        return Text(", ".join(nb), " ".join(en)) if nb else None

    def describe(self) -> Text:
        """Return the message prefixed with where the problem is, for a one-line detail."""
        where = self.where()
        message = (
            self.message if isinstance(self.message, Text) else Text(self.message, self.message)
        )
        return message if where is None else where + ": " + message

    def as_dict(self, language: str | None = None) -> dict[str, Any]:
        """Return the problem as a JSON-ready dict without empty keys.

        With a language the message is in that language; without one (for storing) the
        message is bokmål and `message_en` holds the English.
        """
        if language is None:
            out: dict[str, Any] = {"message": localize(self.message, "nb")}
            if isinstance(self.message, Text):
                out["message_en"] = self.message.en
        else:
            out = {"message": localize(self.message, language)}
        for name in ("feature", "feature_id", "field", "feltnavn", "lokal_id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.location is not None:
            out["location"] = [round(self.location[0], 7), round(self.location[1], 7)]
        return out


@dataclass
class ArealsjekkError(Exception):
    """Base of all domain errors; `detail` is safe to show to users."""

    detail: Text | str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return str(self.detail)


class NotFoundError(ArealsjekkError):
    """The addressed resource does not exist."""


class MalformedInputError(ArealsjekkError):
    """The request body cannot be parsed at all (e.g. invalid JSON)."""


class InvalidInputError(ArealsjekkError):
    """The body parses but its content breaks a rule; `problems` names each feature."""


class UnsupportedCRSError(ArealsjekkError):
    """A coordinate reference system is unknown or cannot be used here."""


class PayloadTooLargeError(ArealsjekkError):
    """The upload exceeds a configured size, feature or vertex limit."""


class TimeBudgetExceededError(PayloadTooLargeError):
    """Reading and validating an upload took longer than its time budget (HTTP 413)."""


def summarize(problems: list[Problem]) -> Text:
    """Return a one-line detail naming the first problem and how many more there are."""
    first = problems[0].describe()
    more = len(problems) - 1
    if more == 0:
        return first
    return first + Text(
        f" (og {more} problem{'er' * (more > 1)} til)",
        f" (and {more} more problem{'s' * (more > 1)})",
    )
