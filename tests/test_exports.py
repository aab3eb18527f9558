"""Exports for GIS tools: GeoJSON keeps every attribute, CSV flattens arrays with "|" and has
latitude/longitude, KML for Google Earth; filters by kind, group, country and bbox; the
database migrates from the previous schema."""

import csv
import io
import shutil
import sqlite3
import xml.etree.ElementTree as ET

import pytest
import sqlite_utils
from click.testing import CliRunner

from gazetteer import store
from gazetteer.cli import main
from gazetteer.web import create_app

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture(scope="module")
def client(seeded_db):
    return create_app({"TESTING": True, "DATABASE": str(seeded_db)}).test_client()


def features(client, query: str = "") -> list[dict]:
    response = client.get(f"/api/gazetteer.geojson{query}")
    assert response.status_code == 200
    return response.get_json()["features"]


def csv_rows(client, query: str = "") -> list[dict]:
    response = client.get(f"/api/gazetteer.csv{query}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffid,")  # the byte-order mark Excel needs for UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_geojson_keeps_every_attribute(client):
    jisr = next(f for f in features(client) if f["id"] == "gn-169023")
    props = jisr["properties"]
    assert props["geonameid"] == 169023 and props["country"] == "SY" and props["admin1"]
    assert props["mentions"] > 0 and props["documents"] == 1
    assert isinstance(props["aliases"], list) and "Jisr al-Shughour" in props["aliases"]
    assert {g["id"] for g in props["armed_groups"]} >= {"ag-nusra-front"}
    assert props["reason"] and props["confidence"] and props["precision"] == 1


def test_csv_flattens_arrays_and_names_coordinates_for_qgis(client):
    rows = csv_rows(client)
    jisr = next(r for r in rows if r["id"] == "gn-169023")
    assert float(jisr["latitude"]) == pytest.approx(35.81, abs=0.05)
    assert float(jisr["longitude"]) == pytest.approx(36.32, abs=0.05)
    assert "Jisr al-Shughour" in jisr["aliases"].split("|")
    assert "al-Nusra Front" in jisr["armed_groups"].split("|")
    unlocated = [r for r in rows if not r["latitude"]]
    assert unlocated and all(r["status"] == "unresolved" or not r["status"] for r in unlocated)


def test_csv_of_armed_groups(client):
    rows = csv_rows(client, "?kind=armed_group")
    nusra = next(r for r in rows if r["id"] == "ag-nusra-front")
    assert nusra["type"] == "jihadist" and int(nusra["mentions"]) > 0
    assert "Jisr al-Shughur" in nusra["places"].split("|")
    assert "latitude" not in nusra


@pytest.mark.parametrize("path", ["/api/gazetteer.csv", "/api/mentions.csv",
                                  "/api/gazetteer.kml", "/api/gazetteer.geojson"])
def test_downloads_name_their_type_and_charset_once(client, path):
    content_type = client.get(path).headers["Content-Type"]
    assert content_type.count("charset") <= 1, content_type
    if path.endswith(".csv"):
        assert content_type == "text/csv; charset=utf-8"


def test_kml_has_a_placemark_per_located_place(client):
    response = client.get("/api/gazetteer.kml")
    assert response.mimetype == "application/vnd.google-earth.kml+xml"
    root = ET.fromstring(response.get_data())
    placemarks = root.iter(f"{KML}Placemark")
    by_id = {p.get("id"): p for p in placemarks}
    assert len(by_id) == len(features(client))
    jisr = by_id["gn-169023"]
    lon, lat = map(float, jisr.find(f"{KML}Point/{KML}coordinates").text.split(","))
    assert (lat, lon) == pytest.approx((35.81, 36.32), abs=0.05)
    data = {d.get("name"): d.find(f"{KML}value").text
            for d in jisr.iter(f"{KML}Data")}
    assert data["geonameid"] == "169023" and "Jisr al-Shughour" in data["aliases"]


def test_filters_by_country_bbox_and_group(client):
    everything = features(client)
    syria = features(client, "?country=sy")
    assert 0 < len(syria) < len(everything) and all(
        f["properties"]["country"] == "SY" for f in syria)
    box = features(client, "?bbox=36,35,37,36")  # around Idlib and Jisr al-Shughur
    assert box and all(36 <= f["geometry"]["coordinates"][0] <= 37 and
                       35 <= f["geometry"]["coordinates"][1] <= 36 for f in box)
    nusra = {f["id"] for f in features(client, "?group=ag-nusra-front")}
    assert "gn-169023" in nusra and len(nusra) < len(everything)
    kml = ET.fromstring(client.get("/api/gazetteer.kml?country=SY").get_data())
    assert len(list(kml.iter(f"{KML}Placemark"))) == len(syria)
    assert len(csv_rows(client, "?country=SY&kind=place")) >= len(syria)


