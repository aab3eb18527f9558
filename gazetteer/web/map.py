"""The map at / and /map: a folium shell of constant size (Leaflet, the offline Natural Earth
base map, our map script), rendered once per app; every place on it comes from the JSON API
by view (/api/map/points), so the page does not grow with the store."""

from __future__ import annotations

import json

import folium
from branca.element import Figure, JavascriptLink, MacroElement, Template
from flask import Blueprint, Response, current_app, url_for

from .services import settings

bp = Blueprint("map", __name__)
DEFAULT_CENTRE = (35.0, 38.0)  # Syria, the theatre of the seed corpus


def _static(path: str) -> str:
    return url_for("static", filename=path)


def _offline_assets(m: folium.Map) -> None:
    """Point folium at our vendored Leaflet (no CDN), and add the base map and map scripts."""
    m.default_js = [("leaflet", _static("vendor/leaflet/leaflet.js"))]
    m.default_css = [("leaflet_css", _static("vendor/leaflet/leaflet.css")),
                     ("map_css", _static("map.css"))]
    root = m.get_root()
    assert isinstance(root, Figure)
    for script in ("vendor/topojson-client/topojson-client.min.js", "basemap.js", "map.js"):
        root.header.add_child(JavascriptLink(_static(script)))


def _online_tiles(m: folium.Map, tiles: str) -> None:
    """Online tiles only when asked for (GAZETTEER_TILES): they tell the tile server which
    area the analyst is looking at."""
    if tiles.lower() in ("", "none", "offline"):
        return
    if tiles.startswith("http"):
        folium.TileLayer(tiles=tiles, attr="tiles", name="tiles").add_to(m)
    else:
        folium.TileLayer(tiles, name=tiles).add_to(m)


class MapApp(MacroElement):
    """Starts static/map.js on the folium map with the API's URLs."""

    _template = Template("""
{% macro script(this, kwargs) %}
GazetteerMap.start({{ this._parent.get_name() }}, {{ this.config }});
{% endmacro %}
""")

    def __init__(self, config: dict) -> None:
        super().__init__()
        self._name = "MapApp"
        self.config = json.dumps(config, ensure_ascii=True).replace("</", "<\\/")


def build_shell(tiles: str) -> folium.Map:
    """The map page: no data in it, only where to ask for it."""
    m = folium.Map(location=DEFAULT_CENTRE, zoom_start=6, tiles=None, control_scale=True,
                   prefer_canvas=False, max_zoom=18, min_zoom=1, world_copy_jump=False)
    _offline_assets(m)
    _online_tiles(m, tiles)
    MapApp({"points": url_for("mapdata.map_points"), "legend": url_for("mapdata.map_legend"),
            "entities": url_for("api.list_entities"),
            "entityApi": url_for("api.get_entity", entity_id="ID"),
            "entityPage": url_for("pages.entity_page", entity_id="ID"),
            "static": _static("")}
           ).add_to(m)
    return m


@bp.get("/")
@bp.get("/map")
def show_map():
    cache: dict = current_app.extensions.setdefault("gazetteer_map_page", {})
    key = settings().tiles
    if key not in cache:
        page = build_shell(key).get_root().render()
        page = page.replace("<head>", '<head>\n<title>gazetteer: map</title>'
                            '<link rel="icon" href="data:,">', 1)
        cache[key] = page
    return Response(cache[key], mimetype="text/html")
