"""The REST API through the Flask test client, on a real SQLite file built from the seeds."""

import io
import shutil

import geojson
import pytest

from gazetteer import store
from gazetteer.web import create_app
from gazetteer.web.openapi import documented_paths, openapi_document

from .conftest import writable_app

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def client(seeded_db):
    app = create_app({"TESTING": True, "DATABASE": str(seeded_db)})
    return app.test_client()


@pytest.fixture
def writer(tmp_path, seeded_db, shared_nlp):
    """A client over a private copy of the seeded database, with a token and the engine."""
    path = tmp_path / "w.db"
    shutil.copy(seeded_db, path)
    return writable_app(path, shared_nlp, API_TOKEN=TOKEN).test_client(), path


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def assert_moved(response, survivor: str) -> None:
    """A merged id answers 308 with the survivor's address."""
    assert response.status_code == 308, response.get_data(as_text=True)
    assert f"/{survivor}" in response.headers["Location"].split("?")[0]


def assert_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]


def test_list_entities_paginates_with_a_next_link(client):
    first = client.get("/api/entities?kind=place&limit=5").get_json()
    assert len(first["items"]) == 5 and first["total"] > 5
    second = client.get(first["next"]).get_json()
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    assert all(i["kind"] == "place" for i in first["items"] + second["items"])


@pytest.mark.parametrize("q", ["jesr shughur", "Jisr ash-Shughur", "JISR AL SHUGHOUR"])
def test_search_is_transliteration_folded(client, q):
    items = client.get("/api/entities", query_string={"q": q}).get_json()["items"]
    assert "gn-169023" in [i["id"] for i in items]


def test_country_and_bbox_filters(client):
    syrian = client.get("/api/entities?country=SY&limit=1000").get_json()["items"]
    assert syrian and all(i["country"] == "SY" for i in syrian)
    boxed = client.get("/api/entities?bbox=35.5,35.5,36.5,36.5&limit=1000").get_json()["items"]
    assert boxed and all(35.5 <= i["lon"] <= 36.5 and 35.5 <= i["lat"] <= 36.5 for i in boxed)


def test_one_entity_with_aliases_geocoding_and_neighbours(client):
    body = client.get("/api/entities/gn-169023").get_json()
    assert body["kind"] == "place" and body["geonameid"] == 169023
    assert body["confidence"] > 0.5 and body["reason"] and body["precision"] == 1
    assert {"name", "source"} <= set(body["aliases"][0])
    assert "ag-nusra-front" in [g["id"] for g in body["armed_groups"]]
    assert body["mentions"] >= 10 and body["documents"] >= 1
    group = client.get("/api/entities/ag-nusra-front").get_json()
    assert group["attrs"]["parent"] == "ag-al-qaeda" and group["places"]


def test_mentions_page(client):
    body = client.get("/api/entities/gn-169023/mentions?limit=2").get_json()
    assert len(body["items"]) == 2 and body["next"]
    mention = body["items"][0]
    assert mention["text"] in mention["sentence"] and mention["end"] > mention["start"]


def test_resolve_ranks_candidates_with_reasons(client):
    body = client.get("/api/resolve?name=Jabhat al-Nusrah").get_json()
    assert body["candidates"][0]["entity_id"] == "ag-nusra-front"
    places = client.get("/api/resolve?name=Tripoli&kind=place").get_json()["candidates"]
    assert {c["country"] for c in places} >= {"LB", "LY"}
    assert all(c["reason"] for c in places)


def test_documents(client):
    docs = client.get("/api/documents").get_json()
    assert docs["total"] == 2
    one = client.get(f"/api/documents/{docs['items'][0]['id']}").get_json()
    assert one["text"] and one["mentions"]


def test_geojson_is_rfc7946_with_aliases_and_groups(client):
    response = client.get("/api/gazetteer.geojson")
    assert "attachment" in response.headers["Content-Disposition"]
    collection = geojson.loads(response.get_data(as_text=True))
    assert collection.is_valid, collection.errors()
    (jisr,) = [f for f in collection["features"] if f["id"] == "gn-169023"]
    lon, lat = jisr["geometry"]["coordinates"]
    assert 36 < lon < 37 and 35 < lat < 36
    assert "Jisr al-Shughour" in jisr["properties"]["aliases"]
    assert "ag-nusra-front" in [g["id"] for g in jisr["properties"]["armed_groups"]]


