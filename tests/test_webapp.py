"""The web app's API and pages through the Flask test client: the map's data by view,
the legend and time filter, pages that lead to the sources, and curation that can be undone
and survives re-ingest (the browser side is in test_webapp_browser.py)."""

import shutil

import pytest

from gazetteer import store
from gazetteer.pipeline import run
from gazetteer.web import create_app

from .conftest import make_engine, writable_app
from .test_api import AUTH, TOKEN, assert_error, assert_moved

SYRIA = "35.5,32.3,42.4,37.4"


@pytest.fixture(scope="module")
def client(seeded_db):
    return create_app({"TESTING": True, "DATABASE": str(seeded_db)}).test_client()


@pytest.fixture
def writer(tmp_path, seeded_db, shared_nlp):
    path = tmp_path / "w.db"
    shutil.copy(seeded_db, path)
    return writable_app(path, shared_nlp, API_TOKEN=TOKEN).test_client(), path


def points(client, **params):
    response = client.get("/api/map/points", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_points_in_a_view_carry_size_sureness_and_groups(client):
    body = points(client, bbox=SYRIA, zoom=7)
    by_id = {p["id"]: p for p in body["points"]}
    assert body["total"] == len(body["points"]) + sum(c["count"] for c in body["clusters"])
    jisr = by_id["gn-169023"]
    assert jisr["mentions"] >= 10 and not jisr["approximate"]
    assert "ag-nusra-front" in jisr["groups"]
    assert all(32.3 <= p["lat"] <= 37.4 and 35.5 <= p["lon"] <= 42.4 for p in body["points"])
    assert any(p["approximate"] for p in body["points"])  # placed near a sure place


def test_group_and_country_filters(client):
    nusra = points(client, bbox="-180,-90,180,90", zoom=2, group="ag-nusra-front")["points"]
    assert nusra
    for p in nusra:  # groups lists the 5 named most often; the entity lists them all
        named = client.get(f"/api/entities/{p['id']}").get_json()["armed_groups"]
        assert "ag-nusra-front" in {g["id"] for g in named}, p["id"]
    everything = points(client, bbox="-180,-90,180,90", zoom=2)["total"]
    assert len(nusra) < everything
    lebanon = points(client, bbox="-180,-90,180,90", zoom=2, country="lb")["points"]
    assert lebanon and {p["country"] for p in lebanon} == {"LB"}


def test_legend_names_the_groups_and_what_colour_means(client):
    legend = client.get("/api/map/legend").get_json()
    ids = [g["id"] for g in legend["groups"]]
    assert "ag-isis" in ids and "ag-nusra-front" in ids
    assert "same sentence" in legend["meaning"]
    assert legend["dates"] == {"first": None, "last": None}  # the seeds carry no dates yet


def test_time_filter_uses_first_and_last_seen_when_the_store_has_them(tmp_path, seeded_db):
    path = tmp_path / "dated.db"
    shutil.copy(seeded_db, path)
    db = store.open_db(path)
    db.execute("UPDATE entities SET first_seen = '2015-10-01', last_seen = '2016-03-31' "
               "WHERE id = 'gn-169023'")
    db.execute("UPDATE entities SET first_seen = '2012-01-01', last_seen = '2012-12-31' "
               "WHERE id != 'gn-169023'")
    c = create_app({"TESTING": True, "DATABASE": str(path)}).test_client()
    world = {"bbox": "-180,-90,180,90", "zoom": 2}
    late = points(c, **world, since="2016-01-01")["points"]
    assert [p["id"] for p in late] == ["gn-169023"]
    early = {p["id"] for p in points(c, **world, until="2013")["points"]}
    assert "gn-169023" not in early and len(early) > 10
    assert c.get("/api/map/legend").get_json()["dates"] == {"first": "2012-01-01",
                                                             "last": "2016-03-31"}


@pytest.mark.parametrize("query,status", [
    ("zoom=abc", 400), ("zoom=40", 400), ("since=yesterday", 400), ("until=2016-1", 400),
    ("bbox=1,2,3", 400), ("group=..%2Fx", 404), ("country=" + "x" * 300, 400)])
def test_bad_map_parameters(client, query, status):
    assert_error(client.get("/api/map/points?" + query), status)


def test_the_map_page_is_a_constant_shell(client, tmp_path):
    seeded = client.get("/map").get_data(as_text=True)
    assert "Jisr" not in seeded and "gn-169023" not in seeded  # no data in it
    empty = create_app({"TESTING": True, "DATABASE": str(tmp_path / "empty.db")})
    store.open_db(tmp_path / "empty.db")
    assert len(empty.test_client().get("/map").get_data()) == len(seeded.encode())


def test_entity_page_leads_to_the_sources(client):
    page = client.get("/entities/gn-169023").get_data(as_text=True)
    assert 'id="entity-map"' in page and "Idlib" in page and "Syria" in page  # names, not codes
    assert "<mark>Jisr al-Shughour</mark>" in page
    assert "/documents/" in page and "Division" not in page
    group = client.get("/entities/ag-nusra-front").get_data(as_text=True)
    assert 'href="/entities/ag-al-qaeda">al-Qaeda</a>' in group  # the parent by name, linked
    assert 'href="/entities/gn-169023"' in group  # related entities are links


def test_document_page_highlights_every_mention(client, seeded):
    doc = store.list_documents(seeded, 1, 0)[0][0]
    page = client.get(f"/documents/{doc['id']}").get_data(as_text=True)
    mentions = store.document_mentions(seeded, doc["id"])
    assert page.count('class="ent ent-') == len(mentions) + 2  # and the two in the legend
    assert 'class="ent ent-armed_group"' in page and 'href="/entities/ag-' in page
    assert client.get("/documents").status_code == 200


def curate(c, method, url, **body):
    response = c.open(url, method=method, json=body, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def latest_curation(c, entity_id):
    return c.get(f"/api/entities/{entity_id}").get_json()["curation"][-1]["id"]


def test_merge_redirects_and_is_undone(writer):
    c, _ = writer
    before = c.get("/api/entities/ag-jaish-al-islam").get_json()
    liwa = c.get("/api/entities/ag-liwa-al-islam").get_json()
    curate(c, "POST", "/api/entities/ag-jaish-al-islam/merge", other="ag-liwa-al-islam")
    assert_moved(c.get("/api/entities/ag-liwa-al-islam"), "ag-jaish-al-islam")
    moved = c.get("/api/entities/ag-liwa-al-islam/mentions?limit=1")
    assert_moved(moved, "ag-jaish-al-islam")
    assert moved.headers["Location"].endswith("?limit=1")  # the query goes along
    assert c.get("/entities/ag-liwa-al-islam").status_code == 308
    curate(c, "POST", f"/api/curations/{latest_curation(c, 'ag-jaish-al-islam')}/undo")
    restored = c.get("/api/entities/ag-liwa-al-islam").get_json()
    assert restored["mentions"] == liwa["mentions"] and restored["aliases"] == liwa["aliases"]
    after = c.get("/api/entities/ag-jaish-al-islam").get_json()
    assert (after["mentions"], after["aliases"]) == (before["mentions"], before["aliases"])


def test_patches_undo_in_order(writer):
    c, _ = writer
    original = c.get("/api/entities/gn-168519").get_json()
    curate(c, "PATCH", "/api/entities/gn-168519", name="Kessab", add_aliases=["Kesab"])
    first = latest_curation(c, "gn-168519")
    curate(c, "PATCH", "/api/entities/gn-168519", lat=35.9, lon=36.0)
    assert_error(c.post(f"/api/curations/{first}/undo", json={}, headers=AUTH), 409)
    curate(c, "POST", f"/api/curations/{latest_curation(c, 'gn-168519')}/undo")
    curate(c, "POST", f"/api/curations/{first}/undo")
    assert_error(c.post(f"/api/curations/{first}/undo", json={}, headers=AUTH), 409)
    now = c.get("/api/entities/gn-168519").get_json()
    for key in ("name", "lat", "lon", "geocoder", "aliases"):
        assert now[key] == original[key], key
    assert [h["standing"] for h in now["curation"]] == [False, False, False, False]


def test_a_rejection_survives_reingest_and_is_undone(writer):
    c, path = writer
    mentions = c.get("/api/entities/gn-285570").get_json()["mentions"]  # Kuwait
    body = curate(c, "POST", "/api/entities/gn-285570/reject", reason="wrong place")
    assert_error(c.get("/api/entities/gn-285570"), 404)
    assert "Rejected" in c.get("/entities/gn-285570").get_data(as_text=True)
    posted = c.post("/api/documents", headers=AUTH,
                    json={"text": "Kuwait sent aid to Idlib, where Nusra fighters waited."})
    assert posted.status_code == 201
    assert "gn-285570" not in {m["entity_id"] for m in posted.get_json()["mentions"]}
    assert_error(c.get("/api/entities/gn-285570"), 404)
    curate(c, "POST", body["undo"])
    assert c.get("/api/entities/gn-285570").get_json()["mentions"] == mentions


def test_a_repointed_mention_survives_and_is_undone(writer):
    c, path = writer
    mention = c.get("/api/entities/gn-169023/mentions?limit=1").get_json()["items"][0]
    db = store.open_db(path, create=False)
    mention_id = f"{mention['document_id']}:{mention['start']}:{mention['end']}"
    body = curate(c, "PATCH", f"/api/mentions/{mention_id}", entity_id="gn-169389")
    assert db.execute("SELECT entity_id FROM mentions WHERE id = ?",
                      [mention_id]).fetchone()[0] == "gn-169389"
    curate(c, "POST", body["undo"])
    assert db.execute("SELECT entity_id FROM mentions WHERE id = ?",
                      [mention_id]).fetchone()[0] == "gn-169023"


@pytest.mark.parametrize("method,url,body,status", [
    ("POST", "/api/entities/gn-168519/reject", {"reason": "dull"}, 400),
    ("POST", "/api/entities/gn-168519/reject", {}, 400),
    ("PATCH", "/api/mentions/nope", {"entity_id": "gn-1"}, 404),
    ("PATCH", "/api/mentions/" + "a" * 64 + ":1:2", {"entity_id": "gn-1"}, 404),
    ("POST", "/api/curations/999999/undo", {}, 404),
    ("POST", "/api/curations/abc/undo", {}, 404)])
def test_bad_curations(writer, method, url, body, status):
    c, _ = writer
    assert_error(c.open(url, method=method, json=body, headers=AUTH), status)
    assert_error(c.open(url, method=method, json=body), 401)


@pytest.mark.slow
def test_rejections_and_repoints_survive_a_reingest_from_scratch(writer, shared_nlp):
    """The same documents analysed again (their rows deleted, as a rebuild does) keep the
    rejection and the re-pointed mention."""
    c, path = writer
    mention = c.get("/api/entities/gn-169023/mentions?limit=1").get_json()["items"][0]
    mention_id = f"{mention['document_id']}:{mention['start']}:{mention['end']}"
    curate(c, "PATCH", f"/api/mentions/{mention_id}", entity_id="gn-169389")
    curate(c, "POST", "/api/entities/gn-285570/reject", reason="not a place")
    engine = make_engine(path, shared_nlp)
    engine.db.execute("DELETE FROM mentions")
    engine.db.execute("DELETE FROM documents")
    assert len(run(engine, [engine.settings.seeds_dir]).added) == 2
    db = engine.db
    assert db.execute("SELECT entity_id FROM mentions WHERE id = ?",
                      [mention_id]).fetchone()[0] == "gn-169389"
    assert db.execute("SELECT count(*) FROM mentions WHERE entity_id = 'gn-285570'"
                      ).fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM entities WHERE id = 'gn-285570'").fetchone()[0] == 0
