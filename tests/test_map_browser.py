"""The map in a real headless Chromium (Debian's), against a live waitress server."""

import shutil
import threading
from pathlib import Path

import pytest
from waitress.server import create_server

from gazetteer.web import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = Path(__file__).parent.parent / "docs" / "map.png"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def live_url(seeded_db, tmp_path_factory):
    # A tile layer that cannot load: markers must show without tiles (no internet here).
    app = create_app({"DATABASE": str(seeded_db), "TILES": "http://127.0.0.1:9/{z}/{x}/{y}.png"})
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture(scope="module")
def page(live_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        tab = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("dialog", lambda dialog: (errors.append("dialog: " + dialog.message),
                                         dialog.dismiss()))
        tab.goto(live_url + "/map")
        tab.wait_for_selector(".marker-cluster")
        tab.errors = errors
        yield tab
        browser.close()


def drawn_circles(page) -> int:
    """Circle markers actually drawn on the map (hidden ones have an empty path)."""
    return page.evaluate("""() => [...document.querySelectorAll('path.leaflet-interactive')]
        .filter(p => p.getAttribute('d') && p.getAttribute('d') !== 'M0 0').length""")


def test_markers_render_without_tiles(page):
    clusters = page.locator(".marker-cluster").count()
    assert clusters + drawn_circles(page) >= 5
    assert page.errors == []
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def test_search_by_alias_opens_the_right_popup(page):
    page.fill("#place-search", "jesr al-shughour")
    results = page.locator("#place-search-results li")
    results.first.wait_for()
    assert "Jisr" in results.first.inner_text()
    results.first.click()
    popup = page.locator(".leaflet-popup-content .place-name")
    popup.wait_for(timeout=10_000)
    assert popup.inner_text().startswith("Jisr")
    assert page.locator(".leaflet-popup-content a").first.get_attribute("href").startswith(
        "/api/entities/gn-169023")
    page.keyboard.press("Escape")


def test_a_group_layer_toggles(page):
    before = drawn_circles(page)
    toggle = page.locator(".leaflet-control-layers-overlays label", has_text="Nusra")
    toggle.locator("input").check()
    assert drawn_circles(page) > before
    toggle.locator("input").uncheck()
    assert drawn_circles(page) == before
    assert page.errors == []
