"""The Idempotency-Key fingerprint judges requests by meaning (app.idempotency)."""

import httpx
import pytest
import requests

from app.idempotency import request_fingerprint

URL = "http://127.0.0.1/api/v1/proposals"


def httpx_form(files, data=None):
    """(content type, body) of a multipart request as httpx builds it."""
    request = httpx.Request("POST", URL, files=files, data=data)
    return request.headers["content-type"], request.read()


def requests_form(files, data=None):
    """(content type, body) of a multipart request as requests builds it."""
    prepared = requests.Request("POST", URL, files=files, data=data).prepare()
    return prepared.headers["Content-Type"], prepared.body


def fingerprint(content_type, body, query=b"", method="POST", path="/api/v1/proposals"):
    """The fingerprint of a request to the upload route."""
    return request_fingerprint(method, path, query, content_type, body)


def test_a_new_boundary_is_the_same_request():
    """Each multipart body gets a new random boundary; the parts decide."""
    first_type, first = httpx_form({"file": ("plan.gml", b"<gml/>")}, {"saksnummer": "26/1"})
    again_type, again = httpx_form({"file": ("plan.gml", b"<gml/>")}, {"saksnummer": "26/1"})
    assert first_type != again_type and first != again
    assert fingerprint(first_type, first) == fingerprint(again_type, again)


def test_clients_that_write_parts_differently_agree():
    """httpx and requests frame the same form differently (boundary, field order)."""
    httpx_type, httpx_body = httpx_form(
        {"file": ("plan.gml", b"<gml/>", "application/gml+xml")}, {"saksnummer": "26/1"}
    )
    requests_type, requests_body = requests_form(
        {"file": ("plan.gml", b"<gml/>", "application/gml+xml")}, {"saksnummer": "26/1"}
    )
    assert fingerprint(httpx_type, httpx_body) == fingerprint(requests_type, requests_body)


@pytest.mark.parametrize(
    ("files", "data"),
    [
        ({"file": ("plan.gml", b"<gml />")}, {"saksnummer": "26/1"}),  # other bytes
        ({"file": ("annen.gml", b"<gml/>")}, {"saksnummer": "26/1"}),  # other filename
        ({"file": ("plan.gml", b"<gml/>")}, {"saksnummer": "26/2"}),  # other field value
        ({"file": ("plan.gml", b"<gml/>")}, {}),  # a field left out
        ({"plan": ("plan.gml", b"<gml/>")}, {"saksnummer": "26/1"}),  # other part name
    ],
)
def test_another_part_is_another_request(files, data):
    """A part's name, filename or bytes changed: another request."""
    base_type, base = httpx_form({"file": ("plan.gml", b"<gml/>")}, {"saksnummer": "26/1"})
    other_type, other = httpx_form(files, data)
    assert fingerprint(base_type, base) != fingerprint(other_type, other)


def test_json_is_compared_in_canonical_form():
    """Key order and spacing do not count; values, nesting and types do."""
    first = fingerprint("application/json", b'{"a": 1, "b": {"c": [1, 2], "d": "\\u00e6"}}')
    assert first == fingerprint(
        "application/json; charset=utf-8", """{"b":{"d":"æ","c":[1,2]},"a":1}""".encode()
    )
    assert first != fingerprint(
        "application/json", """{"a": 1, "b": {"c": [2, 1], "d": "æ"}}""".encode()
    )
    assert first != fingerprint(
        "application/json", """{"a": "1", "b": {"c": [1, 2], "d": "æ"}}""".encode()
    )
    assert fingerprint("application/merge-patch+json", b'{"x": 1}') == fingerprint(
        "application/merge-patch+json", b'{ "x" : 1 }'
    )


def test_query_parameters_in_any_order_are_the_same_request():
    """Parameters are read by name; a repeated one keeps its order; values count."""
    body = b"{}"
    assert fingerprint("application/json", body, b"a=1&b=2") == fingerprint(
        "application/json", body, b"b=2&a=1"
    )
    assert fingerprint("application/json", body, b"a=1&a=2") != fingerprint(
        "application/json", body, b"a=2&a=1"
    )
    assert fingerprint("application/json", body, b"a=%C3%A6") == fingerprint(
        "application/json", body, "a=æ".encode()
    )
    assert fingerprint("application/json", body, b"a=1") != fingerprint(
        "application/json", body, b"a=2"
    )


def test_method_and_path_count():
    """The same body to another route or with another method is another request."""
    assert fingerprint("", b"x") != fingerprint("", b"x", path="/api/v1/check")
    assert fingerprint("", b"x") != fingerprint("", b"x", method="PUT")


