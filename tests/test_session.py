"""Signing in on the pages (issue 20): a session cookie instead of the key in every tab.

The cookie's attributes, what it may do, the same-origin rule for changes it authenticates
(OWASP CSRF Prevention Cheat Sheet), its end by logout, revocation and age, and report links
that the server checks for whoever opens them.
"""

import logging
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.access import create_api_key, hash_key, revoke_api_key
from app.db import get_sessionmaker
from app.security import SESSION_COOKIE
from db.models import BrowserSessionOrm
from tests.plans import PLAN, cabin_area, collection, encode

ORIGIN = "http://testserver"  # the TestClient's own origin (a trusted host in the tests)
SAME = {"Origin": ORIGIN}
DRAFT = dict(PLAN, planidentifikasjon="SESJON1", plannavn="Utkast med innlogging")
GEOJSON = {"Content-Type": "application/geo+json"}


@pytest.fixture
def browser(app):
    """A client as the pages' browser is: no key of its own, cookies kept, bokmål asked for."""
    with TestClient(app, headers={"Accept-Language": "nb-NO,nb;q=0.9"}) as test_client:
        yield test_client


def set_cookie(response) -> SimpleCookie:
    """The response's Set-Cookie for the session cookie, parsed (attributes included)."""
    header = response.headers.get("set-cookie")
    assert header, f"no Set-Cookie in {response.status_code} {response.text}"
    cookie = SimpleCookie()
    cookie.load(header)
    assert SESSION_COOKIE in cookie, header
    return cookie


def sign_in(client, key: str, headers: dict | None = None):
    """POST /api/v1/session from the service's own origin."""
    return client.post("/api/v1/session", json={"api_key": key}, headers=headers or SAME)


def upload(client, headers, plan=DRAFT, lat=60.86):
    """Upload a one-area Hemsedal plan (another lat: another version's content)."""
    body = encode(collection(cabin_area(lat=lat), plan=plan))
    return client.post("/api/v1/proposals", content=body, headers={**GEOJSON, **headers})


