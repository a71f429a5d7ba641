"""A check runs the rule set it recorded when it was queued, whatever is configured when it runs."""

from pathlib import Path

import pytest
from sqlalchemy import insert

from app.check_runner import (
    RuleSetUnavailableError,
    check_rule_set,
    create_check,
    execute_check,
)
from app.db import get_sessionmaker
from app.repositories import checks as checks_repo
from app.repositories.proposals import get_version
from db.models import PlanCheckOrm, RuleSetTextOrm
from layers.ruleset import DEFAULT_RULE_SET, configured_rule_set, default_rule_set
from spatial.rules.ruleset import rule_set_checksum
from tests.test_checks_api import cabin, layers, upload  # noqa: F401 - the fixture and helpers
from tests.workers import run_jobs

SHIPPED = Path(__file__).parent.parent / "layers" / "rules" / DEFAULT_RULE_SET
PROPOSAL_ID = "3326_2024001"


def rule_set_b(folder: Path) -> Path:
    """The shipped rule set with a G1 conflict threshold no cabin area reaches."""
    text = SHIPPED.read_text("utf-8")
    text = text.replace('version: "2026.1"', 'version: "2026.1-b"', 1)
    old = "conflict_min_area_m2:\n        value: 50\n"
    assert old in text
    path = folder / "rules-b.yaml"
    path.write_text(text.replace(old, "conflict_min_area_m2:\n        value: 1000000\n"), "utf-8")
    return path


def queue_check(settings) -> int:
    """Record a check of version 1 of the uploaded proposal without running it."""
    with get_sessionmaker()() as session:
        return create_check(session, get_version(session, PROPOSAL_ID, 1), settings).id


def g1_severities(check: dict) -> list[str]:
    return [f["severity"] for f in check["findings"] if f["rule_id"] == "G1"]


def test_a_queued_check_runs_the_rules_it_recorded(client, layers, override_settings):  # noqa: F811
    """Queued under rule set A, run after the configuration became B: A's rules and checksum."""
    settings_a = override_settings(raster_dir=layers)
    upload(client, cabin(470_000.0, "BFR1"))
    check_id = queue_check(settings_a)

    settings_b = override_settings(raster_dir=layers, rule_set_file=rule_set_b(layers))
    execute_check(check_id, settings_b)
    ran = client.get(f"/api/v1/checks/{check_id}").json()
    assert ran["status"] == "done", ran["error"]
    shipped = default_rule_set()
    assert ran["rule_set"] == {
        "id": shipped.id,
        "version": shipped.version,
        "checksum": shipped.checksum,
    }
    assert g1_severities(ran) == ["conflict"]

    # The same version checked now runs B: the threshold makes the conflict a warning.
    now = client.post(f"/api/v1/proposals/{PROPOSAL_ID}/versions/1/checks").json()
    assert now["rule_set"]["version"] == "2026.1-b"
    assert now["rule_set"]["checksum"] == configured_rule_set(settings_b.rule_set_file).checksum
    assert g1_severities(now) == ["warning"]


def test_a_retried_check_runs_the_rules_it_recorded(client, layers, override_settings, monkeypatch):  # noqa: F811
    """A check whose worker stopped mid-way (left running) is run again by a worker
    configured with another rule set: it still runs the rules it recorded."""
    settings_a = override_settings(raster_dir=layers)
    upload(client, cabin(470_000.0, "BFR1"))
    with get_sessionmaker()() as session:
        version = get_version(session, PROPOSAL_ID, 1)
        check_id = create_check(session, version, settings_a, background=True).id
        checks_repo.get_check(session, check_id).status = "running"
        session.commit()

    monkeypatch.setenv("AREALSJEKK_RULE_SET_FILE", str(rule_set_b(layers)))
    run_jobs(monkeypatch, layers)
    ran = client.get(f"/api/v1/checks/{check_id}").json()
    assert ran["status"] == "done", ran["error"]
    assert ran["rule_set"]["checksum"] == default_rule_set().checksum
    assert g1_severities(ran) == ["conflict"]


def test_a_check_whose_rules_cannot_be_built_fails_clearly(client, layers, override_settings):  # noqa: F811
    """A stored rule set naming a rule class that no longer exists fails the check."""
    settings = override_settings(raster_dir=layers)
    upload(client, cabin(470_000.0, "BFR1"))
    text = SHIPPED.read_text("utf-8").replace("class: tree_line\n", "class: tree_line_v0\n")
    checksum = rule_set_checksum(text)
    with get_sessionmaker()() as session:
        session.execute(
            insert(RuleSetTextOrm).values(
                checksum=checksum,
                rule_set_id="buskerudplanen-2026",
                rule_set_version="0",
                text=text,
            )
        )
        check = PlanCheckOrm(
            proposal_version_id=get_version(session, PROPOSAL_ID, 1).id,
            status="queued",
            rule_set_id="buskerudplanen-2026",
            rule_set_version="0",
            rule_set_checksum=checksum,
        )
        session.add(check)
        session.commit()
        check_id = check.id

    execute_check(check_id, settings)
    failed = client.get(f"/api/v1/checks/{check_id}").json()
    assert failed["status"] == "failed"
    assert "unknown class 'tree_line_v0'" in failed["error"]
    assert "run a new check" in failed["error"]
    assert failed["findings"] == [] and failed["summary"]["total"] == 0


def test_a_check_from_before_stored_rule_sets_runs_only_the_same_rules(tmp_path, override_settings):
    """Without a stored text, the configured rule set is used only if its checksum matches."""
    path = tmp_path / "rules-c.yaml"
    path.write_text(
        SHIPPED.read_text("utf-8").replace('version: "2026.1"', 'version: "2026.1-c"', 1), "utf-8"
    )
    settings = override_settings(rule_set_file=path)
    configured = configured_rule_set(path)
    with get_sessionmaker()() as session:
        assert checks_repo.rule_set_text(session, configured.checksum) is None
        same = PlanCheckOrm(
            rule_set_id=configured.id,
            rule_set_version=configured.version,
            rule_set_checksum=configured.checksum,
        )
        assert check_rule_set(session, same, settings).checksum == configured.checksum
        other = PlanCheckOrm(
            rule_set_id=configured.id, rule_set_version="2025.9", rule_set_checksum="0" * 64
        )
        with pytest.raises(RuleSetUnavailableError, match="is not stored"):
            check_rule_set(session, other, settings)


def test_the_stored_text_is_the_rule_set_as_read(client, layers, override_settings):  # noqa: F811
    """The text kept with a check is the file's text: its SHA-256 is the recorded checksum."""
    settings = override_settings(raster_dir=layers, rule_set_file=rule_set_b(layers))
    upload(client, cabin(470_000.0, "BFR1"))
    check_id = queue_check(settings)
    with get_sessionmaker()() as session:
        check = checks_repo.get_check(session, check_id)
        text = checks_repo.rule_set_text(session, check.rule_set_checksum)
    assert text == settings.rule_set_file.read_text("utf-8")
    assert rule_set_checksum(text) == check.rule_set_checksum
