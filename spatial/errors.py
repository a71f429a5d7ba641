"""Domain errors. The web layer maps each class to an HTTP problem response in one place."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Problem:
    """One concrete problem with the input, naming where it is."""

    message: str
    feature: int | None = None
    feature_id: str | None = None
    field: str | None = None

    def describe(self) -> str:
        """Return the message prefixed with where the problem is, for a one-line detail."""
        where = []
        if self.feature is not None:
            where.append(f"feature {self.feature}")
        if self.feature_id is not None:
            where.append(f"(id '{self.feature_id}')")
        if self.field is not None and self.feature is None:
            where.append(self.field)
        return f"{' '.join(where)}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-ready dict without empty keys."""
        out: dict[str, Any] = {"message": self.message}
        if self.feature is not None:
            out["feature"] = self.feature
        if self.feature_id is not None:
            out["feature_id"] = self.feature_id
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass
class ArealsjekkError(Exception):
    """Base of all domain errors; `detail` is safe to show to users."""

    detail: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return self.detail


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


def summarize(problems: list[Problem]) -> str:
    """Return a one-line detail naming the first problem and how many more there are."""
    first = problems[0].describe()
    more = len(problems) - 1
    return first if more == 0 else f"{first} (and {more} more problem{'s' * (more > 1)})"