@pytest.mark.parametrize("query,status", [
    ("?kind=armed_group", 400), ("?kind=tank", 400), ("?bbox=1,2,3", 400),
    ("?group=ag-no-such-group", 404), ("?country=" + "x" * 300, 400)])
def test_bad_export_filters(client, query, status):
    for path in ("/api/gazetteer.geojson", "/api/gazetteer.kml"):
        response = client.get(path + query)
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.get_json()["error"]["message"]


def test_kml_escapes_hostile_names(tmp_path, seeded_db):
    path = tmp_path / "hostile.db"
    shutil.copy(seeded_db, path)
    db = store.open_db(path)
    store.curate_entity(db, "gn-169023", {"name": '<b>"x" & </Placemark>'}, "test")
    client = create_app({"TESTING": True, "DATABASE": str(path)}).test_client()
    root = ET.fromstring(client.get("/api/gazetteer.kml").get_data())  # still well-formed
    names = [p.find(f"{KML}name").text for p in root.iter(f"{KML}Placemark")]
    assert '<b>"x" & </Placemark>' in names


def test_cli_exports_with_filters(seeded_db, tmp_path):
    def run(*args):
        result = CliRunner().invoke(main, ["--db", str(seeded_db), "export", *args])
        return result

    kml = run("kml", "--country", "SY")
    assert kml.exit_code == 0 and "<Placemark" in kml.output
    groups = run("csv", "--kind", "armed_group")
    assert groups.exit_code == 0 and groups.output.startswith("\ufeffid,name,kind,type")
    refused = run("geojson", "--kind", "armed_group")
    assert refused.exit_code == 1 and "only places have coordinates" in refused.output
    bad = run("geojson", "--bbox", "1,2")
    assert bad.exit_code == 2 and "bbox" in bad.output


def test_schema_1_database_migrates_keeping_its_data(tmp_path, seeded_db):
    """A database written before foreign keys, views and entity search existed."""
    path = tmp_path / "old.db"
    shutil.copy(seeded_db, path)
    conn = sqlite3.connect(path)
    conn.executescript("""
        DROP VIEW places; DROP VIEW armed_groups; DROP TABLE entities_fts;
        DROP TRIGGER entities_fts_ai; DROP TRIGGER entities_fts_au; DROP TRIGGER entities_fts_ad;
        DROP TRIGGER aliases_search_ai; DROP TRIGGER aliases_search_ad;
        DROP TRIGGER aliases_search_au;
        CREATE TABLE mentions_v1 (
            id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id),
            entity_id TEXT NOT NULL, kind TEXT NOT NULL, start INTEGER NOT NULL,
            "end" INTEGER NOT NULL, text TEXT NOT NULL, sentence TEXT, method TEXT,
            confidence REAL, resolution TEXT);
        INSERT INTO mentions_v1 SELECT id, document_id, entity_id, kind, start, "end", text,
            sentence, method, confidence, resolution FROM mentions;
        DROP TABLE mentions;
        ALTER TABLE mentions_v1 RENAME TO mentions;
        UPDATE meta SET value = '1' WHERE key = 'schema_version';
    """)
    conn.close()
    old = sqlite_utils.Database(path)  # as it is on disk, before any of our openers
    assert {fk.other_table for fk in old.table("mentions").foreign_keys} == {"documents"}
    before = old.table("mentions").count
    old.conn.close()
    db = store.open_db(path, create=False)  # a reader migrates too (serve, export, eval)
    assert store.get_meta(db, "schema_version") == store.SCHEMA_VERSION
    assert store.count_rows(db, "mentions") == before
    assert db.execute("SELECT count(*) FROM entities_fts").fetchone()[0] == \
        store.count_rows(db, "entities")
    assert db.execute("SELECT id FROM places WHERE rowid IN (SELECT rowid FROM entities_fts "
                      "WHERE entities_fts MATCH 'shughour')").fetchall() == [("gn-169023",)]
    assert {fk.other_table for fk in db["mentions"].foreign_keys} == {"documents", "entities"}
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_csv_cells_never_start_a_formula(tmp_path, seeded_db):
    path = tmp_path / "formula.db"
    shutil.copy(seeded_db, path)
    db = store.open_db(path)
    store.curate_entity(db, "gn-169023", {"name": "=HYPERLINK(\"http://x\")",
                                          "add_aliases": ["@SUM(A1)"]}, "test")
    client = create_app({"TESTING": True, "DATABASE": str(path)}).test_client()
    jisr = next(r for r in csv_rows(client) if r["id"] == "gn-169023")
    assert jisr["name"] == "'=HYPERLINK(\"http://x\")"
    assert not jisr["aliases"].startswith(("=", "@")) and "@SUM(A1)" in jisr["aliases"]
    assert float(jisr["longitude"]) > 0  # numbers untouched
