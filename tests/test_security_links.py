"""Absolute links come from configuration, never from an arbitrary Host header (issue 16)."""

import pytest

from app.settings import get_settings

FORGED = "evil.example"


@pytest.fixture
def public_url(monkeypatch):
    """Configure AREALSJEKK_PUBLIC_URL for the test (settings are cached per process)."""

    def apply(url: str) -> None:
        monkeypatch.setenv("AREALSJEKK_PUBLIC_URL", url)
        get_settings.cache_clear()

    yield apply
    monkeypatch.delenv("AREALSJEKK_PUBLIC_URL", raising=False)
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "path",
    [
        "/ogcapi",
        "/ogcapi/collections",
        "/ogcapi/collections/municipalities",
        "/ogcapi/collections/municipalities/items?limit=1",
        "/wms?SERVICE=WMS&REQUEST=GetCapabilities",
        "/api/v1/forum/agenda.html",
    ],
)
def test_a_forged_host_is_refused_where_links_are_built(client, path):
    """Without a public URL, an untrusted Host gets 400 and never appears in a link."""
    response = client.get(path, headers={"Host": FORGED})
    assert response.status_code == 400
    assert f'href="http://{FORGED}' not in response.text
    assert f"http://{FORGED}" not in response.text


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "[::1]:8000"])
def test_trusted_hosts_build_links_from_the_host(anonymous, host):
    """The loopback names a local instance is reached by are trusted by default."""
    response = anonymous.get("/ogcapi", headers={"Host": host})
    assert response.status_code == 200
    hrefs = [link["href"] for link in response.json()["links"]]
    assert all(href.startswith(f"http://{host}/") for href in hrefs), hrefs


def test_the_public_url_wins_over_any_host(anonymous, public_url):
    """With AREALSJEKK_PUBLIC_URL set, every link uses it, whatever Host the client sent."""
    public_url("https://arealsjekk.example.no/")
    landing = anonymous.get("/ogcapi", headers={"Host": FORGED})
    assert landing.status_code == 200
    hrefs = [link["href"] for link in landing.json()["links"]]
    assert hrefs and all(h.startswith("https://arealsjekk.example.no/") for h in hrefs), hrefs
    capabilities = anonymous.get(
        "/wms", params={"SERVICE": "WMS", "REQUEST": "GetCapabilities"}, headers={"Host": FORGED}
    )
    assert capabilities.status_code == 200
    assert 'xlink:href="https://arealsjekk.example.no/wms?' in capabilities.text
    assert FORGED not in capabilities.text


def test_a_public_url_must_be_an_absolute_http_url(monkeypatch):
    """A mistyped public URL stops the service at start-up, not with broken links later."""
    from pydantic import ValidationError

    from app.settings import Settings

    for bad in ("arealsjekk.example.no", "ftp://x", "https://x/?a=1"):
        monkeypatch.setenv("AREALSJEKK_PUBLIC_URL", bad)
        with pytest.raises(ValidationError):
            Settings()


def test_paging_links_use_the_public_url(anonymous, public_url):
    """The next/prev links of an items page are built like every other link."""
    public_url("https://arealsjekk.example.no")
    page = anonymous.get(
        "/ogcapi/collections/municipalities/items",
        params={"limit": 2, "offset": 2},
        headers={"Host": FORGED},
    )
    assert page.status_code == 200
    links = {link["rel"]: link["href"] for link in page.json()["links"]}
    assert links["next"].startswith(
        "https://arealsjekk.example.no/ogcapi/collections/municipalities/items?"
    )
    assert links["prev"].startswith("https://arealsjekk.example.no/")
    assert links["self"].startswith("https://arealsjekk.example.no/")
    assert FORGED not in page.text


def test_a_feature_links_to_itself_under_the_public_url(anonymous, public_url):
    """The self link of a single feature is built from the public URL too."""
    public_url("https://arealsjekk.example.no")
    feature = anonymous.get(
        "/ogcapi/collections/municipalities/items/3326", headers={"Host": FORGED}
    )
    assert feature.status_code == 200
    assert FORGED not in feature.text
    links = {link["rel"]: link["href"] for link in feature.json()["links"]}
    assert (
        links["self"]
        == "https://arealsjekk.example.no/ogcapi/collections/municipalities/items/3326"
    )
