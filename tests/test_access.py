"""Access: writes need the bearer token, reads can be made private (map included), CORS is
off unless configured, the production server limits request size, and no secret is logged."""

import shutil

import pytest

from gazetteer.web import create_app

from .serving import served
from .test_api import AUTH, TOKEN, assert_error

READS = ["/api/entities", "/api/entities/gn-169023", "/api/entities/gn-169023/mentions",
         "/api/resolve?name=Idlib", "/api/documents", "/api/gazetteer.geojson",
         "/api/gazetteer.csv", "/api/openapi.json", "/map", "/"]
WRITES = [("post", "/api/documents", {"text": "Shelling in Homs."}),
          ("patch", "/api/entities/gn-168519", {"name": "Kessab"}),
          ("post", "/api/entities/ag-jaish-al-islam/merge", {"other": "ag-liwa-al-islam"})]


def app_client(seeded_db, **config):
    return create_app({"TESTING": True, "DATABASE": str(seeded_db), **config}).test_client()


@pytest.mark.parametrize("url", READS)
def test_private_reads_cover_every_read_including_the_map(seeded_db, url):
    client = app_client(seeded_db, API_TOKEN=TOKEN, PRIVATE_READS=True)
    assert_error(client.get(url), 401)
    assert_error(client.get(url, headers={"Authorization": "Bearer not-it"}), 401)
    response = client.get(url, headers=AUTH)
    assert response.status_code == 200
    response.close()


def test_private_reads_leave_liveness_and_vendored_assets_open(seeded_db):
    client = app_client(seeded_db, API_TOKEN=TOKEN, PRIVATE_READS=True)
    assert client.get("/healthz").status_code == 200
    asset = client.get("/static/vendor/leaflet/leaflet.js")
    assert asset.status_code == 200
    asset.close()


@pytest.mark.parametrize("method,url,body", WRITES)
def test_writes_are_refused_without_a_configured_token(seeded_db, method, url, body):
    client = app_client(seeded_db)
    assert_error(getattr(client, method)(url, json=body, headers=AUTH), 403)


@pytest.mark.parametrize("method,url,body", WRITES)
@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", f"bearer{TOKEN}", f"Token {TOKEN}",
                                    f"Bearer {TOKEN} ", f"Bearer {TOKEN.upper()}",
                                    "Bearer \u00e9\u00e8", f"Bearer {TOKEN}\u00e9"])
def test_writes_need_exactly_the_token(seeded_db, method, url, body, header):
    client = app_client(seeded_db, API_TOKEN=TOKEN)
    assert_error(getattr(client, method)(url, json=body, headers={"Authorization": header}), 401)


def test_cors_is_off_by_default(seeded_db):
    client = app_client(seeded_db)
    for method in ("get", "options"):
        response = getattr(client, method)("/api/entities",
                                           headers={"Origin": "https://example.org"})
        assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allows_only_the_configured_origins(seeded_db):
    client = app_client(seeded_db, CORS_ORIGINS="https://maps.example.org, https://b.example")
    allowed = client.get("/api/entities", headers={"Origin": "https://maps.example.org"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://maps.example.org"
    assert allowed.headers["Vary"] == "Origin"
    for origin in ("https://evil.example", "https://maps.example.org.evil.example", "null"):
        response = client.get("/api/entities", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in response.headers, origin


@pytest.mark.slow
def test_the_production_server_limits_bodies_answers_in_json_and_logs_no_secret(
        tmp_path, seeded_db):
    """`gazetteer serve` in a child process, as deployed: a 20 MB body is a JSON 413, writes
    and (when private) reads need the token, CORS is off, and the token never reaches the
    log, however it is sent."""
    db = tmp_path / "served.db"
    shutil.copy(seeded_db, db)
    secret = "tok-" + "9f3b" * 8
    with served(db, tmp_path / "serve.log", api_token=secret, private_reads="true") as server:
        auth = {"Authorization": f"Bearer {secret}"}
        status, body = server.json("POST", "/api/documents", body=b"x" * (20 * 1024 * 1024),
                                   headers={**auth, "Content-Type": "text/plain"})
        assert status == 413 and body["error"]["code"]
        for headers in ({}, {"Authorization": f"Bearer {secret[:-1]}"},
                        {"Authorization": secret}, {"Authorization": f"Basic {secret}"}):
            assert server.json("GET", "/api/entities", headers=headers)[0] == 401
            status, body = server.json("POST", "/api/documents", body=b'{"text": "Homs"}',
                                       headers={**headers, "Content-Type": "application/json"})
            assert status == 401 and secret not in str(body)
        status, headers, _ = server.request("GET", "/api/entities",
                                            headers={**auth, "Origin": "https://evil.example"})
        assert status == 200 and "Access-Control-Allow-Origin" not in headers
        status, body = server.json("POST", "/api/documents", body=b"[" * 100_000,
                                   headers={**auth, "Content-Type": "application/json"})
        assert status == 400
    log = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert "gazetteer: serving" in log  # the log was captured...
    assert secret not in log and secret[4:20] not in log  # ...and holds no part of the token
