"""SOSI files as planning software writes them, through the upload API (issue 18): zone group
names, a ..TEGNSETT the bytes contradict, islands given as another .FLATE, files cut short."""

from tests.conftest import row_counts
from tests.unit.test_sosi_real import plan, square

EMPTY = {"plan_proposal": 0, "proposal_version": 0, "plan_feature": 0}


def upload(client, body: bytes):
    return client.post(
        "/api/v1/proposals",
        content=body,
        params={"filename": "plan.sos"},
        headers={"content-type": "text/plain"},
    )


def test_frisikt_zone_under_rpsikring_is_stored(client):
    """..RPSIKRING 140 (frisikt) is a hensynssone with its code, not a 422."""
    response = upload(client, plan(zone="..RPSIKRING 140").encode())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["area_counts"] == {"planomrade": 1, "arealformal": 1, "hensynssone": 1}
    assert body["report"]["warnings"] == []


def test_kp_fare_zone_is_stored(client):
    response = upload(client, plan("Kp", "..KPFARE 310", "KpFareSone").encode())
    assert response.status_code == 201, response.text
    assert response.json()["area_counts"]["hensynssone"] == 1


def test_utf8_declared_iso8859_10_is_stored_with_a_warning(client):
    """A UTF-8 file with a byte-order mark that declares ISO8859-10 keeps its areas and
    names, and the report says ..TEGNSETT was wrong."""
    response = upload(client, b"\xef\xbb\xbf" + plan(charset="ISO8859-10").encode())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["area_counts"] == {"planomrade": 1, "arealformal": 1, "hensynssone": 1}
    [warning] = body["report"]["warnings"]
    assert "..TEGNSETT ISO8859-10" in warning["message"] and warning["field"] == "TEGNSETT"


def test_wrong_or_missing_tegnsett_that_cannot_be_read_is_refused(client):
    for body in (
        plan(charset="UTF-8").encode("iso8859_10"),
        plan(charset=None, name="BFS1 Ærø §").encode("iso8859_10"),
    ):
        response = upload(client, body)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "..TEGNSETT" in response.json()["detail"]
    assert row_counts() == EMPTY


def test_island_given_as_another_flate_is_stored(client):
    """..REF :12 (:3): the hensynssone FLATE 3 is an island of the arealformål area."""
    text = plan().replace("..REF :12\n", "..REF :12 (:3)\n")
    text = text.replace(square(12, 570010, 6660010, 30), square(12, 570040, 6660040, 40))
    response = upload(client, text.encode())
    assert response.status_code == 201, response.text
    assert response.json()["area_counts"] == {"planomrade": 1, "arealformal": 1, "hensynssone": 1}


def test_truncated_sosi_is_refused_and_nothing_is_stored(client):
    """A SOSI file cut short (no .SLUTT) gets a 400 naming the problem; nothing is stored."""
    body = plan().encode()
    response = upload(client, body[: len(body) * 3 // 4])
    assert response.status_code == 400, response.text
    assert ".SLUTT" in response.json()["detail"] and "cut short" in response.json()["detail"]
    assert row_counts() == EMPTY
