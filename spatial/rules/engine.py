"""Running a rule set over a plan."""

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from spatial.rules.model import SEVERITIES, CheckPlan, Finding, LayerSource
from spatial.rules.ruleset import RuleSet


@dataclass
class CheckResult:
    """The findings of a rule set for a plan, with everything needed to reproduce them."""

    rule_set_id: str
    rule_set_version: str
    rule_set_checksum: str
    findings: list[Finding]
    layer_versions: dict[str, int | None]
    timings_ms: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Count findings per severity, and per rule and severity."""
        return summarize_findings(self.findings)


def summarize_findings(findings: list[Finding]) -> dict[str, Any]:
    """Count findings per severity and per rule."""
    per_severity = Counter(f.severity for f in findings)
    per_rule: dict[str, Counter[str]] = {}
    for finding in findings:
        per_rule.setdefault(finding.rule_id, Counter())[finding.severity] += 1
    return {
        "total": len(findings),
        "by_severity": {s: per_severity.get(s, 0) for s in SEVERITIES},
        "by_rule": {
            rule: {s: counts.get(s, 0) for s in SEVERITIES} for rule, counts in per_rule.items()
        },
    }


def _order(finding: Finding) -> tuple:
    return (
        finding.rule_id,
        SEVERITIES.index(finding.severity),
        finding.check,
        finding.plan_feature_names,
        finding.fingerprint,
    )


def run_rules(rule_set: RuleSet, plan: CheckPlan, layers: LayerSource) -> CheckResult:
    """Evaluate every rule of the set, recording the layer versions and time each rule used."""
    findings: list[Finding] = []
    timings: dict[str, float] = {}
    for rule in rule_set.rules:
        started = time.perf_counter()
        findings.extend(rule.evaluate(plan, layers))
        timings[rule.id] = round((time.perf_counter() - started) * 1000, 1)
    layer_ids = sorted({layer for rule in rule_set.rules for layer in rule.layers})
    return CheckResult(
        rule_set_id=rule_set.id,
        rule_set_version=rule_set.version,
        rule_set_checksum=rule_set.checksum,
        findings=sorted(findings, key=_order),
        layer_versions={layer: layers.version(layer) for layer in layer_ids},
        timings_ms=timings,
    )
