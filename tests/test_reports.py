"""Real reports in, with their dates: saved pages, PDFs, a long report among short ones,
URLs and feeds through the CLI, since/until, the mentions exports, the schema-3 migration
and neighbour counts that do not grow with an entity's mentions."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from gazetteer import cli, store
from gazetteer.cli import main
from gazetteer.pipeline import run
from gazetteer.sources import Skipped, make_document, with_published
from gazetteer.web import create_app
from bench.common import store_named_often
from tests.conftest import downgrade, make_engine, writable_app
from tests.test_sources import (ARTICLE, BOILERPLATE, JSON_LD, REPORT_PDF, news_page,  # noqa: F401
                                site)


def stored_names(engine, document_id: str) -> set[str]:
    return {m["text"] for m in store.document_mentions(engine.db, document_id)}


# ---- pages, PDFs and size ----------------------------------------------------------------

@pytest.fixture
def folder(tmp_path):
    """A folder of reports (the test's database lives beside it, not in it)."""
    path = tmp_path / "reports"
    path.mkdir()
    return path


def test_saved_page_through_the_pipeline_stores_the_article_only(engine, folder):
    (folder / "kassab.html").write_text(news_page(JSON_LD), encoding="utf-8")
    report = run(engine, [folder])
    assert len(report.added) == 1 and not report.skipped
    (row,) = store.list_documents(engine.db, 10, 0)[0]
    assert row["title"] == "Shelling hits Kassab as fighting spreads"
    assert row["url"] == "https://levant-monitor.example/news/kassab-shelling"
    assert (row["published"], row["published_source"]) == ("2015-03-03", "metadata")
    names = stored_names(engine, row["id"])
    assert {"Kassab", "Latakia"} <= names
    assert not names & set(BOILERPLATE), names & set(BOILERPLATE)
    sentences = {m["sentence"] for m in store.entity_mentions(engine.db, "gn-168519", 50, 0)[0]}
    assert all("cookies" not in s and "Read also" not in s for s in sentences)
    kassab = store.get_entity(engine.db, "gn-168519")
    assert (kassab["first_seen"], kassab["last_seen"]) == ("2015-03-03", "2015-03-03")


def test_pdf_mentions_carry_their_page(engine, tmp_path, shared_nlp):
    (tmp_path / "report.pdf").write_bytes(REPORT_PDF)
    assert len(run(engine, [tmp_path / "report.pdf"]).added) == 1
    client = writable_app(engine.settings.database, shared_nlp).test_client()
    (doc,) = client.get("/api/documents").get_json()["items"]
    shown = client.get(f"/api/documents/{doc['id']}").get_json()
    assert shown["title"] == "Report on the Kassab offensive" and shown["pages"] == 2
    pages = {m["text"]: m["page"] for m in shown["mentions"]}
    assert pages["Kassab"] == 1 and pages["Raqqa"] == 2


def test_text_documents_have_no_page(engine):
    doc = make_document("Shelling hit Kassab on Tuesday.", "note.txt")
    run(engine, [doc])
    assert [m["page"] for m in store.document_mentions(engine.db, doc.id)] == [None]


def long_report(paragraphs: int) -> str:
    """A report of numbered paragraphs, each naming a place and a group."""
    return "\n\n".join(f"Paragraph {n}. {ARTICLE[n % 3]} Fighters of Jabhat al-Nusra were "
                       f"seen near Kassab that week." for n in range(paragraphs))


def test_long_report_in_a_folder_of_short_ones_is_stored_whole(engine, folder):
    text = long_report(6300)
    assert len(text.encode()) > 1_500_000
    (folder / "long.txt").write_text(text, encoding="utf-8")
    for n in range(3):
        (folder / f"short{n}.txt").write_text(f"Note {n}: shelling hit Kassab.",
                                              encoding="utf-8")
    report = run(engine, [folder])
    assert len(report.added) == 4 and not report.skipped, report
    doc_id = next(d["id"] for d in store.list_documents(engine.db, 10, 0)[0]
                  if d["source"].endswith("long.txt"))
    mentions = store.document_mentions(engine.db, doc_id)
    assert all(text[m["start"]:m["end"]] == m["text"] for m in mentions)  # offsets kept
    nusra = [m for m in mentions if m["entity_id"] == "ag-nusra-front"]
    assert len(nusra) == 6300  # one a paragraph, across every piece
    # The same closing sentence in every paragraph: 6,300 sentences, not one written 6,300
    # times (which would pair every copy with every other: 39.7 million pairs).
    (pair,) = [n for n in store.neighbours(engine.db, "gn-168519") if n["id"] == "ag-nusra-front"]
    assert pair["count"] == 6300


def test_a_document_the_model_fails_on_is_skipped_and_the_others_stored(engine, folder):
    (folder / "long.txt").write_text(long_report(30), encoding="utf-8")
    (folder / "short.txt").write_text("Shelling hit Kassab.", encoding="utf-8")
    limit = engine.nlp.max_length
    engine.nlp.max_length = 1000  # below a piece: spaCy itself refuses the long text
    try:
        report = run(engine, [folder])
    finally:
        engine.nlp.max_length = limit
    assert [a.rsplit("/", 1)[-1] for a in report.added] == ["short.txt"]
    (skipped,) = report.skipped
    assert skipped.source.endswith("long.txt") and "could not be analysed" in skipped.reason
    assert "E088" in skipped.reason  # spaCy's own message says why


# ---- URLs, feeds and dates through the CLI -----------------------------------------------

@pytest.fixture
def cli_db(tmp_path, reference_db, shared_nlp, monkeypatch):
    """A database for CLI runs, whose engine reuses the session's model."""
    path = tmp_path / "cli.db"
    shutil.copy(reference_db, path)
    monkeypatch.setattr(cli, "_engine", lambda settings: make_engine(
        settings.database, shared_nlp, fetch_delay=settings.fetch_delay))
    monkeypatch.setenv("GAZETTEER_FETCH_DELAY", "0")
    return path


def invoke(path, *args):
    return CliRunner().invoke(main, ["--db", str(path), *args], catch_exceptions=False)


def test_cli_ingests_urls_feeds_and_a_url_list(cli_db, site, tmp_path):
    base, _ = site
    listed = tmp_path / "urls.txt"
    listed.write_text(f"# reports\n{base}/notes.txt\n{base}/private/secret.html\n",
                      encoding="utf-8")
    result = invoke(cli_db, "ingest", f"{base}/feed.rss", f"{base}/reports/report.pdf",
                    "--urls", str(listed))
    assert result.exit_code == 0, result.output
    assert "added 4 document(s)" in result.output
    assert f"skipped {base}/private/secret.html: disallowed by robots.txt" in result.output
    db = store.open_db(cli_db, create=False)
    rows = {r["source"]: r for r in store.list_documents(db, 10, 0)[0]}
    raqqa = rows[f"{base}/articles/raqqa.html"]
    assert (raqqa["url"], raqqa["published"], raqqa["published_source"]) == (
        f"{base}/articles/raqqa.html", "2015-03-03", "feed")
    assert rows[f"{base}/notes.txt"]["url"] == f"{base}/notes.txt"
    assert rows[f"{base}/reports/report.pdf"]["title"] == "Report on the Kassab offensive"


def test_cli_published_dates_every_document(cli_db, tmp_path):
    (tmp_path / "a.txt").write_text("Shelling hit Kassab.", encoding="utf-8")
    result = invoke(cli_db, "ingest", "--published", "2019-07-01", str(tmp_path / "a.txt"))
    assert result.exit_code == 0, result.output
    db = store.open_db(cli_db, create=False)
    (row,) = store.list_documents(db, 10, 0)[0]
    assert (row["published"], row["published_source"]) == ("2019-07-01", "given")
    bad = invoke(cli_db, "ingest", "--published", "July 2019", str(tmp_path / "a.txt"))
    assert bad.exit_code == 2 and "--published" in bad.output


def test_cli_names_every_file_of_a_folder_it_did_not_store(cli_db, folder):
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0JFIF")
    (folder / "empty.txt").write_text("  ", encoding="utf-8")
    (folder / "a.txt").write_text("Shelling hit Kassab.", encoding="utf-8")
    result = invoke(cli_db, "ingest", str(folder))
    assert "added 1 document(s)" in result.output and "2 skipped" in result.output
    assert f"skipped {folder / 'photo.jpg'}: unsupported file type .jpg" in result.output
    assert f"skipped {folder / 'empty.txt'}: empty document" in result.output


# ---- time on every record: since/until, first_seen/last_seen -------------------------------

DATED = [("2015-03-03", "Jabhat al-Nusra fighters shelled Kassab."),
         ("2019-07-01T08:00:00+03:00", "Jabhat al-Nusra fighters left Raqqa."),
         (None, "Ahrar al-Sham fighters entered Idlib.")]


@pytest.fixture
def dated_client(engine, shared_nlp):
    docs = [make_document(text, f"r{n}.txt") for n, (_, text) in enumerate(DATED)]
    run(engine, [with_published(d, day) if day else d for d, (day, _) in zip(docs, DATED)])
    return writable_app(engine.settings.database, shared_nlp).test_client()


def ids(response) -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {e["id"] for e in response.get_json()["items"]}


def test_entities_carry_first_and_last_seen(dated_client):
    nusra = dated_client.get("/api/entities/ag-nusra-front").get_json()
    assert (nusra["first_seen"], nusra["last_seen"]) == ("2015-03-03", "2019-07-01")
    idlib = next(e for e in dated_client.get("/api/entities?q=idlib").get_json()["items"])
    assert (idlib["first_seen"], idlib["last_seen"]) == (None, None)  # undated report only


def test_since_and_until_filter_entities(dated_client):
    assert ids(dated_client.get("/api/entities?until=2016-01-01")) >= {"gn-168519",
                                                                         "ag-nusra-front"}
    late = ids(dated_client.get("/api/entities?since=2019-07-01"))
    assert "ag-nusra-front" in late and "gn-168519" not in late
    assert "gn-169389" not in ids(dated_client.get("/api/entities?since=1900-01-01"))
    counted = dated_client.get("/api/entities?since=2016-01-01&kind=armed_group").get_json()
    assert [(e["id"], e["mentions"]) for e in counted["items"]] == [("ag-nusra-front", 1)]


@pytest.mark.parametrize("query", ["since=2015-13-01", "until=yesterday", "since=2015/03/03"])
def test_malformed_dates_are_a_400(dated_client, query):
    for path in ("/api/entities", "/api/gazetteer.csv", "/api/mentions.csv",
                 "/api/entities/ag-nusra-front/mentions"):
        response = dated_client.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert "ISO date" in response.get_json()["error"]["message"]


def test_since_and_until_filter_exports_and_their_counts(dated_client):
    text = dated_client.get("/api/gazetteer.csv?kind=armed_group&until=2015-12-31").get_data(
        as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [(r["id"], r["mentions"], r["places"]) for r in rows] == [
        ("ag-nusra-front", "1", "Kassab")]
    places = dated_client.get("/api/gazetteer.geojson?since=2019-01-01").get_json()
    assert [f["id"] for f in places["features"]] == ["gn-172955"]  # Raqqa


def test_post_document_takes_url_and_published(engine, shared_nlp):
    client = writable_app(engine.settings.database, shared_nlp,
                          API_TOKEN="t").test_client()
    auth = {"Authorization": "Bearer t"}
    body = {"text": "Shelling hit Kassab.", "title": "Kassab", "url": "https://x.example/k",
            "published": "2015-03-03T10:00:00+02:00"}
    created = client.post("/api/documents", json=body, headers=auth)
    assert created.status_code == 201, created.get_json()
    shown = client.get(f"/api/documents/{created.get_json()['id']}").get_json()
    assert (shown["url"], shown["title"], shown["published"], shown["published_source"]) == (
        "https://x.example/k", "Kassab", "2015-03-03T10:00:00+02:00", "given")
    bad = client.post("/api/documents", json={**body, "published": "3 March"}, headers=auth)
    assert bad.status_code == 400 and "ISO 8601" in bad.get_json()["error"]["message"]
    pdf = client.post("/api/documents", headers=auth, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(REPORT_PDF), "report.pdf"),
                            "published": "2016-05-01"})
    assert pdf.status_code == 201, pdf.get_json()
    pages = {m["text"]: m["page"] for m in pdf.get_json()["mentions"]}
    assert pages["Raqqa"] == 2 and pdf.get_json()["published"] == "2016-05-01"


