"""The Folium map at / and /map: clustered places sized by mentions, a layer per major armed
group, a search box over every alias; assets served from static/ so it works offline."""

from __future__ import annotations

import html
import json
import math

import folium
from branca.element import MacroElement, Template
from flask import Blueprint, Response, url_for
from folium.plugins import MarkerCluster

from .. import store
from .services import get_db, settings

bp = Blueprint("map", __name__)
MAJOR_GROUPS = 8  # armed groups that get a layer of their own
DEFAULT_CENTRE = (35.0, 38.0)  # Syria, the theatre of the seed corpus


def _static(path: str) -> str:
    return url_for("static", filename=path)


def _offline_assets(m: folium.Map, cluster: MarkerCluster) -> None:
    """Point folium at our vendored Leaflet, markercluster and jQuery (folium popups use $)."""
    m.default_js = [("leaflet", _static("vendor/leaflet/leaflet.js")),
                    ("jquery", _static("vendor/jquery/jquery.min.js"))]
    m.default_css = [("leaflet_css", _static("vendor/leaflet/leaflet.css")),
                     ("map_css", _static("map.css"))]
    cluster.default_js = [("markerclusterjs",
                           _static("vendor/markercluster/leaflet.markercluster.js"))]
    cluster.default_css = [("markerclustercss", _static("vendor/markercluster/MarkerCluster.css")),
                           ("markerclusterdefaultcss",
                            _static("vendor/markercluster/MarkerCluster.Default.css"))]


def _base_map(tiles: str) -> folium.Map:
    m = folium.Map(location=DEFAULT_CENTRE, zoom_start=6, tiles=None, control_scale=True)
    m.options["maxZoom"] = 18  # MarkerCluster needs it when the tile layer is absent
    if tiles.lower() != "none":
        if tiles.startswith("http"):
            folium.TileLayer(tiles=tiles, attr="tiles", name="tiles").add_to(m)
        else:
            folium.TileLayer(tiles, name=tiles).add_to(m)
    return m


def html_text(value: str) -> str:
    """Escape a string for HTML that folium then pastes into a JavaScript template literal
    (popups and tooltips are `...` strings): besides <>&"', a backslash, a backtick or ${
    from a document would end the literal or run code, so they become entities too."""
    return (html.escape(value).replace("\\", "&#92;").replace("`", "&#96;")
            .replace("$", "&#36;"))


def popup_html(place: dict, aliases: list[str], groups: list[dict]) -> str:
    """The popup; every string from a document is escaped."""
    e = html_text
    api = url_for("api.get_entity", entity_id=place["id"])
    mentions = url_for("api.entity_mentions", entity_id=place["id"])
    group_items = "".join(f"<li>{e(g['name'])} ({g['count']})</li>" for g in groups[:12])
    alias_text = ", ".join(e(a) for a in aliases[:12])
    return (f'<div class="place-popup"><h4 class="place-name">{e(place["name"])}</h4>'
            f"<p><b>Aliases:</b> {alias_text}</p>"
            f"<p><b>Mentions:</b> {place['mentions']} in {place['documents']} document(s)"
            f" &middot; precision {e(str(place.get('precision') or '-'))}</p>"
            f"<p><b>Armed groups mentioned with it:</b></p><ul>{group_items or '<li>none</li>'}</ul>"
            f'<p><a href="{e(api)}" target="_blank">API record</a> &middot; '
            f'<a href="{e(mentions)}" target="_blank">mentions and documents</a></p></div>')


def _marker(place: dict, aliases: list[str], groups: list[dict]) -> folium.CircleMarker:
    radius = 5 + 3 * math.log2(1 + place["mentions"])
    return folium.CircleMarker(
        location=(place["lat"], place["lon"]), radius=radius, weight=1, fill=True,
        fill_opacity=0.7, color="#8b1e3f", fill_color="#c0392b",
        popup=folium.Popup(popup_html(place, aliases, groups), max_width=360),
        tooltip=folium.Tooltip(html_text(place["name"])))


class SearchBox(MacroElement):
    """A search box over every alias, in any spelling: it asks the API (which folds
    transliterations) and shows the results with textContent, never as HTML."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var markers = {{ this.markers }};
  var map = {{ this._parent.get_name() }};
  var cluster = {{ this.cluster }};
  var searchUrl = {{ this.search_url }};
  var box = L.control({position: 'topleft'});
  box.onAdd = function () {
    var div = L.DomUtil.create('div', 'place-search leaflet-bar');
    var input = L.DomUtil.create('input', '', div);
    input.id = 'place-search'; input.type = 'search';
    input.placeholder = 'Find a place (any spelling)';
    var list = L.DomUtil.create('ul', '', div);
    list.id = 'place-search-results';
    L.DomEvent.disableClickPropagation(div);
    var timer = null;
    function show(items) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      items.filter(function (item) { return markers[item.id]; }).forEach(function (item) {
        var li = document.createElement('li');
        li.textContent = item.name;
        li.addEventListener('click', function () {
          var marker = window[markers[item.id]];
          cluster.zoomToShowLayer(marker, function () { marker.openPopup(); });
        });
        list.appendChild(li);
      });
    }
    input.addEventListener('input', function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { show([]); return; }
      timer = setTimeout(function () {
        fetch(searchUrl + '?kind=place&limit=20&q=' + encodeURIComponent(q))
          .then(function (r) { return r.ok ? r.json() : {items: []}; })
          .then(function (body) { if (input.value.trim() === q) { show(body.items); } });
      }, 150);
    });
    return div;
  };
  box.addTo(map);
})();
{% endmacro %}
""")

    def __init__(self, markers: dict[str, str], cluster: MarkerCluster, search_url: str) -> None:
        super().__init__()
        self._name = "SearchBox"
        # "</" is escaped so that no id can close the script element.
        self.markers = json.dumps(markers, ensure_ascii=True).replace("</", "<\\/")
        self.search_url = json.dumps(search_url)
        self.cluster = cluster.get_name()


def build_map(db, tiles: str) -> folium.Map:
    """The whole map, from the store."""
    m = _base_map(tiles)
    cluster = MarkerCluster(name="All places", control=True)
    _offline_assets(m, cluster)
    cluster.add_to(m)
    layers = _group_layers(db)
    markers: dict[str, str] = {}
    for place, aliases, groups in store.iter_geocoded_places(db):
        marker = _marker(place, aliases, groups)
        marker.add_to(cluster)
        markers[place["id"]] = marker.get_name()
        for group in groups:
            if group["id"] in layers:
                _marker(place, aliases, groups).add_to(layers[group["id"]])
    for layer in layers.values():
        layer.add_to(m)
    SearchBox(markers, cluster, url_for("api.list_entities")).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _group_layers(db) -> dict[str, folium.FeatureGroup]:
    rows, _ = store.list_entities(db, kind="armed_group", limit=MAJOR_GROUPS)
    return {r["id"]: folium.FeatureGroup(name=html.escape(r["name"]), show=False)
            for r in rows if r["mentions"]}


@bp.get("/")
@bp.get("/map")
def show_map():
    page = build_map(get_db(), settings().tiles).get_root().render()
    return Response(page, mimetype="text/html")
