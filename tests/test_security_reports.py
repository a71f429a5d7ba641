"""Issue 16, reports: the work of one report or agenda is bounded whatever the check holds.

A check with thousands of findings took WeasyPrint minutes and gigabytes, laid out after its
client had left. Reports now show the most serious findings in detail and the next ones in a
capped table, and say what they leave out; PDFs are laid out in a process that is killed past
its time limit or when the client leaves, a few at a time.
"""

import os
import re
import resource
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import anyio
import pytest
from sqlalchemy import text

from app.db import get_engine
from app.reports import agenda, data, maps, pdf
from spatial.rules.text import thousands
from tests.report_data import assert_pdf, hemsedal_plan, load_layers, run_check, upload

# Generous bounds for a loaded 2-core machine (issue 16: a hostile input gets an answer
# within seconds; the unbounded report took 226 s); the real figures are printed.
REPORT_BOUND_S = 60.0
BUSY_BOUND_S = 10.0
GONE_BOUND_S = 10.0
NOT_DETAILED = "Ikke alle funn er vist i detalj"


def multiply_findings(check_id: int, copies: int) -> int:
    """Copy each finding of a check that is not ok `copies` times, each copy moved 400 m
    along a grid and counted in the check's summary; return the findings not ok."""
    with get_engine().begin() as connection:
        connection.execute(
            text(
                'INSERT INTO check_finding (check_id, position, rule_id, "check", paragraph, '
                "severity, plan_feature_ids, plan_feature_keys, plan_feature_names, layer_refs, "
                "measures, message, suggested_action, fingerprint, geom) "
                'SELECT check_id, 100000 + g * 100 + position, rule_id, "check", paragraph, '
                "severity, plan_feature_ids, plan_feature_keys, plan_feature_names, layer_refs, "
                "measures, "
                "message || ' (kopi ' || g || ')', suggested_action, fingerprint || '-' || g, "
                "ST_Translate(geom, (g % 40) * 400.0, (g / 40) * 400.0) "
                "FROM check_finding, generate_series(1, :copies) g "
                "WHERE check_id = :check AND severity <> 'ok'"
            ),
            {"copies": copies, "check": check_id},
        )
        # The summary counts what the check holds, as a real check's would.
        connection.execute(
            text(
                "UPDATE plan_check SET summary = jsonb_build_object("
                "'by_severity', (SELECT jsonb_object_agg(severity, n) FROM (SELECT severity, "
                "count(*) AS n FROM check_finding WHERE check_id = :check GROUP BY severity) s), "
                "'by_rule', (SELECT jsonb_object_agg(rule_id, counts) FROM (SELECT rule_id, "
                "jsonb_object_agg(severity, n) AS counts FROM (SELECT rule_id, severity, "
                "count(*) AS n FROM check_finding WHERE check_id = :check "
                "GROUP BY rule_id, severity) c GROUP BY rule_id) r)) WHERE id = :check"
            ),
            {"check": check_id},
        )
        return connection.execute(
            text("SELECT count(*) FROM check_finding WHERE check_id = :c AND severity <> 'ok'"),
            {"c": check_id},
        ).scalar_one()


def many_findings(client, copies: int = 533) -> tuple[dict, int]:
    """The Hemsedal plan checked, its findings multiplied to about 8,000 (as the pen-tester's
    2,000 cabin areas gave 8,003)."""
    check = run_check(client, upload(client, hemsedal_plan()))
    return check, multiply_findings(check["id"], copies)


