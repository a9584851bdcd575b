/* Map runtime shared by the plan and progress maps: decodes the embedded JSON (maps/_encode.py), draws the layers,
   builds popups on click, the legend, the layer switcher, the street filter, the search box and the street panel. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("map-data").textContent);
  var S = D.strings, L_ = D.labels, scale = D.scale;
  var str = function (i) { return i == null || i < 0 ? "" : S[i]; };
  var esc = function (t) {
    return String(t).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  };
  var fmt = function (n) { return n == null ? "—" : Number(n).toLocaleString(D.lang === "en" ? "en-US" : "zh-CN"); };

  function decodePolygons(g) {
    var x = 0, y = 0, ci = 0, ri = 0, pi = 0, out = new Array(g.g.length);
    for (var f = 0; f < g.g.length; f++) {
      var parts = [];
      for (var a = 0; a < g.g[f]; a++) {
        var rings = [], nr = g.p[pi++];
        for (var b = 0; b < nr; b++) {
          var n = g.r[ri++], ring = new Array(n);
          for (var k = 0; k < n; k++) { x += g.c[ci++]; y += g.c[ci++]; ring[k] = [y / scale, x / scale]; }
          rings.push(ring);
        }
        parts.push(rings);
      }
      out[f] = parts;
    }
    return out;
  }
  function decodePoints(g) {
    var x = 0, y = 0, out = [];
    for (var i = 0; i < g.c.length; i += 2) { x += g.c[i]; y += g.c[i + 1]; out.push([y / scale, x / scale]); }
    return out;
  }

  var map = L.map("map", { preferCanvas: false, zoomControl: true });
  var base = {};
  (D.tiles || []).forEach(function (t, i) {
    var layer = L.tileLayer(t.url, t);
    base[t.attribution] = layer;
    if (i === 0 || t.url.indexOf("cva_w") >= 0) layer.addTo(map);
  });
  var canvas = L.canvas({ padding: 0.3 }), svg = L.svg({ padding: 0.3 });

  function addHatch() {
    var root = svg._container;
    if (!root || root.querySelector("#hatch")) return;
    var ns = "http://www.w3.org/2000/svg", defs = document.createElementNS(ns, "defs");
    var pat = document.createElementNS(ns, "pattern");
    pat.setAttribute("id", "hatch"); pat.setAttribute("patternUnits", "userSpaceOnUse");
    pat.setAttribute("width", "8"); pat.setAttribute("height", "8"); pat.setAttribute("patternTransform", "rotate(45)");
    var line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "0"); line.setAttribute("y1", "0"); line.setAttribute("x2", "0"); line.setAttribute("y2", "8");
    line.setAttribute("stroke", "#b2182b"); line.setAttribute("stroke-width", "3");
    pat.appendChild(line); defs.appendChild(pat); root.insertBefore(defs, root.firstChild);
  }

  function popupHtml(layer, i) {
    var p = layer.props, h = "";
    if (layer.popup === "text") return "<div class='rn-pop'>" + esc(str(p.text[i])).replace(/\n/g, "<br>") + "</div>";
    h += "<div class='rn-pop'><b>" + esc(str(p.name[i])) + "</b> <span class='rn-id'>" + esc(str(p.id[i])) + "</span>";
    h += "<div class='rn-sub'>" + esc(str(p.street[i])) + (p.nbhd ? " · " + esc(str(p.nbhd[i])) : "") + "</div>";
    if (layer.popup === "plan") {
      h += "<div class='rn-status rn-" + esc(str(p.status[i])) + "'>" + esc(L_.status[str(p.status[i])] || "") + "</div>";
      h += "<table>";
      h += "<tr><th>" + L_.score + "</th><td>" + fmt(p.score[i]) + (p.rank[i] != null ? " (" + L_.rank + " " + p.rank[i] + ")" : "") + "</td></tr>";
      var bd = p.breakdown[i] || [];
      for (var k = 0; k < bd.length; k++) if (bd[k] != null) h += "<tr><td class='rn-ind'>" + esc(L_.factors[k]) + "</td><td>" + fmt(bd[k]) + "</td></tr>";
      h += "<tr><th>" + L_.households + "</th><td>" + fmt(p.households[i]) + "</td></tr>";
      h += "<tr><th>" + L_.cost + "</th><td>" + fmt(p.cost[i]) + " " + L_.yuan + "</td></tr>";
      h += "<tr><td class='rn-ind'>" + L_.residents + "</td><td>" + fmt(p.residents[i]) + " " + L_.yuan + "</td></tr>";
      h += "<tr><td class='rn-ind'>" + L_.subsidy + "</td><td>" + fmt(p.subsidy[i]) + " " + L_.yuan + "</td></tr>";
      if (p.unit[i] >= 0) h += "<tr><th>" + L_.unit + "</th><td>" + esc(str(p.unit[i])) + "</td></tr>";
      h += "</table><ul class='rn-reasons'>";
      (p.reasons[i] || []).forEach(function (r) {
        h += "<li>" + esc(str(r[0])) + "<div class='rn-src'>" + esc(str(r[1])) + "</div></li>";
      });
      h += "</ul>";
    } else {
      h += "<table><tr><th>" + L_.stage + "</th><td>" + esc(str(p.stage[i]) || L_.no_stage) + "</td></tr>";
      if (p.date[i] >= 0) h += "<tr><th>" + L_.date + "</th><td>" + esc(str(p.date[i])) + "</td></tr>";
      if (p.year[i] != null) h += "<tr><th>" + L_.plan_year + "</th><td>" + p.year[i] + "</td></tr>";
      h += "<tr><th>" + L_.households + "</th><td>" + fmt(p.households[i]) + "</td></tr>";
      h += "<tr><th>" + L_.cost + "</th><td>" + fmt(p.cost[i]) + " " + L_.yuan + "</td></tr></table>";
      if (p.status[i] >= 0) h += "<div class='rn-status rn-" + esc(str(p.status[i])) + "'>" + esc(L_.status[str(p.status[i])] || "") + "</div>";
      if (p.reason[i] >= 0) h += "<div class='rn-src'>" + esc(str(p.reason[i])) + "</div>";
    }
    return h + "</div>";
  }

  var overlays = {}, searchable = null, filtered = [];
  D.layers.forEach(function (layer) {
    var group = L.featureGroup(), feats = [], renderer = layer.renderer === "canvas" ? canvas : svg;
    var st = layer.style;
    if (layer.type === "point") {
      decodePoints(layer.geom).forEach(function (ll, i) {
        var m = L.circleMarker(ll, L.extend({ renderer: renderer }, st));
        m._rn = i; feats.push(m); group.addLayer(m);
      });
    } else {
      decodePolygons(layer.geom).forEach(function (parts, i) {
        if (!parts.length) { feats.push(null); return; }
        var o = L.extend({ renderer: renderer }, st);
        if (layer.fill) o.fillColor = layer.colors[layer.fill[i]];
        if (layer.stroke) L.extend(o, layer.strokes[layer.stroke[i]]);
        if (layer.hatch) o.fillColor = "url(#hatch)";
        var poly = L.polygon(parts, o);
        poly._rn = i; feats.push(poly); group.addLayer(poly);
      });
    }
    if (layer.popup) group.on("click", function (e) {
      L.popup({ maxWidth: 360 }).setLatLng(e.latlng).setContent(popupHtml(layer, e.layer._rn)).openOn(map);
    });
    if (layer.tooltip) feats.forEach(function (f, i) { if (f) f.bindTooltip(str(layer.tooltip[i]), { sticky: true }); });
    if (layer.on !== false) group.addTo(map);
    overlays[layer.name] = group;
    layer._group = group; layer._feats = feats;
    if (layer.street) filtered.push(layer);
    if (layer.search) searchable = layer;
  });
  if (document.querySelector(".leaflet-overlay-pane svg")) addHatch();
  map.on("layeradd", addHatch);
  L.control.layers(base, overlays, { collapsed: false, position: "topright" }).addTo(map);
  var b = D.bounds;
  map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);

  /* Legend */
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "rn-legend leaflet-control");
    var h = "<b>" + esc(L_.legend) + "</b>";
    D.legend.forEach(function (sec) {
      h += "<div class='rn-legend-title'>" + esc(sec.title) + "</div>";
      sec.items.forEach(function (it) {
        var s = it.swatch, css = "background:" + (s.hatch ? "repeating-linear-gradient(45deg,#b2182b 0 2px,transparent 2px 6px)" : (s.fill || "transparent")) + ";border:" + (s.width || 1) + "px " + (s.dash ? "dashed " : "solid ") + (s.stroke || "#666");
        if (s.dot) css += ";border-radius:50%";
        h += "<div class='rn-legend-item'><span class='rn-swatch' style='" + css + "'></span>" + esc(it.label) + "</div>";
      });
    });
    div.innerHTML = h;
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo(map);

  /* Title, street filter, search, panel */
  var box = L.control({ position: "topleft" });
  var panelDiv;
  box.onAdd = function () {
    var div = L.DomUtil.create("div", "rn-box leaflet-control");
    var h = "<div class='rn-title'>" + esc(D.title) + "</div>";
    if (D.subtitle) h += "<div class='rn-subtitle'>" + esc(D.subtitle) + "</div>";
    h += "<label>" + esc(L_.street) + " <select id='rn-street'><option value=''>" + esc(L_.all_streets) + "</option>";
    D.streets.forEach(function (s) { h += "<option>" + esc(s) + "</option>"; });
    h += "</select></label>";
    if (searchable) h += "<div><input id='rn-search' type='search' placeholder='" + esc(L_.search) + "'></div>";
    h += "<div id='rn-panel'></div>";
    div.innerHTML = h;
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  box.addTo(map);
  panelDiv = document.getElementById("rn-panel");

  function showPanel(street) {
    if (!D.panel) { panelDiv.style.display = "none"; return; }
    var rows = D.panel.rows[street] || D.panel.rows[""];
    var h = "<div class='rn-panel-title'>" + esc(D.panel.title) + " · " + esc(street || L_.all_streets) + "</div><table class='rn-panel'>";
    rows.forEach(function (r) { h += "<tr" + (r[2] ? " class='rn-indent'" : "") + "><td>" + esc(r[0]) + "</td><td>" + esc(r[1]) + "</td></tr>"; });
    panelDiv.innerHTML = h + "</table>";
  }
  function filterStreet(street) {
    var bounds = L.latLngBounds([]);
    filtered.forEach(function (layer) {
      layer._feats.forEach(function (f, i) {
        if (!f) return;
        var show = !street || str(layer.street[i]) === street;
        if (show && !layer._group.hasLayer(f)) layer._group.addLayer(f);
        if (!show && layer._group.hasLayer(f)) layer._group.removeLayer(f);
        if (show && layer.search) bounds.extend(f.getBounds());
      });
    });
    if (street && bounds.isValid()) map.fitBounds(bounds);
    showPanel(street);
  }
  document.getElementById("rn-street").addEventListener("change", function (e) { filterStreet(e.target.value); });
  showPanel("");

  if (searchable) {
    document.getElementById("rn-search").addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      var q = e.target.value.trim();
      if (!q) return;
      var names = searchable.props.name, ids = searchable.props.id;
      for (var i = 0; i < names.length; i++) {
        var f = searchable._feats[i];
        if (f && (str(names[i]).indexOf(q) >= 0 || str(ids[i]) === q)) {
          map.fitBounds(f.getBounds(), { maxZoom: 18 });
          L.popup({ maxWidth: 360 }).setLatLng(f.getBounds().getCenter()).setContent(popupHtml(searchable, i)).openOn(map);
          return;
        }
      }
      e.target.classList.add("rn-notfound");
      setTimeout(function () { e.target.classList.remove("rn-notfound"); }, 1200);
    });
  }
  document.body.setAttribute("data-rendered", String(D.layers.reduce(function (n, l) { return n + l._feats.length; }, 0)));
})();
