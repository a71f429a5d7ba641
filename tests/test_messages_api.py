"""Problems in bokmål by default and in English on request (issue 20, item 4), over HTTP.

Accept-Language picks the language (RFC 9110 §12.5.4): no header, Norwegian or anything
unknown gives bokmål; English when the client prefers it. Access errors name the
municipality of the file and of the key.
"""

from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent.parent / "samples"
KONGSBERG = (SAMPLES / "kongsberg-kpa-boliger.geojson").read_bytes()
NB = {"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}
GEOJSON = {"Content-Type": "application/geo+json"}


def _as(key: str, language: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}", **GEOJSON}
    if language is not None:
        headers.update(language)
    return headers


@pytest.mark.parametrize("language", [NB, {"Accept-Language": "de"}, {"Accept-Language": ""}])
def test_kongsberg_file_with_a_hemsedal_key_names_both_municipalities(
    anonymous, api_keys, language
):
    """The 403 says the file is for Kongsberg (3303) and the key for Hemsedal (3326), in bokmål."""
    response = anonymous.post(
        "/api/v1/proposals",
        content=KONGSBERG,
        headers=_as(api_keys["planner_3326"], language),
    )
    assert response.status_code == 403, response.text
    body = response.json()
    assert response.headers["content-language"] == "nb"
    assert body["title"] == "Ikke tilgang"
    assert "Filen gjelder Kongsberg (3303)" in body["detail"], body
    assert "er for Hemsedal (3326)" in body["detail"], body
    assert "key with the right role" not in body["detail"]


def test_access_error_in_english_on_request(anonymous, api_keys):
    """Asked for English, the same 403 is English and still names both kommunenummer."""
    response = anonymous.post(
        "/api/v1/proposals", content=KONGSBERG, headers=_as(api_keys["planner_3326"], EN)
    )
    assert response.status_code == 403
    body = response.json()
    assert response.headers["content-language"] == "en"
    assert body["title"] == "Forbidden"
    assert "the file is for Kongsberg (3303)" in body["detail"]
    assert "is for Hemsedal (3326)" in body["detail"]


def test_a_415_lists_the_formats_in_bokmal(client):
    """The formats the upload takes are named in the answer's language, not English inside it."""
    response = client.post(
        "/api/v1/proposals", content=b"\x89PNG", headers={"Content-Type": "image/png", **NB}
    )
    assert response.status_code == 415
    detail = response.json()["detail"]
    assert "støttes ikke" in detail and " eller " in detail
    assert " or " not in detail, detail


def test_missing_key_is_explained_in_bokmal(anonymous):
    """No key: a 401 in bokmål saying a key is needed and how to give it."""
    response = anonymous.post(
        "/api/v1/proposals", content=KONGSBERG, headers={**GEOJSON, "Accept-Language": "nb"}
    )
    assert response.status_code == 401
    assert "krever en API-nøkkel" in response.json()["detail"]
    assert "Accept-Language" in response.headers["vary"]


def test_a_role_that_may_not_do_this_is_named(anonymous, api_keys):
    """A forum key on an admin endpoint: the key's name and role, and the role needed."""
    response = anonymous.post(
        "/api/v1/layers/mineral_deposits/versions",
        content=b"{}",
        headers={"Authorization": f"Bearer {api_keys['forum']}", **GEOJSON, **NB},
    )
    assert response.status_code == 403, response.text
    detail = response.json()["detail"]
    assert "regionalt planforum" in detail and "administrator" in detail


@pytest.mark.parametrize(
    ("query", "nb_words"),
    [
        ("limit=abc", "må være et heltall"),
        ("limit=0", "må være minst 1"),
        ("kommunenummer=" + "1" * 5000, None),
    ],
)
def test_parameter_errors_are_in_bokmal(client, query, nb_words):
    """Pydantic's validation errors get bokmål texts naming the parameter."""
    response = client.get(f"/api/v1/proposals?{query}", headers=NB)
    if nb_words is None:  # not a validation error on this endpoint: only no English leak
        assert response.headers["content-language"] == "nb"
        return
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["title"] == "Innholdet kan ikke brukes"
    assert nb_words in body["detail"], body
    assert body["problems"][0]["field"].endswith("limit")
    english = client.get(f"/api/v1/proposals?{query}", headers=EN).json()
    assert english["detail"] != body["detail"]


def test_unknown_address_and_method_in_bokmal(anonymous):
    """Starlette's own 404 and 405 answers are problems in bokmål too."""
    missing = anonymous.get("/api/v1/nothing-here", headers=NB)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "adressen finnes ikke i tjenesten"
    wrong = anonymous.delete("/api/v1/municipalities", headers=NB)
    assert wrong.status_code == 405
    assert "metoden er ikke tillatt" in wrong.json()["detail"]
    assert anonymous.get("/api/v1/nothing-here", headers=EN).json()["detail"] == "Not Found"


def test_not_found_names_the_proposal_in_both_languages(client):
    """A missing proposal is named in the answer's language."""
    nb = client.get("/api/v1/proposals/3326_FINNESIKKE", headers=NB).json()
    assert nb["detail"] == "finner ikke planforslaget «3326_FINNESIKKE»"
    en = client.get("/api/v1/proposals/3326_FINNESIKKE", headers=EN).json()
    assert en["detail"] == "no proposal '3326_FINNESIKKE'"