# ---- mentions as data ----------------------------------------------------------------------

def mention_rows(client, query: str = "") -> list[dict]:
    response = client.get(f"/api/mentions.csv{query}")
    assert response.status_code == 200, response.get_json()
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffdocument_id,title,url,published,entity_id,name,kind,")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_mentions_csv_names_who_was_named_where_and_when(dated_client):
    rows = mention_rows(dated_client)
    kassab = next(r for r in rows if r["entity_id"] == "gn-168519")
    assert kassab["published"] == "2015-03-03" and kassab["title"]
    assert kassab["groups"] == "al-Nusra Front" and kassab["page"] == ""
    assert float(kassab["latitude"]) == pytest.approx(35.93, abs=0.05)
    assert kassab["sentence"] == "Jabhat al-Nusra fighters shelled Kassab."
    nusra = [r for r in rows if r["entity_id"] == "ag-nusra-front"]
    assert len(nusra) == 2 and all(r["groups"] == "" and r["latitude"] == "" for r in nusra)


def test_mentions_filters(dated_client):
    by_group = mention_rows(dated_client, "?group=ag-nusra-front&kind=place")
    assert {r["entity_id"] for r in by_group} == {"gn-168519", "gn-172955"}
    recent = mention_rows(dated_client, "?group=ag-nusra-front&kind=place&since=2016-01-01")
    assert [r["entity_id"] for r in recent] == ["gn-172955"]
    assert {r["entity_id"] for r in mention_rows(dated_client, "?entity=gn-168519")} == {
        "gn-168519"}
    assert mention_rows(dated_client, "?bbox=35.5,35.5,36.5,36.5&kind=place")[0][
        "entity_id"] == "gn-168519"
    assert dated_client.get("/api/mentions.csv?entity=nobody").status_code == 404