def layout_processes() -> list[int]:
    """Process ids of PDF layout processes that are children of this process (zombies too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"pdf_worker.py" in cmdline:
            found.append(int(entry.name))
    return found


def gone(pid: int) -> bool:
    """True when the process has ended and been reaped."""
    return not Path(f"/proc/{pid}").exists()


class LayoutWatcher:
    """Notes every PDF layout process seen while it runs (a thread polling the module)."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.seen.update(pdf.running_pids())
            time.sleep(0.02)

    def __enter__(self) -> "LayoutWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wait_until(condition, timeout_s: float) -> bool:
    """Poll until the condition holds or the time is up; return whether it held."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_report_of_8000_findings_is_bounded(client, tmp_path, override_settings):
    """HTML and PDF answer within the bound, with the most serious findings in detail, the
    next ones in a capped table, and a plain note of what is left out and where it all is."""
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path)
    check, total = many_findings(client)
    assert total > 8000

    started = time.monotonic()
    response = client.get(f"/api/v1/checks/{check['id']}/report.html")
    html_s = time.monotonic() - started
    assert response.status_code == 200, response.text
    html = response.text
    print(f"\nreport.html of {total} findings: {html_s:.1f} s, {len(html) / 1e6:.2f} MB")
    assert html_s < REPORT_BOUND_S

    assert html.count('<article class="finding') == data.MAX_DETAILED_FINDINGS
    assert html.count("data:image/png;base64,") <= 1 + maps.MAX_DETAIL_MAPS
    table = html[html.index('id="more-findings"') : html.index('id="unknown"')]
    assert table.count("<tr>") == 1 + data.MAX_TABLE_FINDINGS  # the header and the rows
    note = " ".join(html[html.index('id="not-detailed"') :].split("</p>", 1)[0].split())
    not_detailed = total - data.MAX_DETAILED_FINDINGS
    left_out = not_detailed - data.MAX_TABLE_FINDINGS
    assert NOT_DETAILED in note
    assert f"{thousands(not_detailed)} funn er ikke vist i detalj" in note
    assert f"{thousands(left_out)} er ikke med i rapporten" in note
    assert f'href="http://testserver/api/v1/checks/{check["id"]}/findings"' in note
    assert f"http://testserver/api/v1/checks/{check['id']}/findings" in note
    # The most serious first: every conflict is shown before any warning.
    severities = re.findall(r'<article class="finding sev-border-(\w+)"', html)
    order = ["conflict", "warning", "unknown", "info"]
    assert severities == sorted(severities, key=order.index)
    # The unknown table is capped too, and says so.
    unknown = html[html.index('id="unknown"') : html.index('id="sources"')]
    assert unknown.count("<tr>") <= 1 + data.MAX_UNKNOWN_ROWS
    assert "?severity=unknown" in unknown

    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with LayoutWatcher() as watcher:
        started = time.monotonic()
        response = client.get(f"/api/v1/checks/{check['id']}/report.pdf")
        pdf_s = time.monotonic() - started
    assert response.status_code == 200, response.text
    print(
        f"report.pdf of {total} findings: {pdf_s:.1f} s, {len(response.content) / 1e6:.2f} MB; "
        f"peak RSS of the service {own_peak / 1024:.0f} -> "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    assert pdf_s < REPORT_BOUND_S
    assert_pdf(response.content, tmp_path, NOT_DETAILED, "Flere funn")
    assert watcher.seen and all(gone(pid) for pid in watcher.seen)
    assert pdf.running_pids() == [] and layout_processes() == []


def test_a_small_report_shows_every_finding_in_detail(client):
    """A normal plan's report has no note about findings left out."""
    check = run_check(client, upload(client, hemsedal_plan()))
    html = client.get(f"/api/v1/checks/{check['id']}/report.html").text
    not_ok = [f for f in check["findings"] if f["severity"] != "ok"]
    assert html.count('<article class="finding') == len(not_ok)
    assert NOT_DETAILED not in html and 'id="more-findings"' not in html


def test_a_layout_past_its_time_limit_is_503_and_leaves_no_process(client, monkeypatch):
    """The layout process is killed at the limit: 503 problem with Retry-After, and no
    process (not even a zombie) is left."""
    monkeypatch.setattr(pdf, "LAYOUT_TIMEOUT_S", 0.3)  # less than WeasyPrint's import
    check = run_check(client, upload(client, hemsedal_plan()))
    with LayoutWatcher() as watcher:
        started = time.monotonic()
        response = client.get(f"/api/v1/checks/{check['id']}/report.pdf")
        elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert "took too long to lay out" in response.json()["detail"]
    assert elapsed < BUSY_BOUND_S
    assert watcher.seen, "no layout process was started"
    assert all(gone(pid) for pid in watcher.seen)
    assert pdf.running_pids() == [] and layout_processes() == []


