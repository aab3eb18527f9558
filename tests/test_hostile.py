"""Hostile text: names holding markup, quotes, backslashes, backticks and ${...} are stored as
text, and neither the API nor the map (popups, tooltips, search box, layer names) runs them.

The names reach the database the two ways names do: extracted from a posted document, and set
by a curator (PATCH). The payloads call alert() and set window.__pwned, so the browser test
sees any that run."""

import csv
import io
import json
import shutil

import pytest

from gazetteer import store
from gazetteer.web import create_app

from .conftest import writable_app
from .serving import HAS_CHROMIUM, chromium_tab, threaded
from .test_api import AUTH, TOKEN

# Spellings as they come in messy reports: a backslash, a backtick for the ʿayn, quotes;
# plus markup that must stay text in the stored document.
HOSTILE_DOCUMENT = """Hostile names report

Government forces shelled Kafr\\u12Zita near Hama.
Rebels entered Tell`Aran near Aleppo.
Government forces shelled Kafr"Zita and Kafr'Zita near Hama.
Regime jets bombed the village of Umm\\Sharshuh in Homs province.
Fighters of Jaish al-Izza<script>alert(1)</script> entered Kafr Nabudah in Hama province.
Fighters of Liwa Ahfad<img src=x onerror=alert(2)> entered Idlib.
"""
PLACE_NAME = '<script>window.__pwned = 1; alert(1)</script>Kafr "Zita" \\u12 \\'
PLACE_ALIASES = ['<img src=x onerror="window.__pwned = 2; alert(2)">',
                 "${window.__pwned = 3}", "`+alert(4)+`", "</script><script>alert(5)</script>",
                 "'\"><svg onload=alert(6)>", "C:\\x41\\1\\\\"]
