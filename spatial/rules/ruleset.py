"""Rule set files: a versioned list of rules with their parameters and the reason for each."""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import spatial.rules.catalog  # noqa: F401 - registers the rule classes
from spatial.errors import ArealsjekkError
from spatial.rules.base import RULE_CLASSES, Rule

# A rule id (G1, G5, …); layer configs name the rules using them by these ids.
RULE_ID_PATTERN = r"^[A-Z][A-Za-z0-9_.-]{0,15}$"


class RuleSetError(ArealsjekkError):
    """A rule set file is invalid; the message names the file, rule and parameter."""


class ParameterEntry(BaseModel):
    """A parameter value with the one-line reason for its default."""

    model_config = ConfigDict(extra="forbid")

    value: Any
    reason: str = Field(min_length=5)


class RuleEntry(BaseModel):
    """One rule of a rule set file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=RULE_ID_PATTERN)
    rule_class: str = Field(alias="class")
    paragraph: str
    title: str
    text: str
    params: dict[str, ParameterEntry] = Field(default_factory=dict)


class RuleSetFile(BaseModel):
    """The top level of a rule set file."""

    model_config = ConfigDict(extra="forbid")

    id: str
    version: str
    title: str
    source: str
    rules: list[RuleEntry] = Field(min_length=1)


@dataclass(frozen=True)
class RuleSet:
    """A validated rule set: its identity, its rules, its text as read and that text's checksum."""

    id: str
    version: str
    title: str
    source: str
    checksum: str
    rules: tuple[Rule, ...]
    document: dict[str, Any]
    text: str

    def rule(self, rule_id: str) -> Rule:
        """Return a rule by id."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def parse_rule_set(text: str, name: str) -> RuleSet:
    """Parse and validate a rule set; raise RuleSetError naming what is wrong."""
    try:
        document = yaml.safe_load(text)
        parsed = RuleSetFile.model_validate(document)
    except yaml.YAMLError as exc:
        raise RuleSetError(f"{name}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        raise RuleSetError(f"{name}: {_first_error(exc)}") from None
    seen: set[str] = set()
    rules: list[Rule] = []
    for entry in parsed.rules:
        if entry.id in seen:
            raise RuleSetError(f"{name}: rule id '{entry.id}' is used twice")
        seen.add(entry.id)
        rules.append(build_rule(entry, name))
    return RuleSet(
        id=parsed.id,
        version=parsed.version,
        title=parsed.title,
        source=parsed.source,
        checksum=rule_set_checksum(text),
        rules=tuple(rules),
        document=document,
        text=text,
    )


def rule_set_checksum(text: str) -> str:
    """Return the SHA-256 of a rule set's text (UTF-8), which identifies the rule set."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_rule(entry: RuleEntry, name: str) -> Rule:
    """Instantiate the registered class of one rule entry with its parameter values."""
    cls = RULE_CLASSES.get(entry.rule_class)
    if cls is None:
        known = ", ".join(sorted(RULE_CLASSES))
        raise RuleSetError(
            f"{name}: rule {entry.id}: unknown class '{entry.rule_class}' (known: {known})"
        )
    params = {key: param.value for key, param in entry.params.items()}
    try:
        return cls(
            id=entry.id, paragraph=entry.paragraph, title=entry.title, text=entry.text, **params
        )
    except ValidationError as exc:
        raise RuleSetError(f"{name}: rule {entry.id}: {_first_error(exc)}") from None


def load_rule_set(path: Path) -> RuleSet:
    """Read and validate a rule set file."""
    return parse_rule_set(Path(path).read_text("utf-8"), Path(path).name)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    return f"{where}: {error['msg']}"