def test_mentions_geojson_and_the_cli_export(dated_client, engine):
    collection = dated_client.get("/api/mentions.geojson?until=2015-12-31").get_json()
    (feature,) = collection["features"]
    assert feature["properties"]["entity_id"] == "gn-168519"
    assert feature["properties"]["groups"] == ["al-Nusra Front"]
    assert feature["geometry"]["coordinates"][1] == pytest.approx(35.93, abs=0.05)
    assert dated_client.get("/api/mentions.geojson?kind=armed_group").status_code == 400
    result = CliRunner().invoke(main, ["--db", str(engine.settings.database), "export",
                                       "mentions", "--since", "2019-01-01"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output.removeprefix("\ufeff"))))
    assert {r["entity_id"] for r in rows} == {"ag-nusra-front", "gn-172955"}
    bad = CliRunner().invoke(main, ["--db", str(engine.settings.database), "export",
                                    "mentions", "--until", "soon"])
    assert bad.exit_code == 2 and "--until" in bad.output


def test_mention_cells_never_start_a_formula(engine, shared_nlp):
    doc = make_document("=cmd|' /C calc'!A0 Shelling hit Kassab.", "evil.txt")
    run(engine, [doc])
    client = writable_app(engine.settings.database, shared_nlp).test_client()
    (row,) = mention_rows(client)
    assert row["sentence"].startswith("'=") and row["title"].startswith("'=")


