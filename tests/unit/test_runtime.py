"""The garbage-collector setting: tuned when set, Python's own collector when 0."""

import json
import os
import subprocess
import sys

import pytest

SHOW_COLLECTOR = """
import gc, json
from app.runtime import tune_garbage_collector
from app.settings import get_settings
before = gc.get_threshold()
tune_garbage_collector(get_settings().gc_generation0_threshold)
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def collector_with(threshold: str | None) -> dict:
    """Run the start-up tuning in a fresh interpreter with the setting given (or unset)."""
    env = {k: v for k, v in os.environ.items() if k != "AREALSJEKK_GC_GENERATION0_THRESHOLD"}
    if threshold is not None:
        env["AREALSJEKK_GC_GENERATION0_THRESHOLD"] = threshold
    done = subprocess.run(
        [sys.executable, "-c", SHOW_COLLECTOR], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(("setting", "expected"), [(None, 50_000), ("20000", 20_000)])
def test_the_setting_sets_generation_0_and_freezes_start_up_objects(setting, expected):
    """The default and a configured threshold replace generation 0's; the others stay."""
    collector = collector_with(setting)
    assert collector["after"] == [expected, *collector["before"][1:]]
    assert collector["frozen"] > 0


def test_zero_leaves_pythons_collector_alone():
    """AREALSJEKK_GC_GENERATION0_THRESHOLD=0 means no tuning at all."""
    collector = collector_with("0")
    assert collector["after"] == collector["before"]
    assert collector["frozen"] == 0
