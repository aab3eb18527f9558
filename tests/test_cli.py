"""The `gazetteer` command: the extract contract, eval, and one-line errors."""

import json
import shutil

import pytest
from click.testing import CliRunner

from gazetteer.cli import main


@pytest.fixture
def db_path(tmp_path, reference_db):
    path = tmp_path / "cli.db"
    shutil.copy(reference_db, path)
    return path


def invoke(db_path, *args, input=None):
    return CliRunner().invoke(main, ["--db", str(db_path), *args], input=input,
                              catch_exceptions=False)


def test_extract_jsonl_contract(db_path, tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("Jisr al-Shughour fell to Jabhat al-Nusra.", encoding="utf-8")
    b = tmp_path / "b.html"
    b.write_text("<html><body><p>Daesh left Kassab.</p></body></html>", encoding="utf-8")
    result = invoke(db_path, "extract", "--format", "jsonl", str(a), str(b))
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["source"] == str(a)
    jisr, nusra = first["mentions"]
    assert (jisr["start"], jisr["end"], jisr["text"], jisr["kind"]) == (0, 16, "Jisr al-Shughour", "place")
    assert jisr["geonameid"] == 169023 and abs(jisr["lat"] - 35.81) < 0.05
    assert nusra["kind"] == "armed_group" and nusra["lat"] is None and nusra["entity_id"] == "ag-nusra-front"
    assert [m["text"] for m in second["mentions"]] == ["Daesh", "Kassab"]
    assert invoke(db_path, "entities").output.strip().endswith("(0 of 0)")  # nothing stored


def test_ingest_stdin_then_list_and_export(db_path):
    result = invoke(db_path, "ingest", "-", input="Fighting raged in Idlib and Aleppo.")
    assert "added 1 document(s)" in result.output
    again = invoke(db_path, "ingest", "-", input="Fighting raged in Idlib and Aleppo.")
    assert "1 already stored" in again.output
    assert "Aleppo" in invoke(db_path, "entities", "--kind", "place").output
    geojson = json.loads(invoke(db_path, "export", "geojson").output)
    assert {f["properties"]["name"] for f in geojson["features"]} >= {"Aleppo"}


@pytest.mark.parametrize("args,message", [
    (["ingest", "/no/such/file.txt"], "no such file or folder"),
    (["extract", "/no/such/file.txt"], "cannot read"),
])
def test_bad_input_is_one_line_and_non_zero(db_path, args, message):
    result = invoke(db_path, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_empty_stdin_is_refused(db_path):
    result = invoke(db_path, "extract", "-", input="")
    assert result.exit_code == 1 and "empty document" in result.output


def test_missing_database_for_listing(tmp_path):
    result = invoke(tmp_path / "none.db", "entities")
    assert result.exit_code == 1 and "gazetteer build" in result.output


@pytest.mark.slow
def test_extract_then_serve_serves_the_seed_corpus(db_path, tmp_path):
    """A stateless command leaves only reference tables; serve must not take that file for a
    built gazetteer and serve nothing."""
    from tests.serving import served

    text = tmp_path / "t.txt"
    text.write_text("Daesh left Kassab.", encoding="utf-8")
    assert invoke(db_path, "extract", str(text)).exit_code == 0
    with served(db_path, tmp_path / "serve.log", startup_seconds=240) as server:
        status, health = server.json("GET", "/healthz")
        log = server.log.read_text()
    assert status == 200 and health["documents"] == 2, log
    assert "holds no documents: building it from" in log
