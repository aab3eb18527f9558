"""Bad input through the API and the CLI: a clear error, the right status, nothing lost.

Every API case checks the JSON error shape and that the stored data (documents, entities,
aliases, mentions, curations, merges) is byte-for-byte what it was before."""

import hashlib
import io
import os
import shutil
import sqlite3
import tempfile
import tracemalloc
import encodings.utf_8_sig  # noqa: F401  imported while we may still read the stdlib (see below)
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from gazetteer.cli import main
from gazetteer.errors import DocumentTooLarge, UnreadableDocument
from gazetteer.ingest import Skipped, read_file, read_paths

from .conftest import writable_app
from .test_api import AUTH, TOKEN, assert_error

DATA_TABLES = ("documents", "entities", "aliases", "mentions", "curations", "merges")
MB = 1024 * 1024
LIMIT = 10 * MB  # the default GAZETTEER_MAX_DOCUMENT_BYTES


def fingerprint(path: Path) -> str:
    """A hash of every row a user could lose, read with a plain sqlite3 connection."""
    conn = sqlite3.connect(path)
    digest = hashlib.sha256()
    for table in DATA_TABLES:
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
            digest.update(repr(row).encode())
    conn.close()
    return digest.hexdigest()


@pytest.fixture(scope="module")
def api(tmp_path_factory, seeded_db, shared_nlp):
    """A writable copy of the seeded database behind the API, with a token and the engine."""
    path = tmp_path_factory.mktemp("bad-input") / "w.db"
    shutil.copy(seeded_db, path)
    return writable_app(path, shared_nlp, API_TOKEN=TOKEN).test_client(), path


@pytest.fixture
def client(api):
    """The API client; the test fails if the stored data changed by the end of it."""
    test_client, path = api
    before = fingerprint(path)
    yield test_client
    assert fingerprint(path) == before, "bad input changed the stored data"


# ---- bodies ---------------------------------------------------------------------------------

def multipart(**parts) -> dict:
    """A multipart body; (bytes, filename) parts become files (fresh streams per request)."""
    return {"content_type": "multipart/form-data", "data": parts}


def fresh(body: dict) -> dict:
    if body.get("content_type") != "multipart/form-data":
        return body
    parts = {k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v
             for k, v in body["data"].items()}
    return {**body, "data": parts}


DEEP = b"[" * 100_000
BAD_BODIES = {
    "empty": {"data": b"", "content_type": "text/plain"},
    "only whitespace": {"data": b" \n\t \r\n", "content_type": "text/plain"},
    "binary": {"data": bytes(range(256)) * 8, "content_type": "text/plain"},
    "invalid utf-8": {"data": b"Shelling in Homs \xc3\x28 and Hama", "content_type": "text/plain"},
    "latin-1 html": {"data": "<html><body>Caf\u00e9 in Homs</body></html>".encode("latin-1"),
                     "content_type": "text/html"},
    "malformed json": {"data": b'{"text": "Homs",', "content_type": "application/json"},
    "json list": {"json": ["Shelling in Homs"]},
    "json string": {"json": "Shelling in Homs"},
    "json null": {"data": b"null", "content_type": "application/json"},
    "json number text": {"json": {"text": 5}},
    "json list text": {"json": {"text": ["Homs"]}},
    "json without text": {"json": {"title": "no text"}},
    "json blank text": {"json": {"text": "   "}},
    "json number title": {"json": {"text": "Homs", "title": 5}},
    "json object source": {"json": {"text": "Homs", "source": {}}},
    "json nested too deep": {"data": DEEP, "content_type": "application/json"},
    "json text nested too deep": {"data": b'{"text": ' + DEEP, "content_type": "application/json"},
    "json lone surrogate": {"data": b'{"text": "Homs \\ud800 Hama"}',
                            "content_type": "application/json"},
    "json lone surrogate title": {"data": b'{"text": "Homs", "title": "\\udfff"}',
                                  "content_type": "application/json"},
    "json invalid utf-8": {"data": b'{"text": "Homs \xff"}', "content_type": "application/json"},
    "image content type": {"data": b"Shelling in Homs", "content_type": "image/png"},
    "form urlencoded": {"data": {"text": "Shelling in Homs"}},
    "no content type": {"data": b"Shelling in Homs"},
    "multipart without a file": multipart(text="Shelling in Homs"),
    "multipart file under another name": multipart(upload=(b"Homs", "a.txt")),
    "multipart empty file": multipart(file=(b"", "empty.txt")),
    "multipart binary file": multipart(file=(b"\x89PNG\x00\x00\x01", "x.png")),
    "multipart invalid utf-8 file": multipart(file=(b"caf\xe9 Homs", "l.txt")),
    "multipart title given twice": multipart(file=(b"Shelling in Homs", "a.txt"),
                                             title=["One title", "Another"]),
    "multipart date given twice": multipart(file=(b"Shelling in Homs", "a.txt"),
                                            published=["2024-01-01", "2024-01-02"]),
}