GROUP_NAME = '<img src=x onerror="window.__pwned = 7; alert(7)">Jaysh "al-Izza" \\u`${1}`'
PLACE = "place-x-um-sharshu"  # Umm\Sharshuh, unknown to GeoNames: one alias, all shown
RAW_MARKUP = ["<script>window.__pwned", "<img src=x onerror", "<svg onload", "${window",
              "`+alert"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, reference_db, shared_nlp):
    """A database holding the hostile document and the hostile curations, and its app."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    shutil.copy(reference_db, path)
    app = writable_app(path, shared_nlp, API_TOKEN=TOKEN)
    client = app.test_client()
    posted = client.post("/api/documents", data=HOSTILE_DOCUMENT.encode(),
                         content_type="text/plain", headers=AUTH)
    assert posted.status_code == 201, posted.get_data(as_text=True)
    for entity_id, body in [(PLACE, {"name": PLACE_NAME, "add_aliases": PLACE_ALIASES}),
                            ("ag-jaysh-al-izza", {"name": GROUP_NAME})]:
        response = client.patch(f"/api/entities/{entity_id}", json=body, headers=AUTH)
        assert response.status_code == 200, response.get_data(as_text=True)
    return app, path, posted.get_json()["id"]


def test_the_document_and_the_names_are_stored_byte_for_byte(hostile):
    _, path, document_id = hostile
    db = store.open_db(path, create=False)
    assert store.get_document(db, document_id)["text"] == HOSTILE_DOCUMENT.replace("\r\n", "\n")
    observed = {m["text"] for m in store.document_mentions(db, document_id)}
    assert {"Kafr\\u12Zita", "Tell`Aran", 'Kafr"Zita', "Kafr'Zita", "Umm\\Sharshuh"} <= observed
    assert store.get_entity(db, PLACE)["name"] == PLACE_NAME
    assert store.get_entity(db, "ag-jaysh-al-izza")["name"] == GROUP_NAME
    aliases = {a["name"] for a in store.entity_aliases(db, PLACE)}
    assert set(PLACE_ALIASES) <= aliases


def test_api_responses_return_the_names_as_json_text(hostile):
    app, _, document_id = hostile
    client = app.test_client()
    responses = {
        "entity": client.get(f"/api/entities/{PLACE}"),
        "neighbour": client.get("/api/entities/sup-kafr-nabudah"),
        "group": client.get("/api/entities/ag-jaysh-al-izza"),
        "search": client.get("/api/entities", query_string={"q": "script pwned"}),
        "document": client.get(f"/api/documents/{document_id}"),
        "resolve": client.get("/api/resolve", query_string={"name": PLACE_NAME[:200]}),
        "error": client.get("/api/entities/<script>alert(1)</script>"),
    }
    for name, response in responses.items():
        assert response.mimetype == "application/json", name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.get_json() is not None, name
    assert responses["entity"].get_json()["name"] == PLACE_NAME
    assert set(PLACE_ALIASES) <= {a["name"] for a in responses["entity"].get_json()["aliases"]}
    assert GROUP_NAME in [g["name"] for g in responses["neighbour"].get_json()["armed_groups"]]
    assert responses["group"].get_json()["name"] == GROUP_NAME
    assert PLACE in [i["id"] for i in responses["search"].get_json()["items"]]
    assert responses["document"].get_json()["text"] == HOSTILE_DOCUMENT
    assert responses["error"].status_code == 404


def test_downloads_hold_the_names_as_data(hostile):
    app, _, _ = hostile
    client = app.test_client()
    geojson = client.get("/api/gazetteer.geojson")
    assert geojson.mimetype == "application/geo+json"
    assert "attachment" in geojson.headers["Content-Disposition"]
    features = {f["id"]: f for f in json.loads(geojson.get_data(as_text=True))["features"]}
    assert features[PLACE]["properties"]["name"] == PLACE_NAME
    assert set(PLACE_ALIASES) <= set(features[PLACE]["properties"]["aliases"])
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(client.get(
        "/api/gazetteer.csv").get_data(as_text=True).removeprefix("\ufeff")))}
    assert rows[PLACE]["name"] == PLACE_NAME


def test_the_map_page_holds_no_names(hostile):
    app, _, _ = hostile
    page = app.test_client().get("/map").get_data(as_text=True)
    for raw in RAW_MARKUP + ["Kafr\\u12Zita", "Tell`Aran", "Umm\\Sharshuh", "Sharshuh"]:
        assert raw not in page, raw  # the shell holds no data: names come as JSON


def test_pages_escape_every_name(hostile):
    app, _, document_id = hostile
    client = app.test_client()
    for path in (f"/entities/{PLACE}", "/entities/ag-jaysh-al-izza", f"/documents/{document_id}",
                 "/entities/sup-kafr-nabudah"):
        page = client.get(path).get_data(as_text=True)
        for raw in RAW_MARKUP[:3]:  # markup; `${` and backticks are plain text in HTML
            assert raw not in page, (path, raw)


# ---- in a real browser ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def live_url(hostile):
    app, path, _ = hostile
    with threaded(create_app({"DATABASE": str(path), "TILES": "none"})) as url:
        yield url


@pytest.fixture(scope="module")
def browser_page(live_url):
    with chromium_tab() as tab:
        yield tab


OPEN_EVERY_MARKER = """async () => {
  const app = window.gazetteerApp, shown = [];
  for (const id of Object.keys(app.markers)) {
    const marker = app.markers[id];
    marker.openPopup();
    shown.push({id: id, popup: marker.getPopup().getElement().innerText,
                title: marker.getElement().getAttribute('title')});
  }
  await new Promise(done => setTimeout(done, 500));  // group names are fetched as JSON
  return shown.map(s => Object.assign(s, {popup: app.markers[s.id].getPopup().getContent().innerText}));
}"""


@pytest.mark.browser
@pytest.mark.skipif(not HAS_CHROMIUM, reason="needs Debian's chromium")
def test_no_hostile_name_runs_in_the_map(browser_page, live_url):
    page = browser_page
    page.goto(live_url + "/map")
    page.wait_for_selector(".place-marker", timeout=10_000)
    page.evaluate("gazetteerApp.map.setView([35, 37], 6)")
    page.wait_for_timeout(800)
    shown = page.evaluate(OPEN_EVERY_MARKER)
    titles = {s["title"] for s in shown}
    assert {"Kafr\\u12Zita", "Tell`Aran"} <= titles
    assert page.evaluate("window.__pwned") is None and page.ran == []
    # the legend and the group filter name the group as text; choosing it runs nothing
    legend = page.locator(".map-legend button", has_text="Jaysh")
    assert GROUP_NAME in legend.inner_text()
    legend.click()
    page.wait_for_timeout(500)
    # the search box lists the names as text, and opens the popup
    page.fill("#place-search", "script pwned")
    result = page.locator("#place-search-results button").first
    result.wait_for()
    assert result.inner_text().startswith(PLACE_NAME)
    page.goto(live_url + f"/entities/{PLACE}")
    assert PLACE_NAME == page.locator("h1").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.ran == []


@pytest.mark.browser
@pytest.mark.skipif(not HAS_CHROMIUM, reason="needs Debian's chromium")
def test_no_hostile_name_runs_from_an_api_response(browser_page, live_url, hostile):
    page = browser_page
    document_id = hostile[2]
    for path in [f"/api/entities/{PLACE}", "/api/entities?q=script%20pwned",
                 f"/api/documents/{document_id}", "/api/entities/ag-jaysh-al-izza",
                 "/api/entities/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                 "/api/resolve?name=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"]:
        page.goto(live_url + path)
        assert page.locator("script, img, svg").count() == 0, path
        assert page.evaluate("window.__pwned") is None, path
    assert page.ran == []
