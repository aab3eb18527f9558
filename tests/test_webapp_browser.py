"""The analyst's web app in a real headless Chromium (Debian's) against live waitress
servers on 127.0.0.1: the offline base map with no third-party request, a map shell of the
same size for the seeds and for 200,000+ places, group colours and legend, search over places
and groups, pages that lead to the sources, and every curation done and undone in the
browser. The README's screenshots are taken here, offline: into the folder
GAZETTEER_SCREENSHOTS names (`GAZETTEER_SCREENSHOTS=docs` refreshes the README's), else into
the test's temporary folder, so a test run leaves the checkout as it was."""

import os
import random
import re
import shutil
from pathlib import Path

import pytest

from gazetteer import store
from gazetteer.web import create_app

from .conftest import writable_app
from .serving import HAS_CHROMIUM, chromium_tab, threaded
from .test_api import TOKEN

BIG_STORE_PLACES = 200_500
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not HAS_CHROMIUM, reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def live_url(seeded_db):
    with threaded(create_app({"DATABASE": str(seeded_db)})) as url:  # default: no tiles
        yield url


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: GAZETTEER_SCREENSHOTS (relative to the repository), else a
    temporary folder."""
    wanted = os.environ.get("GAZETTEER_SCREENSHOTS")
    folder = (Path(__file__).parent.parent / wanted if wanted
              else tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def tab():
    with chromium_tab() as page:
        yield page


def outside_requests(page, base: str) -> list[str]:
    """Abort and record every request that would leave the server under test."""
    leaving: list[str] = []

    def check(route):
        if route.request.url.startswith(base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            leaving.append(route.request.url)
            route.abort()

    page.route("**/*", check)
    return leaving


def open_map(page, url: str) -> None:
    page.goto(url + "/map")
    page.wait_for_selector(".basemap-drawn", timeout=15_000)
    page.wait_for_selector(".place-marker, .map-cluster", timeout=15_000)


def test_base_map_is_drawn_offline_with_no_third_party_request(tab, live_url, shots):
    leaving = outside_requests(tab, live_url)
    open_map(tab, live_url)
    land = tab.locator(".leaflet-basemap-pane path.basemap-land")
    borders = tab.locator(".leaflet-basemap-pane path.basemap-border")
    assert land.count() >= 1 and borders.count() >= 1
    assert len(land.first.get_attribute("d")) > 5_000  # coastlines, not a placeholder
    tab.wait_for_selector(".basemap-label.country")
    assert "Syria" in tab.locator(".basemap-label.country").all_inner_texts()
    tab.wait_for_timeout(300)
    assert leaving == [] and tab.ran == []
    tab.screenshot(path=str(shots / "map.png"))
    assert (shots / "map.png").stat().st_size > 10_000
    tab.unroute("**/*")


def test_group_colours_legend_and_time_filter(tab, live_url):
    open_map(tab, live_url)
    legend = tab.locator(".map-legend h2").inner_text()
    assert "same sentence" in legend
    swatches = tab.eval_on_selector_all(".map-legend .swatch:not(.swatch-approximate)",
                                        "els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert len(swatches) >= 4 and len(set(swatches)) == len(swatches)
    colours = tab.eval_on_selector_all(".place-marker", "els => els.map(e => "
                                       "e.style.getPropertyValue('--marker-colour'))")
    assert len(set(colours)) >= 3  # several groups' colours on the map
    assert tab.locator(".place-marker.place-approximate").count() >= 1
    # the seeds carry no dates yet: the time filter says so instead of filtering nothing
    assert tab.locator("#filter-since").is_disabled()
    assert "time filter is off" in tab.locator(".map-filters").inner_text()


def test_search_finds_a_group_and_filters_the_map_by_it(tab, live_url):
    open_map(tab, live_url)
    before = tab.locator(".place-marker").count()
    tab.fill("#place-search", "Daesh")
    group = tab.locator("#place-search-results button[data-kind=armed_group]").first
    group.wait_for()
    assert group.get_attribute("data-id") == "ag-isis"
    loaded = tab.locator(".leaflet-container").get_attribute("data-loaded")
    group.click()
    tab.wait_for_function(f"document.querySelector('.leaflet-container')"
                          f".getAttribute('data-loaded') !== '{loaded}'")
    assert tab.locator("#filter-group").input_value() == "ag-isis"
    colours = set(tab.eval_on_selector_all(".place-marker", "els => els.map(e => "
                                           "e.style.getPropertyValue('--marker-colour'))"))
    assert len(colours) == 1 and 0 < tab.locator(".place-marker").count() < before


def test_search_finds_a_place_and_its_popup_links_to_its_page(tab, live_url):
    open_map(tab, live_url)
    tab.fill("#place-search", "jesr al-shughour")
    place = tab.locator("#place-search-results button[data-kind=place]").first
    place.wait_for()
    place.focus()
    tab.keyboard.press("Enter")  # the keyboard works as well as the mouse
    link = tab.locator(".leaflet-popup-content .place-name a")
    link.wait_for(timeout=10_000)
    assert link.inner_text() == "Jisr al-Shughur"
    assert link.get_attribute("href") == "/entities/gn-169023"
    assert tab.locator(".leaflet-popup-content a[href^='/api']").count() == 0
    assert tab.ran == []


def test_markers_open_from_the_keyboard(tab, live_url):
    open_map(tab, live_url)
    tab.locator(".place-marker").first.focus()
    tab.keyboard.press("Enter")
    tab.locator(".leaflet-popup-content .place-name").wait_for(timeout=5_000)


def test_entity_page_with_map_sentences_and_sources(tab, live_url, shots):
    tab.goto(live_url + "/entities/gn-169023")
    tab.wait_for_selector("#entity-map.basemap-drawn")
    marks = tab.locator(".mentions blockquote mark")
    assert marks.count() >= 10 and "Jisr" in marks.first.inner_text()
    source = tab.locator(".mentions .cite a[href^='/documents/']").first
    assert source.inner_text()  # the document's title
    tab.screenshot(path=str(shots / "entity.png"))
    source.click()
    tab.wait_for_selector(".doc-text a.ent-place")
    assert tab.locator(".doc-text a.ent-armed_group").count() >= 5
    hrefs = tab.eval_on_selector_all(".doc-text a.ent", "els => els.map(e => e.getAttribute('href'))")
    assert all(re.match(r"^/entities/[a-z]", h) for h in hrefs)
    tab.locator(".doc-text a.ent-armed_group").first.scroll_into_view_if_needed()
    tab.screenshot(path=str(shots / "document.png"))
    assert tab.ran == []


def test_pages_fit_a_phone(tab, live_url):
    tab.set_viewport_size({"width": 390, "height": 844})
    try:
        for path in ("/entities/gn-169023", "/map"):
            tab.goto(live_url + path)
            wide = tab.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390, path
        tab.wait_for_selector(".map-panel")
        assert tab.locator("#place-search").is_visible()
    finally:
        tab.set_viewport_size({"width": 1280, "height": 800})


# ---- a store of 200,000+ places ---------------------------------------------------------------

@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    """200,500 places written straight into a fresh store (the map reads only entities)."""
    path = tmp_path_factory.mktemp("big") / "big.db"
    db = store.open_db(path)
    rng = random.Random(15)
    rows = [(f"gn-{9_000_000 + i}", "place", f"Place {i}", rng.uniform(-55, 70),
             rng.uniform(-180, 180), rng.choice(["SY", "IQ", "FR", "BR", "IN"]),
             rng.choice([1, 1, 1, 2]), 0.9, "resolved") for i in range(BIG_STORE_PLACES)]
    with store.transaction(db):
        db.conn.executemany("INSERT INTO entities (id, kind, name, lat, lon, country, "
                            "precision, confidence, status) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def test_big_store_map_is_the_same_shell_and_draws(tab, live_url, big_store):
    """The shell's size does not grow with the store and markers come; how fast they come
    is printed, not asserted (speed goals are measured side by side in bench/, not timed
    on a shared machine)."""
    import urllib.request

    with threaded(create_app({"DATABASE": str(big_store)})) as big_url:
        sizes = [len(urllib.request.urlopen(u + "/map").read()) for u in (live_url, big_url)]
        assert sizes[0] == sizes[1]
        tab.goto(big_url + "/map")
        tab.wait_for_selector(".place-marker, .map-cluster", timeout=15_000)
        first_drawn_ms = tab.evaluate("window.gazetteerFirstDrawn")  # since navigation
        print(f"\nbig store ({BIG_STORE_PLACES:,} places): first markers at "
              f"{first_drawn_ms:.0f} ms, map page {sizes[1]:,} bytes")
        total = tab.locator("#map-status").inner_text()
        assert "place(s) in view" in total
        tab.evaluate("gazetteerApp.map.setZoom(3)")  # pan and zoom: still clusters, no error
        tab.wait_for_selector(".map-cluster")
        assert tab.ran == []


# ---- curation in the browser ----------------------------------------------------------------

@pytest.fixture
def curator(tab, tmp_path, seeded_db, shared_nlp):
    """A writable server over a copy of the seeds; the module's tab (one Playwright per
    process), on a new origin each time, so its sessionStorage starts empty."""
    path = tmp_path / "curated.db"
    shutil.copy(seeded_db, path)
    app = writable_app(path, shared_nlp, API_TOKEN=TOKEN)
    urls: list[str] = []

    def record(request):
        urls.append(request.url)

    with threaded(app) as url:
        tab.on("request", record)
        try:
            yield tab, url, app, urls
        finally:
            tab.remove_listener("request", record)
            tab.goto("about:blank")


def sign_in(page) -> None:
    page.fill("#token", TOKEN)
    page.fill("#who", "analyst")
    page.click("#login button")
    page.wait_for_selector("#rename:visible")


def submit(page, form: str) -> None:
    with page.expect_navigation():
        page.click(f"{form} button")
    page.wait_for_selector("h1")


def undo_latest(page) -> None:
    with page.expect_navigation():
        page.locator("button.undo").last.click()


def test_each_curation_is_done_and_undone_in_the_browser(curator):
    page, url, app, urls = curator
    page.goto(url + "/entities/gn-168519")  # Kassab
    sign_in(page)
    name = page.locator("h1").inner_text()
    page.fill("#new-name", "Kessab (checked)")
    submit(page, "#rename")
    assert page.locator("h1").inner_text() == "Kessab (checked)"
    undo_latest(page)
    assert page.locator("h1").inner_text() == name

    page.fill("#lat", "35.9")
    page.fill("#lon", "35.95")
    submit(page, "#move")
    assert "35.90000, 35.95000" in page.locator(".facts").inner_text()
    undo_latest(page)
    assert "35.90000" not in page.locator(".facts").inner_text()

    page.fill("#alias", "Kasab-test")
    submit(page, "#add-alias")
    assert "Kasab-test" in page.locator(".aliases").inner_text()
    with page.expect_navigation():
        page.locator("button.remove-alias[data-alias='Kasab-test']").click()
    assert "Kasab-test" not in page.locator(".aliases").inner_text()
    undo_latest(page)
    assert "Kasab-test" in page.locator(".aliases").inner_text()

    page.goto(url + "/entities/ag-jaish-al-islam")
    page.fill("#other", "ag-liwa-al-islam")
    submit(page, "#merge")
    page.goto(url + "/entities/ag-liwa-al-islam")  # 308 to the survivor
    assert page.url.endswith("/entities/ag-jaish-al-islam")
    undo_latest(page)
    page.goto(url + "/entities/ag-liwa-al-islam")
    assert page.url.endswith("/entities/ag-liwa-al-islam")

    page.goto(url + "/entities/gn-285570")  # Kuwait
    page.select_option("#reason", "wrong place")
    submit(page, "#reject")
    assert "Rejected" in page.locator(".banner").inner_text()
    undo_latest(page)
    assert page.locator(".banner").count() == 0 and page.locator(".mentions li").count() >= 1

    page.goto(url + "/entities/gn-169023")
    form = page.locator("form.repoint").first
    form.locator("input").fill("gn-169389")
    with page.expect_navigation():
        form.locator("button").click()
    page.goto(url + "/entities/gn-169389")
    assert page.locator("h1").inner_text() and page.locator("button.undo").count() == 0
    page.goto(url + "/entities/gn-169023")
    undo_latest(page)
    assert page.ran == []
    assert not [u for u in urls if TOKEN in u]  # the token never travels in a URL


def test_browser_curation_survives_a_reingest(curator):
    page, url, app, urls = curator
    page.goto(url + "/entities/gn-168519")
    sign_in(page)
    page.fill("#new-name", "Kessab (checked)")
    submit(page, "#rename")
    page.goto(url + "/entities/gn-285570")
    page.select_option("#reason", "not a place")
    submit(page, "#reject")
    client = app.test_client()
    posted = client.post("/api/documents", headers={"Authorization": f"Bearer {TOKEN}"},
                         json={"text": "Kuwait sent aid; fighters left Kassab for Latakia."})
    assert posted.status_code == 201
    assert "gn-285570" not in {m["entity_id"] for m in posted.get_json()["mentions"]}
    page.goto(url + "/entities/gn-168519")
    assert page.locator("h1").inner_text() == "Kessab (checked)"
    page.goto(url + "/entities/gn-285570")
    assert "Rejected" in page.locator(".banner").inner_text()
