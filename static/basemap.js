/* The offline base map: Natural Earth land, coastlines and country borders (world-atlas
   TopoJSON, vendored), country and first-level region names; drawn by Leaflet in panes below
   the markers, at every zoom, with no network. */
(function () {
  'use strict';

  function pane(map, name, z) {
    var p = map.createPane(name);
    p.style.zIndex = z;
    p.style.pointerEvents = 'none';
    return p;
  }

  function inView(bounds, lat, lon) {
    return bounds.contains([lat, lon]);
  }

  function labelMarker(row, cls) {
    return L.marker([row[2], row[3]], {
      pane: 'baselabels', interactive: false, keyboard: false,
      icon: L.divIcon({className: 'basemap-label ' + cls, html: '', iconSize: null})
    });
  }

  function drawLabels(map, labels, layer) {
    layer.clearLayers();
    var zoom = map.getZoom(), bounds = map.getBounds().pad(0.1);
    var rows = [];
    if (zoom >= 3 && zoom <= 8) {
      labels.countries.forEach(function (r) { if (inView(bounds, r[2], r[3])) { rows.push([r, 'country']); } });
    }
    if (zoom >= 7) {
      labels.regions.forEach(function (r) { if (inView(bounds, r[2], r[3])) { rows.push([r, 'region']); } });
    }
    rows.slice(0, 400).forEach(function (item) {
      var marker = labelMarker(item[0], item[1]);
      marker.addTo(layer);
      marker.getElement().textContent = item[0][0];  // names are text, never HTML
    });
  }

  window.GazetteerBase = {
    /* Draw the base map on a Leaflet map; staticUrl is the /static/ prefix. Returns a
       promise resolved when the outlines are drawn. */
    draw: function (map, staticUrl, options) {
      options = options || {};
      map.getContainer().classList.add('basemap-sea');
      pane(map, 'basemap', 150);
      pane(map, 'baselabels', 350);
      var renderer = L.svg({pane: 'basemap'});
      var drawn = fetch(staticUrl + 'vendor/world-atlas/countries-50m.json')
        .then(function (r) { return r.json(); })
        .then(function (topo) {
          var land = topojson.feature(topo, topo.objects.land);
          var borders = topojson.mesh(topo, topo.objects.countries, function (a, b) { return a !== b; });
          L.geoJSON(land, {pane: 'basemap', renderer: renderer, interactive: false,
                           style: {className: 'basemap-land', color: '#6f7f8f', weight: 0.8,
                                   fillColor: '#f3efe6', fillOpacity: 1}}).addTo(map);
          L.geoJSON(borders, {pane: 'basemap', renderer: renderer, interactive: false,
                              style: {className: 'basemap-border', color: '#9b8aa3', weight: 1,
                                      fill: false}}).addTo(map);
          map.getContainer().classList.add('basemap-drawn');
        });
      if (options.labels !== false) {
        var layer = L.layerGroup().addTo(map);
        fetch(staticUrl + 'basemap/labels.json')
          .then(function (r) { return r.json(); })
          .then(function (labels) {
            drawLabels(map, labels, layer);
            map.on('moveend', function () { drawLabels(map, labels, layer); });
          });
      }
      var credit = 'Base map: Natural Earth; region names: GeoNames (CC BY 4.0)';
      if (map.attributionControl) { map.attributionControl.addAttribution(credit); }
      return drawn;
    }
  };
})();
