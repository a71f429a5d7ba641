"""Every text a user can meet is written in bokmål and English (issue 20, item 4).

Walks the source of spatial/ and app/: a domain error raised with a plain string, or a
Problem made from one, would reach a planner in English only. The texts must be
spatial.messages.Text, so the answer's language can be chosen (app.language).
"""

import ast
from pathlib import Path

import pytest

from spatial.messages import Text, english, join, localize, negotiate

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("spatial", "app")
# Errors only an operator meets (a broken rule-set, layer or land-account method file, a failed
# layer load): they are written for the operator's log and CLI, in English.
OPERATOR_ERRORS = {"RuleSetError", "RuleSetUnavailableError", "LandAccountError"}


def _error_classes() -> set[str]:
    """Return the names of ArealsjekkError and every class deriving from it, in all packages."""
    bases: dict[str, set[str]] = {}
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] not in (*PACKAGES, "layers"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                bases.setdefault(node.name, set()).update(names)
    found = {"ArealsjekkError"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found
        found |= more


def _is_plain_text(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.BinOp):  # "a" + f"b": still one language
        return _is_plain_text(node.left) and _is_plain_text(node.right)
    return False


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _english_only_texts() -> list[str]:
    errors = _error_classes() - OPERATOR_ERRORS
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = _called_name(node)
                if name not in errors and name != "Problem":
                    continue
                first = node.args[0] if node.args else None
                for keyword in node.keywords:
                    if keyword.arg in ("detail", "message"):
                        first = keyword.value
                if first is not None and _is_plain_text(first):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    return found


def test_every_user_facing_error_text_is_in_bokmal_and_english():
    """No domain error or Problem is made from a plain (one-language) string."""
    offenders = _english_only_texts()
    assert not offenders, "texts in one language only (use spatial.messages.Text):\n" + "\n".join(
        offenders
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "nb"),
        ("", "nb"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("nb-NO,nb;q=0.9,en;q=0.8", "nb"),
        ("no", "nb"),
        ("nn", "nb"),
        ("en;q=0.5, nb", "nb"),
        ("de, fr;q=0.9", "nb"),
        ("de, en;q=0.1", "en"),
        ("en;q=0", "nb"),
        ("en;q=zz", "nb"),
        ("en;q=1e9", "nb"),  # not a qvalue (RFC 9110 §12.4.2): counts as 0
        ("en;q=inf", "nb"),
        ("en;q=0.50001, nb;q=0.5", "nb"),
        ("en;q=1.000, nb;q=0.999", "en"),
        ("nb;q=0.1, " * 2000 + "en", "nb"),  # only the first 1000 characters are read
        ("*", "nb"),
        (",,;;q=", "nb"),
    ],
)
def test_language_is_negotiated_from_accept_language(header, expected):
    """Bokmål unless English is preferred (RFC 9110 §12.5.4 weights); junk gives bokmål."""
    assert negotiate(header) == expected


def test_texts_join_and_concatenate_language_by_language():
    """Joining and adding keep each language whole; plain strings are the same in both."""
    text = "objekt: " + Text("flaten krysser seg selv", "the surface crosses itself") + "."
    assert text == Text("objekt: flaten krysser seg selv.", "objekt: the surface crosses itself.")
    joined = join([Text("a", "b"), "c"], " / ")
    assert (localize(joined, "nb"), english(joined)) == ("a / c", "b / c")
    assert str(Text("hei", "hello")) == "hei"
    assert localize("BFR10", "en") == "BFR10"
