"""The database file opened in Datasette (its Python API and test client, with the
datasette-cluster-map plugin installed): places render, search works, the map columns are found."""

import asyncio
import json

import pytest
from click.testing import CliRunner
from datasette.app import Datasette

from gazetteer.cli import main


@pytest.fixture(scope="module")
def metadata(seeded_db) -> dict:
    result = CliRunner().invoke(main, ["--db", str(seeded_db), "datasette-metadata"],
                                catch_exceptions=False)
    assert result.exit_code == 0
    return json.loads(result.output)


def fetch(seeded_db, metadata: dict, paths: list[str]) -> list:
    """GET each path from a Datasette instance over the seeded database (read-only)."""
    async def run():
        datasette = Datasette([str(seeded_db)], metadata=metadata)
        await datasette.invoke_startup()
        return [await datasette.client.get(path) for path in paths]

    return asyncio.run(run())


def test_places_render_with_search_and_cluster_map(seeded_db, metadata):
    name = seeded_db.stem
    page, search, groups, mentions, sources = fetch(seeded_db, metadata, [
        f"/{name}/places",
        f"/{name}/places.json?_search=shughour&_shape=array",
        f"/{name}/armed_groups.json?_search=nusrah&_shape=array",
        f"/{name}/mentions",
        f"/{name}/sources.json?_shape=array",
    ])
    assert page.status_code == 200
    html = page.text
    assert 'name="_search"' in html  # the search box
    assert 'DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN = "latitude"' in html
    assert 'DATASETTE_CLUSTER_MAP_LONGITUDE_COLUMN = "longitude"' in html
    rows = search.json()
    assert [r["id"] for r in rows] == ["gn-169023"]
    assert rows[0]["latitude"] == pytest.approx(35.81, abs=0.05) and rows[0]["mentions"] > 0
    assert "Jisr al-Shughour" in rows[0]["aliases"]
    assert [r["id"] for r in groups.json()] == ["ag-nusra-front"]
    assert f"/{name}/entities/" in mentions.text  # foreign keys become links
    geonames = next(s for s in sources.json() if s["name"] == "GeoNames")
    assert "CC BY 4.0" in geonames["licence"]


def test_metadata_describes_views_and_licence(seeded_db, metadata):
    tables = metadata["databases"][seeded_db.stem]["tables"]
    assert tables["places"]["columns"]["latitude"]
    assert "CC BY 4.0" in metadata["license"] and "GeoNames" in metadata["source"]
    (about,) = fetch(seeded_db, metadata, ["/-/metadata.json"])
    assert about.json()["license"] == metadata["license"]


def test_foreign_keys_are_declared(seeded):
    declared = {(fk.table, fk.column, fk.other_table) for name in ("mentions", "aliases",
                                                                    "ref_names")
                for fk in seeded[name].foreign_keys}
    assert declared >= {("mentions", "document_id", "documents"),
                        ("mentions", "entity_id", "entities"),
                        ("aliases", "entity_id", "entities"),
                        ("ref_names", "ref_id", "ref_places")}
    assert seeded.execute("PRAGMA foreign_key_check").fetchall() == []


def test_entity_search_follows_curation_and_merges(engine):
    from gazetteer import store
    from gazetteer.pipeline import ingest_document
    from gazetteer.ingest import make_document

    ingest_document(engine, make_document("Jaish al-Islam and Liwa al-Islam fought in Douma.",
                                          "test"))
    db = engine.db

    def search(text):
        return [r[0] for r in db.execute(
            "SELECT id FROM entities WHERE rowid IN (SELECT rowid FROM entities_fts "
            "WHERE entities_fts MATCH ?) ORDER BY id", [text])]

    assert "ag-jaish-al-islam" in search("jaish")
    store.curate_entity(db, "gn-170592", {"add_aliases": ["Dumaville"]}, "test")
    assert search("dumaville") == ["gn-170592"]
    store.merge_entities(db, "ag-jaish-al-islam", "ag-liwa-al-islam", "test")
    assert search("liwa") == ["ag-jaish-al-islam"]