def test_geojson_filters_by_group_and_csv(client):
    nusra = client.get("/api/gazetteer.geojson?group=ag-nusra-front").get_json()
    everything = client.get("/api/gazetteer.geojson").get_json()
    assert 0 < len(nusra["features"]) < len(everything["features"])
    csv_text = client.get("/api/gazetteer.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("\ufeffid,name,kind")
    places = client.get("/api/entities?kind=place").get_json()["total"]
    # CSV keeps the places that could not be located too, with empty coordinates.
    assert len(csv_text.splitlines()) == places + 1 > len(everything["features"]) + 1


def test_openapi_documents_every_route(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    routes = {str(r.rule).replace("<path:", "{").replace("<", "{").replace(">", "}")
              for r in client.application.url_map.iter_rules() if r.endpoint != "static"}
    assert routes - {"/"} <= documented_paths()


@pytest.mark.parametrize("url,status", [
    ("/api/entities/nope", 404), ("/api/entities/..%2F..%2Fetc%2Fpasswd", 404),
    ("/api/entities?bbox=1,2,3", 400), ("/api/entities?bbox=10,0,0,0", 400),
    ("/api/entities?limit=abc", 400), ("/api/entities?limit=0", 400),
    ("/api/entities?limit=100000", 400), ("/api/entities?offset=-1", 400),
    ("/api/entities?kind=tank", 400), ("/api/resolve", 400), ("/api/documents/zzz", 404),
    ("/api/entities/nope/mentions", 404), ("/api/gazetteer.geojson?group=nope", 404),
    ("/api/nothing-here", 404),
])
def test_read_errors_are_json(client, url, status):
    assert_error(client.get(url), status)


@pytest.mark.parametrize("method,url,unknown", [
    ("GET", "/api/entities?limt=5", "limt"), ("GET", "/api/entities/gn-169023?x=1", "x"),
    ("GET", "/api/map/points?zoom=3&colour=red", "colour"),
    ("GET", "/api/gazetteer.csv?kind=place&countries=SY", "countries"),
    ("GET", "/documents?pages=2", "pages"), ("GET", "/reconcile?callbak=f", "callbak"),
    ("HEAD", "/api/documents?limit=1&ofset=2", "ofset"),
    ("POST", "/api/extract?lang=en", "lang"), ("POST", "/reconcile/match?q=1", "q"),
])
def test_an_unknown_query_parameter_is_a_400_naming_it(client, method, url, unknown):
    response = client.open(url, method=method, json={})
    assert response.status_code == 400
    if method != "HEAD":
        assert_error(response, 400)
        assert f"unknown query parameter(s): {unknown} (" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("url,repeated", [
    ("/api/entities?limit=5&limit=500", "limit"),
    ("/api/gazetteer.csv?kind=place&kind=armed_group", "kind"),
    ("/api/map/points?zoom=3&bbox=1,1,2,2&bbox=3,3,4,4", "bbox"),
])
def test_a_query_parameter_given_twice_is_a_400_naming_it(client, url, repeated):
    response = client.get(url)
    assert_error(response, 400)
    assert response.get_json()["error"]["message"] == (
        f"query parameter(s) given more than once: {repeated}")


def test_the_check_takes_each_operations_parameters_from_openapi(client):
    for path in ("/api/map/points", "/api/entities", "/api/mentions.csv"):
        names = {p["name"] for p in openapi_document()["paths"][path]["get"]["parameters"]
                 if p["in"] == "query"}
        assert len(names) >= 6
        response = client.get(path, query_string={name: "" for name in names})  # not given
        assert response.status_code == 200, response.get_data(as_text=True)
        response.close()
    jsonp = client.get("/reconcile?callback=cb&_=1735689600000")  # what jQuery sends
    assert jsonp.status_code == 200 and jsonp.get_data(as_text=True).startswith("/**/cb(")


def test_pages_and_files_outside_openapi_take_any_parameter(client):
    assert client.get("/?utm_source=mail").status_code == 200
    with client.get("/static/map.js?v=2") as asset:
        assert asset.status_code == 200
    preflight = client.options("/api/entities?anything=1")
    assert preflight.status_code == 200


def test_a_write_names_its_unknown_parameter(writer):
    write_client, _ = writer
    response = write_client.post("/api/documents?wiat=5", json={"text": "Homs"}, headers=AUTH)
    assert_error(response, 400)
    assert "wiat" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("q", ['"', "*", "NEAR(a b)", "'; DROP TABLE entities; --", "a" * 150,
                               "\"unbalanced", "-", ":"])
def test_hostile_search_text_is_just_text(client, q):
    response = client.get("/api/entities", query_string={"q": q})
    assert response.status_code == 200
    assert client.get("/healthz").get_json()["entities"] > 0


def test_writes_need_a_configured_token(client, writer):
    assert_error(client.post("/api/documents", json={"text": "Homs"}), 403)
    write_client, _ = writer
    assert_error(write_client.post("/api/documents", json={"text": "Homs"}), 401)
    assert_error(write_client.post("/api/documents", json={"text": "Homs"},
                                   headers={"Authorization": "Bearer wrong"}), 401)


def test_post_document_then_repost_returns_the_stored_one(writer):
    write_client, path = writer
    body = {"text": "Ahrar ash-Sham fighters entered Jesr al-Shughour.", "title": "t", "source": "s"}
    first = write_client.post("/api/documents", json=body, headers=AUTH)
    assert first.status_code == 201
    created = first.get_json()
    assert {"ag-ahrar-al-sham", "gn-169023"} <= set(created["entities"])
    again = write_client.post("/api/documents", json=body, headers=AUTH)
    assert again.status_code == 200 and again.get_json()["id"] == created["id"]
    assert store.count_rows(store.open_db(path), "documents") == 3


def test_post_text_plain_and_multipart(writer):
    write_client, _ = writer
    plain = write_client.post("/api/documents", data="Clashes near Kessab.",
                              content_type="text/plain", headers=AUTH)
    assert plain.status_code == 201
    upload = write_client.post("/api/documents", headers=AUTH, content_type="multipart/form-data",
                               data={"file": (io.BytesIO(b"Daesh shelled Raqqa."), "r.txt")})
    assert upload.status_code == 201 and upload.get_json()["source"] == "r.txt"


@pytest.mark.parametrize("kwargs,status", [
    ({"data": "", "content_type": "text/plain"}, 400),
    ({"data": b"\x00\x01binary", "content_type": "text/plain"}, 400),
    ({"data": b"\xff\xfe\xfa", "content_type": "text/plain"}, 400),
    ({"data": "{not json", "content_type": "application/json"}, 400),
    ({"json": ["a", "list"]}, 400),
    ({"json": {"title": "no text"}}, 400),
    ({"data": "x", "content_type": "image/png"}, 400),
    ({"data": {}, "content_type": "multipart/form-data"}, 400),
])
def test_bad_bodies_are_refused_and_lose_nothing(writer, kwargs, status):
    write_client, path = writer
    assert_error(write_client.post("/api/documents", headers=AUTH, **kwargs), status)
    assert store.count_rows(store.open_db(path), "documents") == 2


def test_oversized_body_is_413(tmp_path, seeded_db):
    path = tmp_path / "small.db"
    shutil.copy(seeded_db, path)
    app = create_app({"TESTING": True, "DATABASE": str(path), "API_TOKEN": TOKEN,
                      "MAX_DOCUMENT_BYTES": 1000})
    response = app.test_client().post("/api/documents", data="x" * 5000,
                                      content_type="text/plain", headers=AUTH)
    assert_error(response, 413)


def test_extract_is_stateless(writer):
    write_client, path = writer
    body = write_client.post("/api/extract", json={"text": "Nusra took Idlib."}).get_json()
    assert [(m["text"], m["kind"]) for m in body["mentions"]] == [("Nusra", "armed_group"),
                                                                 ("Idlib", "place")]
    assert store.count_rows(store.open_db(path), "documents") == 2


def test_patch_and_merge_are_recorded_and_survive_reingest(writer):
    write_client, path = writer
    patched = write_client.patch("/api/entities/gn-168519", headers=AUTH, json={
        "name": "Kessab", "lat": 35.93, "lon": 35.99, "add_aliases": ["Kesab"], "who": "analyst"})
    assert patched.status_code == 200, patched.get_data(as_text=True)
    body = patched.get_json()
    assert body["name"] == "Kessab" and body["geocoder"] == "manual"
    assert "Kesab" in [a["name"] for a in body["aliases"]]
    assert body["curation"][0]["who"] == "analyst"
    merged = write_client.post("/api/entities/ag-jaish-al-islam/merge", headers=AUTH,
                               json={"other": "ag-liwa-al-islam"})
    assert merged.status_code == 200
    assert_moved(write_client.get("/api/entities/ag-liwa-al-islam"), "ag-jaish-al-islam")
    # a new document naming Kassab and Liwa al-Islam keeps the curation and the merge
    write_client.post("/api/documents", headers=AUTH,
                      json={"text": "Liwa al-Islam fighters left Kassab for Douma."})
    kassab = write_client.get("/api/entities/gn-168519").get_json()
    assert (kassab["name"], kassab["lat"]) == ("Kessab", 35.93)
    assert_moved(write_client.get("/api/entities/ag-liwa-al-islam"), "ag-jaish-al-islam")


@pytest.mark.parametrize("body", [{}, {"lat": 1}, {"lat": 91, "lon": 0}, {"name": ""},
                                  {"add_aliases": "x"}, {"colour": "red"}])
def test_bad_patches_are_400(writer, body):
    write_client, _ = writer
    assert_error(write_client.patch("/api/entities/gn-168519", headers=AUTH, json=body), 400)


def test_wrong_content_type_for_patch(writer):
    write_client, _ = writer
    assert_error(write_client.patch("/api/entities/gn-168519", headers=AUTH, data="x",
                                    content_type="text/plain"), 400)


def test_private_reads(seeded_db):
    app = create_app({"TESTING": True, "DATABASE": str(seeded_db), "API_TOKEN": TOKEN,
                      "PRIVATE_READS": True})
    c = app.test_client()
    assert_error(c.get("/api/entities"), 401)
    assert c.get("/api/entities", headers=AUTH).status_code == 200


def test_map_page_is_offline_safe(client):
    import re

    page = client.get("/map").get_data(as_text=True)
    assert "GazetteerMap.start" in page and "/api/map/points" in page
    assets = [a for a in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
              if not a.startswith("data:")]  # the empty favicon: no request at all
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()
