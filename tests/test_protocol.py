"""Protocol details: a complete CORS preflight that never needs the token, KML that stays
XML whatever the names hold, one depth limit for every JSON body, a strict JSONP callback,
and invisible characters kept out of names and keys."""

import xml.etree.ElementTree as ET

import pytest

from gazetteer import store
from gazetteer.fold import fold_name, strip_invisible
from gazetteer.web import create_app

from .conftest import writable_app
from .test_api import AUTH, TOKEN, assert_error

ORIGIN = "https://analysts.example"


@pytest.mark.parametrize("url", ["/api/documents", "/api/entities", "/api/entities/gn-169389"])
def test_cors_preflight_is_complete_and_needs_no_token(seeded_db, url):
    client = create_app({"TESTING": True, "DATABASE": str(seeded_db), "API_TOKEN": TOKEN,
                         "PRIVATE_READS": True, "CORS_ORIGINS": ORIGIN}).test_client()
    response = client.options(url, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 200
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert {"GET", "POST", "PATCH"} <= {m.strip() for m in
                                        headers["Access-Control-Allow-Methods"].split(",")}
    assert {"authorization", "content-type"} <= {h.strip().lower() for h in
                                                 headers["Access-Control-Allow-Headers"].split(",")}
    assert int(headers["Access-Control-Max-Age"]) > 0 and "Origin" in headers["Vary"]
    assert_error(client.get(url, headers={"Origin": ORIGIN}), 401)  # the real request does


def test_kml_drops_characters_xml_cannot_hold(seeded_copy):
    db = store.open_db(seeded_copy)
    db.execute("UPDATE entities SET name = ?, reason = ? WHERE id = 'gn-169389'",
               ["Idlib\x01 \x0bcity\x1f\ufffe", "near\x00 Idlib"])
    client = create_app({"TESTING": True, "DATABASE": str(seeded_copy)}).test_client()
    body = client.get("/api/gazetteer.kml").get_data(as_text=True)
    root = ET.fromstring(body)  # raises on any invalid character
    names = [e.text for e in root.iter("{http://www.opengis.net/kml/2.2}name")]
    assert "Idlib city" in names


DEEP = "[" * 40_000 + "]" * 40_000


@pytest.mark.parametrize("method,url,kwargs", [
    ("post", "/reconcile", {"data": {"queries": DEEP}}),
    ("get", "/reconcile", {"query_string": {"queries": "[" * 5000 + "]" * 5000}}),
    ("post", "/reconcile", {"json": None, "data": '{"queries": ' + DEEP + "}",
                            "content_type": "application/json"}),
    ("post", "/reconcile/match", {"data": '{"queries": ' + DEEP + "}",
                                  "content_type": "application/json"}),
    ("post", "/reconcile/match", {"data": '{"queries": [' + "{\"a\":" * 100 + "1" + "}" * 100
                                  + "]}", "content_type": "application/json"}),
    ("post", "/api/documents", {"data": DEEP, "content_type": "application/json"}),
    ("patch", "/api/entities/gn-169389", {"data": '{"name": ' + DEEP + "}",
                                          "content_type": "application/json"}),
])
def test_every_json_body_has_the_same_depth_limit(seeded_db, method, url, kwargs):
    client = create_app({"TESTING": True, "DATABASE": str(seeded_db),
                         "API_TOKEN": TOKEN}).test_client()
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    response = getattr(client, method)(url, headers=AUTH, **kwargs)
    assert_error(response, 400)
    assert "deep" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("callback,ok", [("cb", True), ("jQuery123_x.y$", True),
                                         ("cb\n", False), ("\u0109b", False), ("c\u00e9", False),
                                         ("1cb", False), ("cb()", False), ("a" * 65, False)])
def test_the_jsonp_callback_is_a_plain_ascii_identifier(seeded_db, callback, ok):
    client = create_app({"TESTING": True, "DATABASE": str(seeded_db)}).test_client()
    response = client.get("/reconcile", query_string={"callback": callback})
    if ok:
        assert response.status_code == 200
        assert response.get_data(as_text=True).startswith(f"/**/{callback}(")
    else:
        assert_error(response, 400)


@pytest.mark.parametrize("name", ["Sheikh\ufeffMaqsoud", "Sheikh\u200bMaqsoud",
                                  "\u202eSheikhMaqsoud", "Sheikh\u2066Maqsoud\u2069",
                                  "Sheikh\u200dMaqsoud\u200e", "Sheikh\u00adMaqsoud"])
def test_invisible_characters_fold_away(name):
    assert fold_name(name) == fold_name("SheikhMaqsoud")
    assert strip_invisible(name) == "SheikhMaqsoud"


def test_invisible_characters_are_removed_from_stored_names(seeded_copy, shared_nlp):
    client = writable_app(seeded_copy, shared_nlp, API_TOKEN=TOKEN).test_client()
    text = ("Fighters of the Sheikh\ufeffMaqsoud Brigade clashed with the "
            "Sheikh\u200bMaqsoud Brigade near Afrin.")
    posted = client.post("/api/documents", json={"text": text}, headers=AUTH)
    assert posted.status_code == 201, posted.get_data(as_text=True)
    mentions = posted.get_json()["mentions"]
    assert any(text[m["start"]:m["end"]] == m["text"] for m in mentions)  # spans untouched
    db = store.open_db(seeded_copy, create=False)
    invisible = db.execute(
        "SELECT name FROM entities WHERE name GLOB ? UNION ALL SELECT name FROM aliases "
        "WHERE name GLOB ?", ["*[\ufeff\u200b]*"] * 2).fetchall()
    assert invisible == []
    groups = {m["entity_id"] for m in mentions if "Maqsoud" in m["text"]}
    assert len(groups) == 1  # one entity, not two look-alikes