def test_the_agenda_pdf_is_bounded_and_killed_at_its_limit(
    client, monkeypatch, tmp_path, override_settings
):
    """The forum agenda lists at most MAX_FINDINGS_PER_PROPOSAL findings of a proposal and
    says how many more there are; its PDF is laid out under the same limits."""
    override_settings(raster_dir=tmp_path)
    load_layers(tmp_path)
    check, total = many_findings(client)
    today = datetime.now(ZoneInfo("Europe/Oslo")).date().isoformat()
    params = {"from": today, "to": today}
    started = time.monotonic()
    response = client.get("/api/v1/forum/agenda.html", params=params)
    assert response.status_code == 200, response.text
    html = response.text
    assert html.count("Tiltak:") == agenda.MAX_FINDINGS_PER_PROPOSAL  # one per listed finding
    assert f"Listen viser {agenda.MAX_FINDINGS_PER_PROPOSAL} av" in html
    assert f"/api/v1/checks/{check['id']}/findings" in html

    response = client.get("/api/v1/forum/agenda.pdf", params=params)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    print(f"\nagenda.html + agenda.pdf with {total} findings: {elapsed:.1f} s")
    assert elapsed < REPORT_BOUND_S
    assert_pdf(response.content, tmp_path, "Listen viser")

    monkeypatch.setattr(pdf, "LAYOUT_TIMEOUT_S", 0.3)
    response = client.get("/api/v1/forum/agenda.pdf", params=params)
    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert pdf.running_pids() == [] and layout_processes() == []


def get(url: str, key: str, timeout_s: float) -> tuple[int, dict, float]:
    """GET over real HTTP; return the status, headers and seconds taken."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
            return response.status, dict(response.headers), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), time.monotonic() - started


def test_pdf_requests_beyond_the_limit_get_503(client, live_server, api_keys, monkeypatch):
    """With every layout slot taken, further PDF requests get 503 within seconds instead of
    queueing; the slot's own request is still served."""
    monkeypatch.setattr(pdf, "_slots", threading.BoundedSemaphore(1))
    monkeypatch.setattr(pdf, "QUEUE_TIMEOUT_S", 0.5)
    check = run_check(client, upload(client, hemsedal_plan()))
    url = f"{live_server}/api/v1/checks/{check['id']}/report.pdf"
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: get(url, api_keys["admin"], 120), range(4)))
    statuses = sorted(status for status, _, _ in answers)
    print(f"\nconcurrent PDFs with 1 slot: {[(s, round(t, 1)) for s, _, t in answers]}")
    assert set(statuses) == {200, 503} and statuses.count(200) >= 1
    for status, headers, seconds in answers:
        if status == 503:
            assert seconds < BUSY_BOUND_S
            assert "retry-after" in {name.lower() for name in headers}
    assert wait_until(lambda: pdf.running_pids() == [] and layout_processes() == [], 5)


def test_a_layout_stops_when_its_client_leaves(client, live_server, api_keys, monkeypatch):
    """A client that gives up takes its layout with it: the process is gone within seconds,
    not after the time limit."""
    # A report too large to lay out in seconds: every finding in the table.
    monkeypatch.setattr(data, "MAX_TABLE_FINDINGS", 20_000)
    monkeypatch.setattr(pdf, "LAYOUT_TIMEOUT_S", 300.0)
    check, _ = many_findings(client)
    url = f"{live_server}/api/v1/checks/{check['id']}/report.pdf"
    with LayoutWatcher() as watcher:
        with pytest.raises((TimeoutError, urllib.error.URLError, OSError)):
            get(url, api_keys["admin"], timeout_s=15)
        left = time.monotonic()
        assert watcher.seen, "the layout had not started when the client left"
        assert wait_until(lambda: pdf.running_pids() == [], GONE_BOUND_S)
    print(f"\nlayout stopped {time.monotonic() - left:.1f} s after the client left")
    assert all(gone(pid) for pid in watcher.seen)
    assert layout_processes() == []


def test_a_layout_fetches_nothing_from_the_network():
    """The PDF process loads embedded data: URLs only (SSRF), whatever a document links."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        html = (
            f'<html><body><img src="http://127.0.0.1:{port}/x.png">'
            f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"><p>Hei</p></body></html>'
        )
        document = anyio.run(pdf.html_to_pdf, html, "http://127.0.0.1/")
        assert document.startswith(b"%PDF-")
        with pytest.raises(TimeoutError):
            listener.accept()