def test_sign_in_sets_an_httponly_strict_cookie_and_says_who(browser, api_keys):
    key = api_keys["planner_3326"]
    response = sign_in(browser, key)
    assert response.status_code == 200, response.text
    assert response.json() | {"expires_at": None} == {
        "key_name": "test planner_3326",
        "role": "planner",
        "kommunenummer": "3326",
        "municipality": "Hemsedal",
        "via": "cookie",
        "expires_at": None,
    }
    assert response.headers["cache-control"] == "no-store"
    header = response.headers["set-cookie"]
    morsel = set_cookie(response)[SESSION_COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/"
    assert not morsel["secure"]  # plain http here; see the https test below
    assert not morsel["max-age"] and not morsel["expires"]  # ends with the browser session
    # The cookie carries no part of the key.
    assert key not in header and key.split("_")[2] not in header

    me = browser.get("/api/v1/session")
    assert me.status_code == 200
    assert me.json()["key_name"] == "test planner_3326"
    assert me.json()["via"] == "cookie" and me.json()["expires_at"]


def test_the_cookie_is_secure_when_the_service_is_on_https(browser, api_keys, override_settings):
    override_settings(public_url="https://arealsjekk.example.no")
    response = sign_in(
        browser, api_keys["forum"], headers={"Origin": "https://arealsjekk.example.no"}
    )
    assert response.status_code == 200, response.text
    assert set_cookie(response)[SESSION_COOKIE]["secure"] is True
    assert response.json()["municipality"] is None and response.json()["role"] == "forum"


def test_a_wrong_key_signs_nobody_in(browser):
    response = sign_in(browser, "ask_00000000_not-a-real-key")
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert browser.get("/api/v1/session").status_code == 401


def test_another_site_cannot_sign_a_browser_in(browser, api_keys):
    """Login CSRF: a foreign page posting its own key must not set our cookie."""
    response = sign_in(browser, api_keys["admin"], headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_the_cookie_reads_drafts_like_the_key(client, browser, api_keys):
    owner = {"Authorization": f"Bearer {api_keys['planner_3326']}"}
    assert upload(client, owner).status_code == 201
    url = "/api/v1/proposals/3326_SESJON1"
    assert browser.get(url).status_code == 404  # a draft: not for browser callers
    assert sign_in(browser, api_keys["planner_3326"]).status_code == 200
    assert browser.get(url).status_code == 200  # GET needs no Origin
    assert browser.get("/api/v1/proposals").json()["items"][0]["id"] == "3326_SESJON1"


def test_changes_by_cookie_need_our_own_origin(browser, api_keys):
    assert sign_in(browser, api_keys["planner_3326"]).status_code == 200
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {}):
        refused = upload(browser, headers)
        assert refused.status_code == 403, (headers, refused.text)
        assert refused.json()["detail"].startswith("forespørselen kommer ikke fra Arealsjekks")
    # A page of ours on another port is another origin too.
    assert upload(browser, {"Origin": "http://testserver:8080"}).status_code == 403
    # From our own pages: Origin, or (without it) a Referer of ours.
    assert upload(browser, SAME).status_code == 201
    assert upload(browser, {"Referer": f"{ORIGIN}/?check=1"}, lat=60.87).status_code == 201
    publish = browser.post("/api/v1/proposals/3326_SESJON1/publish", headers=SAME)
    assert publish.status_code == 200, publish.text


def test_a_bearer_key_needs_no_origin(browser, api_keys):
    """Clients sending the key themselves are not CSRF targets: no Origin asked of them."""
    bearer = {"Authorization": f"Bearer {api_keys['planner_3326']}"}
    assert upload(browser, bearer).status_code == 201
    me = browser.get("/api/v1/session", headers=bearer)
    assert me.json()["via"] == "header" and me.json()["expires_at"] is None


def test_a_revoked_keys_cookie_is_refused_and_dropped(browser, api_keys):
    with get_sessionmaker()() as session:
        key, token = create_api_key(session, "Kortvarig nøkkel", "planner", "3326")
        key_id = key.id
    assert sign_in(browser, token).status_code == 200
    assert browser.get("/api/v1/session").status_code == 200
    with get_sessionmaker()() as session:
        revoke_api_key(session, key_id)
    assert browser.get("/api/v1/proposals").status_code == 401
    me = browser.get("/api/v1/session")
    assert me.status_code == 401
    assert "utløpt eller ugyldig" in me.json()["detail"]
    assert set_cookie(me)[SESSION_COOKIE]["max-age"] == "0"  # the browser forgets it
    assert browser.get("/api/v1/proposals").status_code == 200  # browser again


def test_forged_and_old_cookies_are_refused(browser, api_keys):
    assert sign_in(browser, api_keys["admin"]).status_code == 200
    token = browser.cookies[SESSION_COOKIE]
    browser.cookies.clear()
    cookies = {
        "one character changed": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "cut short": token[:-4],
        "garbage": "x",
        "not a token": "1.1700000000.abc",
        "far too long": "a" * 5000,
    }
    for what, value in cookies.items():
        browser.cookies.set(SESSION_COOKIE, value)
        assert browser.get("/api/v1/session").status_code == 401, what
        browser.cookies.clear()
    browser.cookies.set(SESSION_COOKIE, token)
    assert browser.get("/api/v1/session").status_code == 200
    # Past its absolute lifetime the same token signs nobody in.
    with get_sessionmaker()() as session:
        session.execute(
            update(BrowserSessionOrm)
            .where(BrowserSessionOrm.token_hash == hash_key(token))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    assert browser.get("/api/v1/session").status_code == 401


def test_the_cookie_holds_no_key_and_its_hash_only_is_stored(browser, api_keys):
    """The token is random (not the key, not derived from it); the database has its hash."""
    assert sign_in(browser, api_keys["forum"]).status_code == 200
    token = browser.cookies[SESSION_COOKIE]
    assert api_keys["forum"] not in token and len(token) >= 40
    with get_sessionmaker()() as session:
        stored = session.get(BrowserSessionOrm, hash_key(token))
        assert stored is not None and stored.ended_at is None
        assert session.get(BrowserSessionOrm, token) is None


def test_sign_out_clears_the_cookie(browser, api_keys):
    assert sign_in(browser, api_keys["forum"]).status_code == 200
    assert (
        browser.delete("/api/v1/session", headers={"Origin": "https://evil.example"}).status_code
        == 403
    )
    assert browser.get("/api/v1/session").status_code == 200
    response = browser.delete("/api/v1/session", headers=SAME)
    assert response.status_code == 204
    morsel = set_cookie(response)[SESSION_COOKIE]
    assert morsel["max-age"] == "0" and morsel.value == ""
    me = browser.get("/api/v1/session")
    assert me.status_code == 401
    assert me.json()["detail"].startswith("ikke innlogget")


def test_sign_out_ends_the_session_on_the_server(browser, api_keys):
    """A copy of the cookie taken before «Logg ut» signs nobody in after it, for reading or
    for writing; a sign-out without our Origin is refused."""
    assert sign_in(browser, api_keys["forum"]).status_code == 200
    copied = browser.cookies[SESSION_COOKIE]
    assert browser.delete("/api/v1/session").status_code == 403  # no Origin: not our page
    assert browser.get("/api/v1/session").status_code == 200
    assert browser.delete("/api/v1/session", headers=SAME).status_code == 204
    browser.cookies.set(SESSION_COOKIE, copied)
    assert browser.get("/api/v1/session").status_code == 401
    assert browser.get("/api/v1/forum/findings").status_code == 401
    review = browser.put(
        "/api/v1/forum/findings/1/review", json={"status": "discussed"}, headers=SAME
    )
    assert review.status_code == 401


def test_report_links_are_checked_for_whoever_opens_them(client, browser, api_keys, caplog):
    """A report link is a plain address: the owner's browser gets it, another
    municipality's planner gets 404 for the draft, as an browser caller does."""
    caplog.set_level(logging.DEBUG)
    owner = {"Authorization": f"Bearer {api_keys['planner_3326']}"}
    assert upload(client, owner).status_code == 201
    check = client.post("/api/v1/proposals/3326_SESJON1/versions/1/checks", headers=owner)
    assert check.status_code == 201, check.text
    report = f"/api/v1/checks/{check.json()['id']}/report.html"

    assert sign_in(browser, api_keys["planner_3303"]).status_code == 200
    stranger = browser.get(report)
    assert stranger.status_code == 404
    assert "Utkast med innlogging" not in stranger.text
    assert browser.get(report.replace(".html", ".pdf")).status_code == 404

    assert sign_in(browser, api_keys["planner_3326"]).status_code == 200
    mine = browser.get(report)
    assert mine.status_code == 200 and "Utkast med innlogging" in mine.text
    browser.cookies.clear()
    assert browser.get(report).status_code == 404

    # Nothing logged the cookie.
    assert sign_in(browser, api_keys["planner_3326"]).status_code == 200
    cookie = browser.cookies[SESSION_COOKIE]
    assert browser.get(report).status_code == 200
    assert cookie not in caplog.text


@pytest.mark.parametrize("body", [{}, {"api_key": ""}, {"api_key": "x", "role": "admin"}])
def test_sign_in_needs_exactly_a_key(browser, body):
    response = browser.post("/api/v1/session", json=body, headers=SAME)
    assert response.status_code == 422
    assert "set-cookie" not in response.headers
