"""OpenRefine reconciliation (v0.2 and the 1.0 draft's /match) and the entity pages it opens,
through the Flask test client on the seeded database."""

import csv
import json
import shutil

import pytest

from gazetteer.web import create_app

from .conftest import TESTS_DIR

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(seeded_db):
    return create_app({"TESTING": True, "DATABASE": str(seeded_db)}).test_client()


def messy_column() -> list[dict]:
    """A recorded OpenRefine column: 50 names as analysts type them, with the right answer."""
    with (TESTS_DIR / "data" / "openrefine_names.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def openrefine_batches(rows: list[dict], size: int = 10) -> list[dict]:
    """The queries= objects OpenRefine posts: q0..q9 per batch, type when the user chose one."""
    batches = []
    for start in range(0, len(rows), size):
        batch = {}
        for i, row in enumerate(rows[start:start + size]):
            query = {"query": row["name"], "limit": 3, "type_strict": "should"}
            if row["type"]:
                query["type"] = row["type"]
            batch[f"q{i}"] = query
        batches.append(batch)
    return batches


def reconcile(client, queries: dict, **kwargs):
    response = client.post("/reconcile", data={"queries": json.dumps(queries)}, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def assert_error(response, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["message"]


def test_manifest_names_types_and_view(client):
    response = client.get("/reconcile")
    manifest = response.get_json()
    assert manifest["versions"] == ["0.2"] and manifest["name"]
    assert {t["id"] for t in manifest["defaultTypes"]} == {"place", "armed_group"}
    assert manifest["identifierSpace"].startswith("http") and manifest["schemaSpace"]
    assert manifest["view"]["url"].endswith("/entities/{{id}}")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_fifty_messy_names_reconcile_to_the_right_entity(client):
    rows = messy_column()
    assert len(rows) == 50
    tops = []
    for batch, start in zip(openrefine_batches(rows), range(0, len(rows), 10)):
        answers = reconcile(client, batch)
        assert set(answers) == set(batch)
        for i, row in enumerate(rows[start:start + 10]):
            result = answers[f"q{i}"]["result"]
            assert 1 <= len(result) <= 3
            tops.append((row["name"], result[0]["id"]))
            if row["type"]:
                assert all(c["type"][0]["id"] == row["type"] for c in result)
    assert tops == [(row["name"], row["expected"]) for row in rows]


def test_exact_hits_match_and_carry_openrefine_fields(client):
    answers = reconcile(client, {"q0": {"query": "Jesr al-Shughour", "type": "place"},
                                 "q1": {"query": "Daesh"}, "q2": {"query": "Jabhat al-Nusrah"}})
    jisr = answers["q0"]["result"][0]
    assert jisr["id"] == "gn-169023" and jisr["match"] is True
    assert jisr["type"] == [{"id": "place", "name": "Place"}]
    assert 0 < jisr["score"] <= 100 and jisr["name"] == "Jisr al-Shughur"  # the stored name
    assert answers["q1"]["result"][0]["id"] == "ag-isis" and answers["q1"]["result"][0]["match"]
    assert answers["q2"]["result"][0]["id"] == "ag-nusra-front"


def test_fuzzy_hits_are_offered_but_not_matched(client):
    result = reconcile(client, {"q0": {"query": "Jisr al-Shuhgour"}})["q0"]["result"]  # a typo
    assert result[0]["id"] == "gn-169023"
    assert result[0]["match"] is False and result[0]["score"] < 97


def test_country_property_ranks_its_places_first(client):
    libya = reconcile(client, {"q0": {"query": "Tripoli", "properties": [
        {"pid": "country", "v": "LY"}]}})["q0"]["result"]
    lebanon = reconcile(client, {"q0": {"query": "Tripoli", "properties": [
        {"pid": "country", "v": "Lebanon"}]}})["q0"]["result"]
    assert libya[0]["id"] != lebanon[0]["id"]
    assert "LY" in libya[0]["description"] and "LB" in lebanon[0]["description"]
    assert libya[0]["match"] and lebanon[0]["match"]


def test_same_answers_as_the_resolve_api(client):
    api = client.get("/api/resolve?name=Lattakia&kind=place").get_json()["candidates"]
    answers = reconcile(client, {"q0": {"query": "Lattakia", "type": "place", "limit": 20}})
    assert [c["id"] for c in answers["q0"]["result"]] == [c["entity_id"] for c in api]


def test_get_with_queries_and_jsonp(client):
    queries = json.dumps({"q0": {"query": "Idleb"}})
    plain = client.get("/reconcile", query_string={"queries": queries}).get_json()
    assert plain["q0"]["result"][0]["id"] == "gn-169389"
    jsonp = client.get("/reconcile", query_string={"callback": "jQuery123_4"})
    assert jsonp.mimetype == "application/javascript"
    assert jsonp.get_data(as_text=True).startswith("/**/jQuery123_4({")


def test_draft_match_endpoint(client):
    response = client.post("/reconcile/match", json={"queries": [
        {"conditions": [{"matchType": "name", "propertyValue": "Ahrar ash-Sham"}]},
        {"type": "place", "limit": 2, "conditions": [
            {"matchType": "name", "propertyValue": "Tripoli"},
            {"matchType": "property", "propertyId": "country", "propertyValue": "LB"}]}]})
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first["candidates"][0]["id"] == "ag-ahrar-al-sham"
    assert len(second["candidates"]) == 2 and "LB" in second["candidates"][0]["description"]


@pytest.mark.parametrize("data", [
    {"queries": "{not json"},
    {"queries": "[]"},
    {"queries": json.dumps({"q0": "Idlib"})},
    {"queries": json.dumps({"q0": {"query": ""}})},
    {"queries": json.dumps({"q0": {"query": "Idlib", "type": "tank"}})},
    {"queries": json.dumps({"q0": {"query": "Idlib", "limit": 0}})},
    {"queries": json.dumps({"q0": {"query": "Idlib", "limit": "5"}})},
    {"queries": json.dumps({"q0": {"query": "Idlib", "properties": [{"pid": "colour", "v": "red"}]}})},
    {"queries": json.dumps({"q0": {"query": "Idlib", "properties": [{"pid": "country", "v": "Atlantis"}]}})},
    {"queries": json.dumps({"q0": {"query": "x" * 500}})},
    {"queries": json.dumps({f"q{i}": {"query": "Idlib"} for i in range(1001)})},
])
def test_bad_queries_are_400(client, data):
    assert_error(client.post("/reconcile", data=data), 400)


def test_bad_callback_and_draft_bodies_are_400(client):
    assert_error(client.get("/reconcile?callback=alert(1)//"), 400)
    assert_error(client.post("/reconcile/match", json={"queries": "Idlib"}), 400)
    assert_error(client.post("/reconcile/match", json={"queries": [{"conditions": "x"}]}), 400)
    assert_error(client.post("/reconcile/match", data="not json"), 400)


def test_curated_alias_reconciles(tmp_path, seeded_db):
    path = tmp_path / "curated.db"
    shutil.copy(seeded_db, path)
    client = create_app({"TESTING": True, "DATABASE": str(path),
                         "API_TOKEN": TOKEN}).test_client()
    patched = client.patch("/api/entities/gn-168519", headers=AUTH,
                           json={"add_aliases": ["Kesebbe"], "who": "test"})
    assert patched.status_code == 200
    result = reconcile(client, {"q0": {"query": "Kesebbe"}})["q0"]["result"]
    assert result[0]["id"] == "gn-168519" and result[0]["match"]
    assert "stored alias (manual)" in result[0]["description"]


def test_private_reads_cover_reconciliation(seeded_db):
    client = create_app({"TESTING": True, "DATABASE": str(seeded_db), "API_TOKEN": TOKEN,
                         "PRIVATE_READS": True}).test_client()
    assert_error(client.get("/reconcile"), 401)
    assert_error(client.get("/entities/gn-169023"), 401)
    assert client.get("/reconcile", headers=AUTH).status_code == 200


def test_entity_pages_for_stored_reference_and_registry_entities(client):
    stored = client.get("/entities/gn-169023").get_data(as_text=True)
    assert "Jisr al-Shughur" in stored and "mention(s)" in stored
    reference = client.get("/entities/gn-98182")  # Baghdad: in GeoNames, not in the seeds
    assert reference.status_code == 200 and "reference gazetteer" in reference.get_data(as_text=True)
    registry = client.get("/entities/ag-ypg?embed=1").get_data(as_text=True)
    assert "registry" in registry and "<a href" not in registry
    assert_error(client.get("/entities/nope-nothing"), 404)
    assert_error(client.get("/entities/..%2F..%2Fetc"), 404)


def test_entity_page_escapes_hostile_names(tmp_path, seeded_db):
    path = tmp_path / "hostile.db"
    shutil.copy(seeded_db, path)
    client = create_app({"TESTING": True, "DATABASE": str(path),
                         "API_TOKEN": TOKEN}).test_client()
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    assert client.patch("/api/entities/gn-169023", headers=AUTH,
                        json={"name": hostile, "add_aliases": [hostile]}).status_code == 200
    page = client.get("/entities/gn-169023").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