# ---- the schema-3 migration ----------------------------------------------------------------

def _downgrade_to_schema_2(path):
    """What a schema-2 file looks like: no co-mention table, none of schema 3's columns (nor
    schema 5's rendered export rows)."""
    conn = sqlite3.connect(path)
    downgrade(conn, "2", triggers=("export_rows%",), tables=("export_rows", "co_mentions"))
    conn.executescript("""
        DROP INDEX mentions_sentence; DROP INDEX documents_published;
        ALTER TABLE mentions DROP COLUMN page; ALTER TABLE mentions DROP COLUMN sentence_no;
        ALTER TABLE entities DROP COLUMN first_seen; ALTER TABLE entities DROP COLUMN last_seen;""")
    for column in ("url", "published", "published_source", "site_name", "author", "language",
                   "pages"):
        conn.execute(f"ALTER TABLE documents DROP COLUMN {column}")
    conn.commit()
    conn.close()


def test_schema_2_file_migrates_with_its_neighbour_counts(tmp_path, seeded_db, seeded):
    path = tmp_path / "old.db"
    shutil.copy(seeded_db, path)
    _downgrade_to_schema_2(path)
    before = {e: store.neighbours(seeded, e) for e in ("gn-169023", "ag-nusra-front")}
    db = store.open_db(path, create=False)
    assert store.get_meta(db, "schema_version") == store.SCHEMA_VERSION
    assert {e: store.neighbours(db, e) for e in before} == before
    assert before["gn-169023"] and before["ag-nusra-front"]
    assert db.execute("SELECT count(*) FROM mentions WHERE sentence_no IS NULL").fetchone()[0] == 0
    doc = store.list_documents(db, 1, 0)[0][0]
    assert doc["published"] is None and doc["title"]
    client = create_app({"DATABASE": str(path)}).test_client()
    assert client.get("/api/entities/gn-169023").get_json()["first_seen"] is None


