"""The map in a real headless Chromium (Debian's), against a live waitress server."""

from pathlib import Path

import pytest

from gazetteer.web import create_app

from .serving import HAS_CHROMIUM, chromium_tab, threaded

SCREENSHOT = Path(__file__).parent.parent / "docs" / "map.png"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not HAS_CHROMIUM, reason="needs Debian's chromium")]


@pytest.fixture(scope="module")
def live_url(seeded_db, tmp_path_factory):
    # A tile layer that cannot load: markers must show without tiles (no internet here).
    app = create_app({"DATABASE": str(seeded_db), "TILES": "http://127.0.0.1:9/{z}/{x}/{y}.png"})
    with threaded(app) as url:
        yield url


@pytest.fixture(scope="module")
def page(live_url):
    with chromium_tab() as tab:
        tab.goto(live_url + "/map")
        tab.wait_for_selector(".marker-cluster")
        yield tab


def drawn_circles(page) -> int:
    """Circle markers actually drawn on the map (hidden ones have an empty path)."""
    return page.evaluate("""() => [...document.querySelectorAll('path.leaflet-interactive')]
        .filter(p => p.getAttribute('d') && p.getAttribute('d') !== 'M0 0').length""")


def test_markers_render_without_tiles(page):
    clusters = page.locator(".marker-cluster").count()
    assert clusters + drawn_circles(page) >= 5
    assert page.ran == []
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
    assert page.ran == []
