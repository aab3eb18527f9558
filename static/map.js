/* The map page: asks /api/map/points for the places in view (clustered on the server for the
   zoom), draws them sized by mentions, coloured by the armed group named most often in the
   same sentence, dashed when the placement is approximate; filters by group, country and
   dates; searches places and groups. Every name is set as text, never as HTML. */
(function () {
  'use strict';

  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf',
                 '#8c564b', '#e377c2', '#bcbd22', '#393b79'];
  var OTHER = '#6b6b6b';

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function entityUrl(cfg, id) { return cfg.entityPage.replace('ID', encodeURIComponent(id)); }
  function entityApi(cfg, id) { return cfg.entityApi.replace('ID', encodeURIComponent(id)); }

  function clampedBbox(map) {
    var b = map.getBounds();
    var w = Math.max(-180, b.getWest()), e = Math.min(180, b.getEast());
    var s = Math.max(-90, b.getSouth()), n = Math.min(90, b.getNorth());
    if (w > e) { w = -180; e = 180; }
    return [w, s, e, n].map(function (v) { return v.toFixed(5); }).join(',');
  }

  function radius(mentions) { return Math.round(6 + 3 * Math.log2(1 + (mentions || 0))); }

  function App(map, cfg) {
    this.map = map;
    this.cfg = cfg;
    this.filters = {group: '', country: '', since: '', until: ''};
    this.colours = {};
    this.names = {};
    this.layer = L.layerGroup().addTo(map);
    this.markers = {};
    this.request = 0;
    this.pendingPopup = null;
  }

  App.prototype.colourOf = function (point) {
    if (this.filters.group) { return this.colours[this.filters.group] || PALETTE[0]; }
    for (var i = 0; i < point.groups.length; i++) {
      if (this.colours[point.groups[i]]) { return this.colours[point.groups[i]]; }
    }
    return OTHER;
  };

  App.prototype.query = function () {
    var params = new URLSearchParams({bbox: clampedBbox(this.map), zoom: this.map.getZoom()});
    var f = this.filters;
    ['group', 'country', 'since', 'until'].forEach(function (k) { if (f[k]) { params.set(k, f[k]); } });
    return this.cfg.points + '?' + params.toString();
  };

  App.prototype.fetchPoints = function () {
    return fetch(this.query())
      .then(function (r) { return r.ok ? r.json() : {clusters: [], points: [], total: 0}; });
  };

  App.prototype.load = function (pending) {
    var self = this, ticket = ++this.request;
    return (pending || this.fetchPoints())
      .then(function (body) { if (ticket === self.request) { self.draw(body); } });
  };

  App.prototype.draw = function (body) {
    var self = this;
    this.layer.clearLayers();
    this.markers = {};
    body.clusters.forEach(function (c) { self.clusterMarker(c).addTo(self.layer); });
    body.points.forEach(function (p) {
      var marker = self.placeMarker(p);
      marker.addTo(self.layer);
      self.markers[p.id] = marker;
    });
    var status = document.getElementById('map-status');
    if (status) {
      status.textContent = body.total + ' place(s) in view' +
        (body.clusters.length ? ', grouped by area: zoom in or select a circle' : '');
    }
    this.map.getContainer().setAttribute('data-loaded', String(this.request));
    if (window.gazetteerFirstDrawn === undefined) { window.gazetteerFirstDrawn = performance.now(); }
    if (this.pendingPopup && this.markers[this.pendingPopup]) {
      this.markers[this.pendingPopup].openPopup();
      this.pendingPopup = null;
    }
  };

  App.prototype.clusterMarker = function (c) {
    var size = Math.round(26 + 6 * Math.log10(c.count));
    var icon = L.divIcon({className: 'map-cluster', iconSize: [size, size], html: ''});
    var marker = L.marker([c.lat, c.lon], {icon: icon, keyboard: true,
                                           title: c.count + ' places: zoom in',
                                           alt: c.count + ' places'});
    var map = this.map;
    marker.on('add', function () { marker.getElement().textContent = String(c.count); });
    marker.on('click', function () {
      var b = c.bounds;
      var bounds = L.latLngBounds([b[0], b[1]], [b[2], b[3]]);
      var zoom = Math.min(map.getBoundsZoom(bounds), map.getZoom() + 3);
      map.setView(bounds.getCenter(), Math.max(zoom, map.getZoom() + 1));
    });
    return marker;
  };

  App.prototype.placeMarker = function (p) {
    var size = 2 * radius(p.mentions);
    var cls = 'place-marker' + (p.approximate ? ' place-approximate' : '');
    var icon = L.divIcon({className: cls, iconSize: [size, size], html: ''});
    var marker = L.marker([p.lat, p.lon], {icon: icon, keyboard: true, title: p.name,
                                           alt: p.name, riseOnHover: true});
    var colour = this.colourOf(p);
    marker.on('add', function () {
      var node = marker.getElement();
      node.style.setProperty('--marker-colour', colour);
      node.setAttribute('data-id', p.id);
      node.setAttribute('aria-label', p.name + (p.approximate ? ' (approximate placement)' : ''));
    });
    marker.bindPopup(this.popup(p), {maxWidth: 340});
    return marker;
  };

  App.prototype.popup = function (p) {
    var cfg = this.cfg, self = this;
    var box = el('div', {'class': 'place-popup'});
    var h = el('h3', {'class': 'place-name'});
    h.appendChild(el('a', {href: entityUrl(cfg, p.id)}, p.name));
    box.appendChild(h);
    box.appendChild(el('p', {}, p.mentions + ' mention(s)' + (p.country ? ' · ' + p.country : '')));
    if (p.approximate) {
      box.appendChild(el('p', {'class': 'approx-note'},
        'Approximate placement (precision ' + (p.precision || '-') + ', confidence ' +
        (p.confidence === null ? '-' : p.confidence) + ')'));
    }
    var groups = el('ul', {'class': 'popup-groups'});
    box.appendChild(el('p', {}, 'Armed groups named in the same sentence:'));
    box.appendChild(groups);
    var more = el('p');
    more.appendChild(el('a', {href: entityUrl(cfg, p.id)}, 'Mentions, sentences and sources'));
    box.appendChild(more);
    if (!p.groups.length) { groups.appendChild(el('li', {}, 'none')); }
    p.groups.forEach(function (gid) {
      var li = el('li');
      var a = el('a', {href: entityUrl(cfg, gid)}, self.names[gid] || gid);
      li.appendChild(a);
      groups.appendChild(li);
      if (!self.names[gid]) {
        fetch(entityApi(cfg, gid)).then(function (r) { return r.ok ? r.json() : null; })
          .then(function (g) { if (g) { self.names[gid] = g.name; a.textContent = g.name; } });
      }
    });
    return box;
  };

  App.prototype.setGroup = function (id) {
    this.filters.group = id;
    var select = document.getElementById('filter-group');
    if (select) { select.value = id; }
    this.load();
  };

  App.prototype.panel = function (legend) {
    var self = this;
    var control = L.control({position: 'topright'});
    control.onAdd = function () {
      var div = L.DomUtil.create('div', 'map-panel leaflet-bar');
      div.setAttribute('role', 'region');
      div.setAttribute('aria-label', 'Search, filters and legend');
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.appendChild(self.searchBox());
      div.appendChild(self.filterForm(legend));
      div.appendChild(self.legendList(legend));
      div.appendChild(el('p', {id: 'map-status', 'aria-live': 'polite'}));
      return div;
    };
    control.addTo(this.map);
  };

  App.prototype.searchBox = function () {
    var self = this, cfg = this.cfg;
    var wrap = el('div', {'class': 'place-search'});
    var label = el('label', {'for': 'place-search'}, 'Search places and armed groups');
    var input = el('input', {id: 'place-search', type: 'search', autocomplete: 'off',
                             placeholder: 'Any spelling: Idleb, HTS, Daesh'});
    var list = el('ul', {id: 'place-search-results'});
    wrap.appendChild(label); wrap.appendChild(input); wrap.appendChild(list);
    var timer = null;
    function show(items) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      items.forEach(function (item) {
        var li = el('li');
        var button = el('button', {type: 'button', 'data-kind': item.kind, 'data-id': item.id},
                        item.name);
        button.appendChild(el('span', {'class': 'kind'},
                              item.kind === 'place' ? ' place' : ' armed group'));
        button.addEventListener('click', function () { self.choose(item); });
        li.appendChild(button);
        list.appendChild(li);
      });
    }
    input.addEventListener('input', function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { show([]); return; }
      timer = setTimeout(function () {
        fetch(cfg.entities + '?limit=12&q=' + encodeURIComponent(q))
          .then(function (r) { return r.ok ? r.json() : {items: []}; })
          .then(function (body) { if (input.value.trim() === q) { show(body.items); } });
      }, 150);
    });
    input.addEventListener('keydown', function (ev) {
      if (ev.key === 'ArrowDown' && list.querySelector('button')) {
        ev.preventDefault(); list.querySelector('button').focus();
      }
    });
    return wrap;
  };

  App.prototype.choose = function (item) {
    if (item.kind === 'armed_group') {
      this.names[item.id] = item.name;
      this.setGroup(item.id);
      return;
    }
    if (item.lat === null || item.lat === undefined) {
      window.location.href = entityUrl(this.cfg, item.id);
      return;
    }
    this.pendingPopup = item.id;
    this.map.setView([item.lat, item.lon], Math.max(this.map.getZoom(), 11));
  };

  App.prototype.filterForm = function (legend) {
    var self = this;
    var form = el('form', {'class': 'map-filters', 'aria-label': 'Filters'});
    form.addEventListener('submit', function (ev) { ev.preventDefault(); });
    var groupLabel = el('label', {'for': 'filter-group'}, 'Armed group');
    var select = el('select', {id: 'filter-group'});
    select.appendChild(el('option', {value: ''}, 'all places'));
    legend.groups.forEach(function (g) { select.appendChild(el('option', {value: g.id}, g.name)); });
    select.addEventListener('change', function () { self.setGroup(select.value); });
    form.appendChild(groupLabel); form.appendChild(select);
    var country = el('input', {id: 'filter-country', maxlength: '2', size: '3',
                               placeholder: 'SY', 'aria-describedby': 'country-help'});
    form.appendChild(el('label', {'for': 'filter-country'}, 'Country (ISO code)'));
    form.appendChild(country);
    form.appendChild(el('span', {id: 'country-help', 'class': 'help'}, 'two letters, empty for all'));
    country.addEventListener('change', function () {
      self.filters.country = country.value.trim().toUpperCase(); self.load();
    });
    var dates = legend.dates || {};
    ['since', 'until'].forEach(function (name) {
      var input = el('input', {id: 'filter-' + name, type: 'date'});
      if (dates.first) { input.min = dates.first.slice(0, 10); }
      if (dates.last) { input.max = dates.last.slice(0, 10); }
      if (!dates.first) { input.disabled = true; }
      input.addEventListener('change', function () { self.filters[name] = input.value; self.load(); });
      form.appendChild(el('label', {'for': 'filter-' + name},
                          name === 'since' ? 'Seen from' : 'Seen until'));
      form.appendChild(input);
    });
    if (!dates.first) {
      form.appendChild(el('p', {'class': 'help'}, 'No dated reports in this store: the time filter is off.'));
    }
    return form;
  };

  App.prototype.legendList = function (legend) {
    var box = el('div', {'class': 'map-legend'});
    box.appendChild(el('h2', {}, 'Colour: armed group named in the same sentence'));
    var list = el('ul');
    var self = this;
    legend.groups.forEach(function (g, i) {
      var colour = PALETTE[i % PALETTE.length];
      self.colours[g.id] = colour;
      self.names[g.id] = g.name;
      var li = el('li');
      var swatch = el('span', {'class': 'swatch', 'aria-hidden': 'true'});
      swatch.style.background = colour;
      li.appendChild(swatch);
      var button = el('button', {type: 'button', 'class': 'legend-group', 'data-id': g.id},
                      g.name + ' (' + g.places + ')');
      button.addEventListener('click', function () { self.setGroup(g.id); });
      li.appendChild(button);
      list.appendChild(li);
    });
    var other = el('li');
    var sw = el('span', {'class': 'swatch', 'aria-hidden': 'true'});
    sw.style.background = OTHER;
    other.appendChild(sw);
    other.appendChild(el('span', {}, 'other or none'));
    list.appendChild(other);
    var approx = el('li');
    approx.appendChild(el('span', {'class': 'swatch swatch-approximate', 'aria-hidden': 'true'}));
    approx.appendChild(el('span', {}, 'dashed: approximate placement'));
    list.appendChild(approx);
    box.appendChild(list);
    box.appendChild(el('p', {'class': 'help'}, 'Size: mentions in the reports.'));
    return box;
  };

  window.GazetteerMap = {
    start: function (map, cfg) {
      var app = new App(map, cfg);
      window.gazetteerApp = app;
      // the first view's places and the legend are asked for at once, before the base map
      var first = app.fetchPoints();
      fetch(cfg.legend).then(function (r) { return r.json(); }).then(function (legend) {
        app.panel(legend);
        map.on('moveend', function () { app.load(); });
        app.load(first);
      });
      GazetteerBase.draw(map, cfg.static);  // beneath online tiles, when those are on
      return app;
    }
  };
})();