def test_raw_bodies_and_unreadable_forms_are_compared_by_their_bytes():
    """A raw plan file, a malformed form and invalid JSON: the bytes decide."""
    assert fingerprint("text/xml", b"<a/>") == fingerprint("Text/XML; charset=utf-8", b"<a/>")
    assert fingerprint("text/xml", b"<a/>") != fingerprint("text/xml", b"<a />")
    # The media type decides how content the readers cannot sniff is read.
    assert fingerprint("application/gml+xml", b"<a/>") != fingerprint("text/xml", b"<a/>")
    broken = b"--zz\r\nContent-Disposition: form-data; name=file\r\n\r\nno end"
    assert fingerprint("multipart/form-data; boundary=zz", broken) != fingerprint(
        "multipart/form-data; boundary=zz", broken + b"!"
    )
    assert fingerprint("application/json", b"{not json") != fingerprint(
        "application/json", b"{not json!"
    )


def test_no_two_different_item_lists_collide():
    """Items are length-prefixed: moving bytes between parts changes the fingerprint."""
    type_a, body_a = httpx_form({"file": ("ab", b"c")})
    type_b, body_b = httpx_form({"file": ("a", b"bc")})
    assert fingerprint(type_a, body_a) != fingerprint(type_b, body_b)


def raw_form(parts: list[bytes], charset: str = "") -> tuple[str, bytes]:
    """A multipart body written by hand: each part's headers and data as given."""
    body = b"".join(b"--XyZ\r\n" + part + b"\r\n" for part in parts) + b"--XyZ--\r\n"
    return f"multipart/form-data; boundary=XyZ{charset}", body


def test_an_equals_sign_inside_a_parameter_does_not_join_name_and_value():
    """`a%3Db=c` and `a=b%3Dc` are different parameters (the outsider's collision)."""
    assert fingerprint("", b"x", b"filename%3Da=b.geojson") != fingerprint(
        "", b"x", b"filename=a%3Db.geojson"
    )
    assert fingerprint("", b"x", b"a=&b=") != fingerprint("", b"x", b"a=&=b")


def test_a_forms_charset_counts():
    """The same bytes under another charset are decoded to other names and values."""
    name = "plan-æøå.geojson".encode()
    part = b'Content-Disposition: form-data; name="file"; filename="' + name + b'"\r\n\r\n{}'
    utf8_type, body = raw_form([part])
    latin1_type, _ = raw_form([part], "; charset=iso-8859-1")
    assert fingerprint(utf8_type, body) != fingerprint(latin1_type, body)


def test_an_empty_filename_is_not_a_missing_one():
    """`filename=""` makes a file part, no filename a text field."""
    empty = raw_form([b'Content-Disposition: form-data; name="file"; filename=""\r\n\r\n{}'])
    missing = raw_form([b'Content-Disposition: form-data; name="file"\r\n\r\n{}'])
    assert fingerprint(*empty) != fingerprint(*missing)


@pytest.mark.parametrize(
    "variant",
    [b"\xef\xbb\xbf" + b'{"a": 1}', '{"a": 1}'.encode("utf-16")],
    ids=["utf-8 BOM", "utf-16"],
)
def test_json_the_readers_refuse_is_compared_by_its_bytes(variant):
    """A BOM or UTF-16 body is refused by the service, the plain one is not: not the same."""
    assert fingerprint("application/json", variant) != fingerprint("application/json", b'{"a":1}')


def test_a_parts_media_type_and_a_missing_name_count():
    """A part's Content-Type picks the reader for content it cannot sniff; a part without a
    name is refused where `name=""` is not."""
    data = b"\r\n\r\n{}"
    geojson = raw_form(
        [
            b'Content-Disposition: form-data; name="file"; filename="p"\r\n'
            b"Content-Type: application/geo+json" + data
        ]
    )
    xml = raw_form(
        [
            b'Content-Disposition: form-data; name="file"; filename="p"\r\n'
            b"Content-Type: text/xml" + data
        ]
    )
    assert fingerprint(*geojson) != fingerprint(*xml)
    unnamed = raw_form([b"Content-Disposition: form-data" + data])
    empty_name = raw_form([b'Content-Disposition: form-data; name=""' + data])
    no_disposition = raw_form([b"X-Foo: bar" + data])
    assert len({fingerprint(*unnamed), fingerprint(*empty_name), fingerprint(*no_disposition)}) == 2
    assert fingerprint(*unnamed) != fingerprint(*empty_name)


def test_numbers_the_readers_refuse_are_compared_by_their_bytes():
    """NaN, Infinity and 1e999 are refused with messages of their own: not one request."""
    bodies = [b'{"a": Infinity}', b'{"a": 1e999}', b'{"a": NaN}', b'{"a": 1e308}']
    assert len({fingerprint("application/json", body) for body in bodies}) == 4
