"""Curation survives: after PATCH and merge through the API, re-ingesting (the same documents
and new ones naming the curated entities) and rebuilding the reference gazetteer keep the
curated name, coordinates, aliases, removed aliases and merges."""

import shutil

import pytest

from gazetteer import store
from gazetteer.pipeline import run
from gazetteer.reference import build_reference
from gazetteer.web import create_app

from .conftest import make_engine
from .test_api import AUTH, TOKEN, assert_moved

IDLIB = "gn-169389"
CURATION = {"name": "Idlib (curated)", "lat": 35.9306, "lon": 36.6339,
            "add_aliases": ["Idlib al-Khadra"], "remove_aliases": ["Idlip", "Idleb"],
            "who": "analyst"}
# Names the curator removed come back in new documents: they must stay removed.
NEW_DOCUMENTS = ["Fighters of Liwa al-Islam reached Idleb at dawn, then left Idlip.",
                 "Liwa al-Islam shelled Idleb again; residents of Idlib fled to Aleppo."]


def api_over(path, engine):
    app = create_app({"TESTING": True, "DATABASE": str(path), "API_TOKEN": TOKEN})
    app.extensions["gazetteer"].use_engine(engine)
    return app.test_client()


def assert_curated(client) -> None:
    idlib = client.get(f"/api/entities/{IDLIB}").get_json()
    assert (idlib["name"], idlib["lat"], idlib["lon"]) == ("Idlib (curated)", 35.9306, 36.6339)
    assert (idlib["geocoder"], idlib["status"], idlib["precision"]) == ("manual", "resolved", 1)
    aliases = {a["name"] for a in idlib["aliases"]}
    assert "Idlib al-Khadra" in aliases and not {"Idlip", "Idleb"} & aliases
    assert [c["action"] for c in idlib["curation"]] == ["patch"]
    assert_moved(client.get("/api/entities/ag-liwa-al-islam"), "ag-jaish-al-islam")
    group = client.get("/api/entities/ag-jaish-al-islam").get_json()
    assert [c["action"] for c in group["curation"]] == ["merge"]
    assert "Liwa al-Islam" in {a["name"] for a in group["aliases"]}


def post_and_check(client, text: str) -> None:
    response = client.post("/api/documents", json={"text": text}, headers=AUTH)
    assert response.status_code == 201, response.get_data(as_text=True)
    by_text = {m["text"]: m["entity_id"] for m in response.get_json()["mentions"]}
    assert by_text["Liwa al-Islam"] == "ag-jaish-al-islam"  # redirected by the merge
    assert by_text["Idleb"] == IDLIB


@pytest.mark.slow
def test_curation_survives_reingest_and_a_reference_rebuild(tmp_path, seeded_db, shared_nlp):
    path = tmp_path / "curated.db"
    shutil.copy(seeded_db, path)
    engine = make_engine(path, shared_nlp)
    client = api_over(path, engine)
    assert client.patch(f"/api/entities/{IDLIB}", json=CURATION, headers=AUTH).status_code == 200
    merged = client.post("/api/entities/ag-jaish-al-islam/merge", headers=AUTH,
                         json={"other": "ag-liwa-al-islam"})
    assert merged.status_code == 200
    assert_curated(client)

    # re-ingest: the same corpus (nothing new), then a new document naming them
    report = run(engine, [engine.settings.seeds_dir])
    assert report.added == [] and len(report.unchanged) == 2
    post_and_check(client, NEW_DOCUMENTS[0])
    assert_curated(client)

    # rebuild: the reference tables are reloaded (here with a different population
    # threshold, as when GAZETTEER_MIN_CITY_POPULATION changes), then a restart
    assert build_reference(engine.db, engine.settings.data_dir, 15000, force=True)
    assert ":15000:" in store.get_meta(engine.db, "reference")
    restarted = make_engine(path, shared_nlp, min_city_population=15000)
    client = api_over(path, restarted)
    post_and_check(client, NEW_DOCUMENTS[1])
    assert run(restarted, [restarted.settings.seeds_dir]).added == []
    assert_curated(client)
