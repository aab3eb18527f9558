/* The entity page: its small map on the offline base map, and curation in the browser. The
   token is typed into the sign-in field, kept in this tab's sessionStorage and sent as an
   Authorization header: never in a URL. Each change reloads the page from the server. */
(function () {
  'use strict';
  var KEY = 'gazetteer-token', WHO = 'gazetteer-who';

  function $(sel) { return document.querySelector(sel); }
  function status(text) { var s = $('#curate-status'); if (s) { s.textContent = text; } }

  function signedIn() { return !!sessionStorage.getItem(KEY); }

  function showCuration(on) {
    document.querySelectorAll('.curate-only').forEach(function (n) { n.hidden = !on; });
    var logout = $('#logout');
    if (logout) { logout.hidden = !on; }
    status(on ? 'Signed in as ' + (sessionStorage.getItem(WHO) || 'curator') + '.' : '');
  }

  function send(method, url, body) {
    body = Object.assign({who: sessionStorage.getItem(WHO) || 'browser'}, body || {});
    return fetch(url, {method: method, headers: {'Content-Type': 'application/json',
                                                 'Authorization': 'Bearer ' + sessionStorage.getItem(KEY)},
                       body: JSON.stringify(body)})
      .then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) { throw new Error(j.error ? j.error.message : r.statusText); }
          return j;
        });
      });
  }

  function then(promise) {
    status('Saving…');
    return promise.then(function () { window.location.reload(); })
      .catch(function (err) { status('Not saved: ' + err.message); });
  }

  function on(id, handler) {
    var form = document.getElementById(id);
    if (form) { form.addEventListener('submit', function (ev) { ev.preventDefault(); handler(form); }); }
  }

  function drawMap(cfg) {
    var box = document.getElementById('entity-map');
    if (!box || !window.L) { return null; }
    var lat = parseFloat(box.dataset.lat), lon = parseFloat(box.dataset.lon);
    var map = L.map(box, {maxZoom: 18}).setView([lat, lon], 7);
    GazetteerBase.draw(map, cfg.static);
    var approximate = box.dataset.approximate === 'yes';
    var icon = L.divIcon({className: 'place-marker' + (approximate ? ' place-approximate' : ''),
                          iconSize: [18, 18], html: ''});
    var marker = L.marker([lat, lon], {icon: icon, draggable: false, keyboard: true,
                                       title: 'Drag to move (when signed in)'}).addTo(map);
    marker.on('dragend', function () {
      var p = marker.getLatLng();
      $('#lat').value = p.lat.toFixed(5);
      $('#lon').value = p.lng.toFixed(5);
      status('New position set: press Move to save it.');
    });
    return marker;
  }

  window.GazetteerCurate = {
    start: function (cfg) {
      var marker = drawMap(cfg);
      function refresh() {
        showCuration(signedIn());
        if (marker && marker.dragging) {
          if (signedIn()) { marker.dragging.enable(); } else { marker.dragging.disable(); }
        }
      }
      on('login', function () {
        var token = $('#token').value.trim();
        if (!token) { status('Type the curator token first.'); return; }
        sessionStorage.setItem(KEY, token);
        sessionStorage.setItem(WHO, $('#who').value.trim() || 'browser');
        $('#token').value = '';
        refresh();
      });
      var logout = $('#logout');
      if (logout) {
        logout.addEventListener('click', function () {
          sessionStorage.removeItem(KEY); sessionStorage.removeItem(WHO); refresh();
        });
      }
      on('rename', function () { then(send('PATCH', cfg.entity, {name: $('#new-name').value})); });
      on('move', function () {
        then(send('PATCH', cfg.entity, {lat: parseFloat($('#lat').value),
                                        lon: parseFloat($('#lon').value)}));
      });
      on('add-alias', function () { then(send('PATCH', cfg.entity, {add_aliases: [$('#alias').value]})); });
      on('merge', function () { then(send('POST', cfg.merge, {other: $('#other').value.trim()})); });
      on('reject', function () { then(send('POST', cfg.reject, {reason: $('#reason').value})); });
      document.querySelectorAll('.remove-alias').forEach(function (b) {
        b.addEventListener('click', function () {
          then(send('PATCH', cfg.entity, {remove_aliases: [b.dataset.alias]}));
        });
      });
      document.querySelectorAll('form.repoint').forEach(function (form) {
        form.addEventListener('submit', function (ev) {
          ev.preventDefault();
          then(send('PATCH', cfg.mention.replace('ID', encodeURIComponent(form.dataset.mention)),
                    {entity_id: form.elements.entity_id.value.trim()}));
        });
      });
      document.querySelectorAll('button.undo').forEach(function (b) {
        b.addEventListener('click', function () {
          then(send('POST', cfg.undo.replace('ID', b.dataset.curation), {}));
        });
      });
      refresh();
    }
  };
})();