# ---- an entity named 100,000 times -----------------------------------------------------------

def test_neighbour_counts_read_the_co_mention_table_not_a_self_join(engine):
    """100,000 mentions of one place beside a group: the reads that used to join mentions to
    mentions (4.7 s at 4,280 mentions) plan through co_mentions and per-entity indexes."""
    place, group = store_named_often(engine.db, documents=100, per_document=1000)
    assert store.entity_counts(engine.db, place.id)["mentions"] == 100_000
    statements: list[str] = []
    engine.db.conn.set_trace_callback(statements.append)
    neighbours = store.neighbours(engine.db, place.id)
    exported = [row for row in csv.reader(store.csv_lines(engine.db, "place"))
                if row[0] == place.id]
    engine.db.conn.set_trace_callback(None)
    assert neighbours == [{"id": group.id, "name": group.name, "kind": "armed_group",
                           "count": 50_000}]
    assert exported[0][store.FEATURE_COLUMNS.index("mentions")] == "100000"
    assert exported[0][-1] == group.name  # the co-mentioned armed groups
    assert store.get_entity(engine.db, place.id)["first_seen"] == "2015-01-01"
    plans = {sql: " | ".join(r[3] for r in engine.db.execute("EXPLAIN QUERY PLAN " + sql))
             for sql in statements if sql.startswith("SELECT")}
    for plan in plans.values():  # the self-join went through these, mention by mention
        assert "mentions_document" not in plan and "mentions_sentence" not in plan, plan
    counted = [plan for sql, plan in plans.items() if "co_mentions" in sql]
    assert len(counted) >= 2  # the neighbours, and the CSV's lines rendered or built live
    assert all("SEARCH c USING PRIMARY KEY (entity_id=?)" in p for p in counted), counted
    rows = engine.db.execute("SELECT count(*) FROM co_mentions WHERE entity_id = ?",
                             [place.id]).fetchone()[0]
    assert rows == 100  # one a document and neighbour, not one a mention


def test_merging_entities_recounts_their_neighbours_and_dates(dated_client, engine):
    store.merge_entities(engine.db, "ag-nusra-front", "ag-ahrar-al-sham", "test")
    merged = store.neighbours(engine.db, "ag-nusra-front")
    assert {n["id"] for n in merged} >= {"gn-168519", "gn-172955", "gn-169389"}
    assert store.neighbours(engine.db, "gn-169389")[0]["id"] == "ag-nusra-front"
    nusra = store.get_entity(engine.db, "ag-nusra-front")
    assert (nusra["first_seen"], nusra["last_seen"]) == ("2015-03-03", "2019-07-01")