@pytest.mark.parametrize("endpoint", ["/api/documents", "/api/extract"])
@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_bodies_are_400_and_lose_nothing(client, endpoint, name):
    response = client.post(endpoint, headers=AUTH, **fresh(BAD_BODIES[name]))
    assert_error(response, 400)


def raw_multipart(content: bytes, filename: str) -> dict:
    """A multipart upload encoded here: the test client would spool a big one to a temporary
    file that it never closes when the server refuses the body unread."""
    boundary = "gazetteer-test-boundary"
    data = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n').encode()
    data += content + f"\r\n--{boundary}--\r\n".encode()
    return {"data": data, "content_type": f"multipart/form-data; boundary={boundary}"}


def big_bodies(size: int) -> dict[str, dict]:
    text = b"Shelling in Homs. " * (size // 18 + 1)
    return {"text/plain": {"data": text, "content_type": "text/plain"},
            "json": {"data": b'{"text": "' + text + b'"}', "content_type": "application/json"},
            "multipart": raw_multipart(text, "big.txt")}


@pytest.mark.parametrize("endpoint", ["/api/documents", "/api/extract"])
@pytest.mark.parametrize("kind", ["text/plain", "json", "multipart"])
def test_a_20_mb_body_is_413(client, endpoint, kind):
    response = client.post(endpoint, headers=AUTH, **big_bodies(20 * MB)[kind])
    assert_error(response, 413)


@pytest.mark.parametrize("kind", ["text/plain", "json"])
def test_a_body_just_over_the_document_limit_is_413(client, kind):
    """Under the request limit (which leaves room for multipart framing), over the document's."""
    text = (b"Shelling in Homs. " * (LIMIT // 18 + 2))[:LIMIT + 30]
    body = {"data": b'{"text": "' + text + b'"}' if kind == "json" else text,
            "content_type": "application/json" if kind == "json" else "text/plain"}
    response = client.post("/api/documents", headers=AUTH, **body)
    assert_error(response, 413)
    assert "over the limit" in response.get_json()["error"]["message"]


# ---- curation bodies ------------------------------------------------------------------------

@pytest.mark.parametrize("body,status", [
    ({"name": 5}, 400), ({"name": "\t"}, 400), ({"lat": "35", "lon": "36"}, 400),
    ({"lat": True, "lon": False}, 400), ({"lat": 1e400, "lon": 0}, 400),
    ({"add_aliases": [1]}, 400), ({"add_aliases": [""]}, 400), ({"remove_aliases": "Kassab"}, 400),
    ({"who": "only who"}, 400), ([{"name": "x"}], 400),
])
def test_bad_patches_change_nothing(client, body, status):
    assert_error(client.patch("/api/entities/gn-168519", headers=AUTH, json=body), status)


@pytest.mark.parametrize("data", [b'{"lat": NaN, "lon": 0}', b'{"lat": Infinity, "lon": 0}',
                                  b'{"name": "Kassab \\ud800"}', DEEP, b"{"])
def test_patches_with_nan_surrogates_or_deep_json_are_400(client, data):
    response = client.patch("/api/entities/gn-168519", headers=AUTH, data=data,
                            content_type="application/json")
    assert_error(response, 400)


@pytest.mark.parametrize("entity_id,status", [("gn-168519", None), ("nope-nope", 404)])
def test_patch_needs_the_token_and_an_existing_id(client, entity_id, status):
    url, body = f"/api/entities/{entity_id}", {"name": "x"}
    for header in ("", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"Basic {TOKEN}"):
        assert_error(client.patch(url, json=body, headers={"Authorization": header}), 401)
    if status:
        assert_error(client.patch(url, json=body, headers=AUTH), status)


def test_patch_of_a_path_trick_matches_no_route(client):
    """Ids never hold a "/": the routing refuses before anything is looked up."""
    response = client.patch("/api/entities/..%2F..%2Fetc%2Fpasswd", json={"name": "x"},
                            headers=AUTH)
    assert_error(response, 404)


@pytest.mark.parametrize("into,body,status", [
    ("ag-jaish-al-islam", {}, 400), ("ag-jaish-al-islam", {"other": 5}, 400),
    ("ag-jaish-al-islam", {"other": "ag-jaish-al-islam"}, 400),
    ("ag-jaish-al-islam", {"other": "gn-168519"}, 400),  # a place into a group
    ("ag-jaish-al-islam", {"other": "ag-nothing"}, 404),
    ("ag-jaish-al-islam", {"other": "../../etc/passwd"}, 404),
    ("ag-nothing", {"other": "ag-liwa-al-islam"}, 404),
])
def test_bad_merges_change_nothing(client, into, body, status):
    assert_error(client.post(f"/api/entities/{into}/merge", json=body), 401)
    assert_error(client.post(f"/api/entities/{into}/merge", json=body, headers=AUTH), status)


# ---- parameters -----------------------------------------------------------------------------

BAD_NUMBERS = ["-1", "-99999999999999999999", "0x10", "1.5", "1e3", "abc", "NaN", "9" * 5000,
               "1000000000000", "\u221e", "1; DROP TABLE entities"]


@pytest.mark.parametrize("url", ["/api/entities", "/api/documents",
                                 "/api/entities/gn-169023/mentions"])
@pytest.mark.parametrize("param", ["limit", "offset"])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_bad_paging_is_400(client, url, param, value):
    assert_error(client.get(url, query_string={param: value}), 400)


@pytest.mark.parametrize("bbox", ["1,2,3", "1,2,3,4,5", "a,b,c,d", ",,,", "1;2;3;4",
                                  "nan,nan,nan,nan", "inf,0,1,1", "0,0,1e400,1", "10,0,0,0",
                                  "0,-91,1,1", "-181,0,0,1", "0,0,0,91", "1,2,3,4'--"])
@pytest.mark.parametrize("url", ["/api/entities", "/api/gazetteer.geojson",
                                 "/api/gazetteer.csv"])
def test_malformed_bbox_is_400(client, url, bbox):
    assert_error(client.get(url, query_string={"bbox": bbox}), 400)


@pytest.mark.parametrize("kind", ["tank", "PLACE", "place;DROP TABLE entities", "place'--", " "])
@pytest.mark.parametrize("url,params", [("/api/entities", {}), ("/api/resolve", {"name": "Homs"})])
def test_unknown_kind_is_400(client, url, params, kind):
    assert_error(client.get(url, query_string={**params, "kind": kind}), 400)


TRICKY_IDS = ["nope", "gn-999999999999", "..", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2fdocuments",
              "gn-169023%00", "gn-169023'--", "gn-169023%22%20OR%201=1", "%0Agn-169023",
              "a" * 300, "gn-169023%2F..%2F..%2F", "~root", "%C0%AE%C0%AE"]


@pytest.mark.parametrize("entity_id", TRICKY_IDS)
@pytest.mark.parametrize("template", ["/api/entities/{}", "/api/entities/{}/mentions",
                                      "/api/documents/{}", "/api/gazetteer.geojson?group={}",
                                      "/api/gazetteer.csv?group={}"])
def test_unknown_and_tricky_ids_are_json_4xx(client, template, entity_id):
    response = client.get(template.format(entity_id))
    assert response.status_code in (400, 404, 405), response.get_data(as_text=True)
    assert_error(response, response.status_code)


@pytest.mark.parametrize("path", ["/api/entities/../../etc/passwd", "/api/documents/../../x",
                                  "/static/../../gazetteer/config.py",
                                  "/static/%2e%2e/%2e%2e/gazetteer/config.py",
                                  "/static/..%2f..%2fgazetteer%2fconfig.py"])
def test_dot_dot_paths_reach_no_file(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"Settings" not in response.get_data()


@pytest.mark.parametrize("param,url", [("q", "/api/entities"), ("country", "/api/entities"),
                                       ("name", "/api/resolve"),
                                       ("group", "/api/gazetteer.geojson")])
@pytest.mark.parametrize("length", [201, 100_000])
def test_very_long_text_parameters_are_400(client, param, url, length):
    assert_error(client.get(url, query_string={param: "Homs " * (length // 5 + 1)}), 400)


HOSTILE_TEXT = ['"', '""', "*", "Idlib*", "^Idlib", "NEAR(a b)", "a NEAR b", "NEAR(Idlib Aleppo, 2)",
                '"unbalanced', "unbalanced'", "(((", ")", "name:Idlib", "key:idlib", "-Idlib",
                "a AND b OR NOT c", "'; DROP TABLE entities; --", "' OR '1'='1",
                "1; DELETE FROM documents", "x\") OR 1=1 --", "%", "_", "\\", "\x00", "\u202e",
                '"' * 200, "Idlib' UNION SELECT * FROM documents --"]


@pytest.mark.parametrize("param,url", [("q", "/api/entities"), ("country", "/api/entities"),
                                       ("name", "/api/resolve"),
                                       ("group", "/api/gazetteer.geojson"),
                                       ("group", "/api/gazetteer.csv")])
@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_fts_syntax_and_sql_in_parameters_are_just_text(client, param, url, text):
    response = client.get(url, query_string={param: text})
    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)
    if response.status_code != 200:
        assert_error(response, response.status_code)
    elif param == "q":
        everything = client.get("/api/entities").get_json()["total"]
        assert response.get_json()["total"] < everything  # no OR 1=1 that matches all


def test_a_quoted_or_starred_name_still_finds_the_place(client):
    for q in ['"Jisr al-Shughur"', "Jisr*", "(jisr)", "jisr)", "'jisr"]:
        items = client.get("/api/entities", query_string={"q": q}).get_json()["items"]
        assert "gn-169023" in [i["id"] for i in items], q


# ---- files ----------------------------------------------------------------------------------

@contextmanager
def unprivileged():
    """Permissions do not stop root: run the block with the effective uid of nobody.
    (Nobody may not be able to read Python's own library either: import things first.)"""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.fixture
def folder():
    """A folder nobody can traverse (pytest's own tmp folders are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="gazetteer-bad-files-"))
    path.chmod(0o777)
    yield path
    for sub, dirs, _ in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(sub, name), 0o700)
    shutil.rmtree(path)


def hostile_folder(root: Path) -> dict[str, str]:
    """A folder of one good file and every kind of bad one; returns file name -> reason."""
    (root / "good.txt").write_text("Shelling was reported in Homs.", encoding="utf-8")
    (root / "locked.txt").write_text("Hama", encoding="utf-8")
    (root / "locked.txt").chmod(0o000)
    (root / "closed").mkdir()
    (root / "closed" / "inside.txt").write_text("Idlib", encoding="utf-8")
    (root / "closed").chmod(0o000)
    (root / "loop-a.txt").symlink_to(root / "loop-b.txt")
    (root / "loop-b.txt").symlink_to(root / "loop-a.txt")
    (root / "gone.txt").symlink_to(root / "nowhere.txt")
    (root / "dir-loop").symlink_to(root, target_is_directory=True)
    os.mkfifo(root / "pipe.txt")
    with open(root / "huge.txt", "wb") as sparse:  # 200 MB that take no disk and no memory
        sparse.truncate(200 * MB)
    return {"locked.txt": "Permission denied", "closed": "cannot read folder",
            "loop-a.txt": "link loop", "loop-b.txt": "link loop", "gone.txt": "broken",
            "pipe.txt": "not a regular file", "huge.txt": "over the limit"}


def test_every_bad_file_in_a_folder_is_skipped_by_name(folder):
    expected = hostile_folder(folder)
    tracemalloc.start()
    with unprivileged():
        items = list(read_paths([folder], LIMIT))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [d.text for d in items if not isinstance(d, Skipped)] == [
        "Shelling was reported in Homs."]
    skipped = {Path(s.source).name: s.reason for s in items if isinstance(s, Skipped)}
    assert set(skipped) == set(expected)
    for name, reason in expected.items():
        assert reason in skipped[name], (name, skipped[name])
    assert peak < 5 * MB  # the 200 MB file was refused by its size, not read


@pytest.mark.parametrize("name,reason", [("locked.txt", "Permission denied"),
                                         ("loop-a.txt", "link loop"), ("gone.txt", "broken"),
                                         ("pipe.txt", "not a regular file"),
                                         ("huge.txt", "over the limit"),
                                         ("closed", "cannot read folder")])
def test_a_bad_path_given_by_name_is_skipped_with_its_reason(folder, name, reason):
    hostile_folder(folder)
    with unprivileged():
        (item,) = read_paths([folder / name], LIMIT)
    assert isinstance(item, Skipped) and reason in item.reason, item


def test_a_file_longer_than_its_size_says_is_read_only_up_to_the_limit():
    """/dev/zero says it is empty and never ends: reading stops one byte over the limit."""
    tracemalloc.start()
    with pytest.raises(DocumentTooLarge):
        read_file(Path("/dev/zero"), MB)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3 * MB


def test_a_folder_given_as_a_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableDocument, match="cannot read"):
        read_file(tmp_path, LIMIT)


# ---- the CLI --------------------------------------------------------------------------------

def cli(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def assert_one_line_error(result, *words):
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("gazetteer: error:")]
    assert len(errors) == 1, result.output
    for word in words:
        assert word in errors[0], errors[0]


@pytest.fixture
def cli_db(tmp_path, reference_db):
    path = tmp_path / "cli.db"
    shutil.copy(reference_db, path)
    return path


@pytest.mark.parametrize("where,command,words", [
    ("missing folder", ["ingest", "-"], "cannot open"),
    ("missing folder", ["entities"], "no gazetteer database"),
    ("a folder", ["ingest", "-"], "cannot open"),
    ("a folder", ["entities"], "cannot open"),
    ("a folder", ["export", "geojson"], "cannot open"),
    ("a text file", ["ingest", "-"], "not a database"),
    ("a text file", ["entities"], "not a database"),
    ("a text file", ["export", "csv"], "not a database"),
])
def test_an_unusable_database_path_is_one_line(tmp_path, where, command, words):
    (tmp_path / "text.db").write_text("not sqlite", encoding="utf-8")
    path = {"missing folder": tmp_path / "missing" / "x.db", "a folder": tmp_path,
            "a text file": tmp_path / "text.db"}[where]
    assert_one_line_error(cli("--db", str(path), *command, input="Homs"), words)
    assert (tmp_path / "text.db").read_text(encoding="utf-8") == "not sqlite"


@pytest.mark.parametrize("name,words", [
    ("huge.txt", ("over the limit",)), ("locked.txt", ("Permission denied",)),
    ("loop-a.txt", ("cannot read",)), ("closed", ("cannot read",)),
])
def test_extract_of_a_bad_file_is_one_line(cli_db, folder, name, words):
    hostile_folder(folder)
    with unprivileged():
        result = cli("--db", str(cli_db), "extract", str(folder / name))
    assert_one_line_error(result, *words)


@pytest.mark.parametrize("data,words", [(b"\x00\x01\x02", ("binary",)),
                                        (b"caf\xe9", ("UTF-8",)), (b"", ("empty",))])
def test_extract_of_bad_stdin_is_one_line(cli_db, data, words):
    assert_one_line_error(cli("--db", str(cli_db), "extract", "-", input=data), *words)


def test_extract_of_an_endless_device_is_one_line(cli_db):
    assert_one_line_error(cli("--db", str(cli_db), "extract", "/dev/zero"), "over the limit")


@pytest.mark.parametrize("text", ["{not json", "[]", '{"documents": [{"text": "x"}]}',
                                  '{"documents": [{"text": "abc", "mentions": '
                                  '[{"start": 0, "end": 2, "text": "zz"}]}]}'])
def test_eval_of_a_bad_gold_file_is_one_line(cli_db, tmp_path, text):
    gold = tmp_path / "gold.json"
    gold.write_text(text, encoding="utf-8")
    assert_one_line_error(cli("--db", str(cli_db), "eval", str(gold)), str(gold))


def unprivileged_can_load_the_model() -> bool:
    """Whether nobody can read the package, its data and the spaCy model (a checkout or a
    virtualenv under /root cannot be read by nobody)."""
    import importlib.util

    import gazetteer

    from gazetteer.config import load_settings

    settings = load_settings(environ={})
    spec = importlib.util.find_spec(settings.spacy_model)
    paths = [Path(gazetteer.__file__).parent, settings.data_dir,
             Path(spec.origin).parent if spec and spec.origin else Path("/nonexistent")]
    with unprivileged():
        return all(os.access(p, os.R_OK | os.X_OK, effective_ids=True) for p in paths)


@pytest.mark.slow
def test_ingest_of_a_hostile_folder_adds_the_good_file_and_names_each_bad_one(folder,
                                                                            reference_db,
                                                                            shared_nlp):
    """As an unprivileged user: the database is shared, the bad files are not readable."""
    if not unprivileged_can_load_the_model():
        pytest.skip("the unprivileged user cannot read the package or the spaCy model here")
    docs = folder / "docs"
    docs.mkdir()
    docs.chmod(0o777)
    expected = hostile_folder(docs)
    db = folder / "cli.db"
    shutil.copy(reference_db, db)
    db.chmod(0o666)
    with unprivileged():
        result = cli("--db", str(db), "ingest", str(docs))
    assert result.exit_code == 0, result.output
    assert "added 1 document(s)" in result.output and f"{len(expected)} skipped" in result.output
    for name, reason in expected.items():
        (line,) = [s for s in result.output.splitlines() if s.startswith("skipped ")
                   and Path(s.split(":")[0][8:]).name == name]
        assert reason in line, line
    assert "Traceback" not in result.output
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT text FROM documents").fetchall() == [
        ("Shelling was reported in Homs.",)]
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
