/* Map runtime: what folium has no element for. The page carries its layers as compact JSON (maps/_encode.py:
   quantised delta-coded coordinates, a string table); folium's feature groups call renewal.fill() to decode one
   layer into them, and renewal.init() wires popups to search, the street filter of the side panel, and labels that
   appear at zooms where they fit. Everything else (map, tiles, scale, layer switcher, plugins) is folium's. */
(function () {
  "use strict";
  var D = null, S, L_, scale;
  var R = (window.renewal = { groups: [] });

  function data() {
    if (!D) {
      D = JSON.parse(document.getElementById("map-data").textContent);
      S = D.strings; L_ = D.labels; scale = D.scale;
    }
    return D;
  }
  var str = function (i) { return i == null || i < 0 ? "" : S[i]; };
  var esc = function (t) {
    return String(t).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };
  /* A string of the page's string table (tests and the page's own panel use it). */
  R.text = function (i) { data(); return str(i); };
  var fmt = function (n) { return n == null ? "—" : Number(n).toLocaleString(D.lang === "en" ? "en-US" : "zh-CN"); };

  function decodeRings(g, nested) {
    // Polygons: g.g parts per feature, g.p rings per part, g.r vertices per ring. Lines: g.g lines, g.r vertices.
    var x = 0, y = 0, ci = 0, ri = 0, pi = 0, out = new Array(g.g.length);
    function ring() {
      var n = g.r[ri++], pts = new Array(n);
      for (var k = 0; k < n; k++) { x += g.c[ci++]; y += g.c[ci++]; pts[k] = [y / scale, x / scale]; }
      return pts;
    }
    for (var f = 0; f < g.g.length; f++) {
      var parts = [];
      for (var a = 0; a < g.g[f]; a++) {
        if (!nested) { parts.push(ring()); continue; }
        var rings = [], nr = g.p[pi++];
        for (var b = 0; b < nr; b++) rings.push(ring());
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

  function row(label, value, cls) {
    return "<tr" + (cls ? " class='" + cls + "'" : "") + "><th>" + esc(label) + "</th><td>" + value + "</td></tr>";
  }
  function statusBadge(code) {
    return code ? "<div class='rn-status rn-" + esc(code) + "'>" + esc(L_.status[code] || code) + "</div>" : "";
  }
  function popupHtml(layer, i) {
    var p = layer.props, h;
    if (layer.popup === "text") return "<div class='rn-pop'>" + esc(str(p.text[i])).replace(/\n/g, "<br>") + "</div>";
    h = "<div class='rn-pop'><b>" + esc(str(p.name[i])) + "</b> <span class='rn-id'>" + esc(str(p.id[i])) + "</span>";
    h += "<div class='rn-sub'>" + esc(str(layer.street[i])) + (p.nbhd ? " · " + esc(str(p.nbhd[i])) : "") + "</div>";
    if (layer.popup === "plan") {
      h += statusBadge(str(p.status[i]));
      if (p.planned && p.planned[i]) h += " <span class='rn-planned'>" + esc(L_.in_plan) + "</span>";
      h += "<table>";
      h += row(L_.score, fmt(p.score[i]) + (p.rank[i] != null ? " (" + esc(L_.rank) + " " + p.rank[i] + ")" : ""));
      var bd = p.breakdown[i] || [];
      for (var k = 0; k < bd.length; k++) if (bd[k] != null) h += row(L_.factors[k], fmt(bd[k]), "rn-ind");
      h += row(L_.households, fmt(p.households[i]));
      h += row(L_.cost, fmt(p.cost[i]) + " " + esc(L_.yuan));
      h += row(L_.residents, fmt(p.residents[i]) + " " + esc(L_.yuan), "rn-ind");
      h += row(L_.subsidy, fmt(p.subsidy[i]) + " " + esc(L_.yuan), "rn-ind");
      if (p.unit[i] >= 0) h += row(L_.unit, esc(str(p.unit[i])));
      if (p.package[i] >= 0) h += row(L_.package, esc(str(p.package[i])));
      h += row(L_.plan_year, p.year[i] != null ? String(p.year[i]) : esc(L_.not_planned));
      h += "</table><ul class='rn-reasons'>";
      (p.reasons[i] || []).forEach(function (r) {
        h += "<li>" + esc(str(r[0])) + "<div class='rn-src'>" + esc(str(r[1])) + "</div></li>";
      });
      h += "</ul>";
    } else {
      h += "<table>" + row(L_.stage, esc(str(p.stage[i]) || L_.no_stage));
      if (p.date[i] >= 0) h += row(L_.date, esc(str(p.date[i])));
      h += row(L_.plan_year, p.year[i] != null ? String(p.year[i]) : esc(L_.not_planned));
      h += row(L_.households, fmt(p.households[i]));
      h += row(L_.cost, fmt(p.cost[i]) + " " + esc(L_.yuan)) + "</table>";
      h += statusBadge(str(p.status[i]));
      if (p.reason[i] >= 0) h += "<div class='rn-src'>" + esc(str(p.reason[i])) + "</div>";
    }
    return h + "</div>";
  }

  var renderers = {};
  function renderer(map, kind) {
    if (!renderers[kind]) renderers[kind] = kind === "canvas" ? L.canvas({ padding: 0.3 }) : L.svg({ padding: 0.3 });
    return renderers[kind];
  }

  function addHatch() {
    var root = renderers.svg && renderers.svg._container;
    if (!root || root.querySelector("#rn-hatch")) return;
    var ns = "http://www.w3.org/2000/svg", defs = document.createElementNS(ns, "defs");
    var pat = document.createElementNS(ns, "pattern");
    pat.setAttribute("id", "rn-hatch"); pat.setAttribute("patternUnits", "userSpaceOnUse");
    pat.setAttribute("width", "8"); pat.setAttribute("height", "8"); pat.setAttribute("patternTransform", "rotate(45)");
    var line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "0"); line.setAttribute("y1", "0"); line.setAttribute("x2", "0"); line.setAttribute("y2", "8");
    line.setAttribute("stroke", "#b2182b"); line.setAttribute("stroke-width", "2.5");
    pat.appendChild(line); defs.appendChild(pat); root.insertBefore(defs, root.firstChild);
  }

  /* Decode layer ``index`` of the page data into folium's feature group ``group``. */
  R.fill = function (group, index, map) {
    var layer = data().layers[index], feats = [], st = layer.style;
    var opts = L.extend({ renderer: renderer(map, layer.renderer), interactive: layer.interactive !== false }, st);
    if (layer.type === "point") {
      decodePoints(layer.geom).forEach(function (ll, i) {
        var m = L.circleMarker(ll, opts);
        m._rn = i; feats.push(m); group.addLayer(m);
      });
    } else {
      decodeRings(layer.geom, layer.type === "polygon").forEach(function (parts, i) {
        if (!parts.length) { feats.push(null); return; }
        var o = L.extend({}, opts);
        if (layer.fill) o.fillColor = layer.colors[layer.fill[i]];
        if (layer.stroke) L.extend(o, layer.strokes[layer.stroke[i]]);
        if (layer.hatch) o.fillColor = "url(#rn-hatch)";
        if (layer.search) o.label = str(layer.props.name[i]) + " " + str(layer.props.id[i]);
        var shape = layer.type === "polygon" ? L.polygon(parts, o) : L.polyline(parts, o);
        shape._rn = i; feats.push(shape); group.addLayer(shape);
      });
    }
    if (layer.popup) group.bindPopup(function (f) { return popupHtml(layer, f._rn); }, { maxWidth: 360 });
    if (layer.tooltip) group.bindTooltip(function (f) { return esc(str(layer.tooltip[f._rn])); }, { sticky: true });
    layer._group = group; layer._feats = feats;
    R.groups.push(layer);
    if (layer.hatch) map.whenReady(addHatch);
  };

  /* The minimap's layer: the basemap's tiles when there is one, else the street outlines. */
  R.miniLayer = function (tiles) {
    if (tiles) return L.tileLayer(tiles.url, tiles);
    var group = L.featureGroup();
    var streets = data().layers.filter(function (l) { return l.id === "streets"; })[0];
    if (streets) decodeRings(streets.geom, true).forEach(function (parts) {
      if (parts.length) group.addLayer(L.polygon(parts, { color: "#3d3d3d", weight: 1, fillOpacity: 0.05, interactive: false }));
    });
    return group;
  };

  function labelIcon(text, cls) {
    return L.divIcon({ className: "rn-label " + cls, html: "<span>" + esc(text) + "</span>", iconSize: null });
  }

  /* Street filter, search popups, labels, panel sections: called once every layer is on the map. */
  R.init = function (map, search) {
    data();
    var searchable = R.groups.filter(function (l) { return l.search; })[0];
    var current = "";
    function openFor(f) {
      // The group's popup opens for one of its shapes: set it as the source first (Leaflet keeps a shape source).
      searchable._group._popup._source = f;
      searchable._group.openPopup(f.getBounds().getCenter());
    }
    if (search && searchable) search.on("search:locationfound", function (e) { openFor(e.layer); });

    var streetLabels = L.layerGroup(), labels = L.layerGroup().addTo(map);
    (D.street_labels || []).forEach(function (s) {
      streetLabels.addLayer(L.marker([s[1], s[2]], { icon: labelIcon(s[0], "rn-street-label"), interactive: false, keyboard: false }));
    });
    function drawLabels() {
      var z = map.getZoom();
      if (z < D.label_zoom) { if (!map.hasLayer(streetLabels)) streetLabels.addTo(map); }
      else if (map.hasLayer(streetLabels)) map.removeLayer(streetLabels);
      labels.clearLayers();
      if (!searchable || z < D.label_zoom || !map.hasLayer(searchable._group)) return;
      var view = map.getBounds(), shown = 0;
      for (var i = 0; i < searchable._feats.length && shown < 400; i++) {
        var f = searchable._feats[i];
        if (!f || !searchable._group.hasLayer(f)) continue;
        var b = f.getBounds();
        if (!view.intersects(b)) continue;
        // Only where the name fits inside the compound at this zoom (about 11 px a character).
        var name = str(searchable.props.name[i]);
        var width = map.latLngToContainerPoint(b.getNorthEast()).x - map.latLngToContainerPoint(b.getSouthWest()).x;
        if (width < name.length * 11 + 6) continue;
        labels.addLayer(L.marker(b.getCenter(), { icon: labelIcon(name, "rn-community-label"), interactive: false, keyboard: false }));
        shown++;
      }
    }
    map.on("zoomend moveend overlayadd overlayremove", drawLabels);

    function showSections(street) {
      document.querySelectorAll("[data-street]").forEach(function (el) {
        var s = el.getAttribute("data-street");
        if (el.classList.contains("rn-section")) el.hidden = s !== street;
        else if (el.classList.contains("rn-row")) el.hidden = street !== "" && s !== street && s !== "*";
        if (el.classList.contains("rn-pick")) el.classList.toggle("rn-current", s === street);
      });
    }
    function filterStreet(street) {
      current = street;
      var box = L.latLngBounds([]);
      R.groups.forEach(function (layer) {
        if (!layer.street) return;
        layer._feats.forEach(function (f, i) {
          if (!f) return;
          var show = !street || str(layer.street[i]) === street;
          if (show && !layer._group.hasLayer(f)) layer._group.addLayer(f);
          if (!show && layer._group.hasLayer(f)) layer._group.removeLayer(f);
          if (show && layer.search) box.extend(f.getBounds());
        });
      });
      var all = D.bounds;
      map.fitBounds(street && box.isValid() ? box : [[all[1], all[0]], [all[3], all[2]]]);
      showSections(street);
      showOverdue(street);
      drawLabels();
    }
    var select = document.getElementById("rn-street");
    if (select) select.addEventListener("change", function (e) { filterStreet(e.target.value); });
    document.querySelectorAll(".rn-pick[data-street]").forEach(function (el) {
      el.addEventListener("click", function () {
        var s = el.getAttribute("data-street");
        if (select) select.value = s;
        filterStreet(s === current ? "" : s);
        if (select) select.value = current;
      });
    });
    function locate(id) {
      for (var i = 0; searchable && i < searchable._feats.length; i++) {
        var f = searchable._feats[i];
        if (f && str(searchable.props.id[i]) === id) {
          map.fitBounds(f.getBounds(), { maxZoom: 18 });
          openFor(f);
          return;
        }
      }
    }
    /* The overdue list (progress page): built from compact rows, the picked street's or the worst of all. */
    function showOverdue(street) {
      var box = document.getElementById("rn-overdue"), O = D.overdue;
      if (!box || !O || !searchable) return;
      var p = searchable.props, rows = O.rows.filter(function (r) { return !street || str(searchable.street[r[0]]) === street; });
      var listed = rows.slice(0, O.limit);
      var total = street ? rows.length : O.total;
      if (!listed.length) { box.innerHTML = "<p class='rn-note'>" + esc(O.none) + "</p>"; return; }
      var h = "<div class='rn-wide'><table><thead><tr>" + O.head.map(function (t) { return "<th>" + esc(t) + "</th>"; }).join("") + "</tr></thead><tbody>";
      listed.forEach(function (r) {
        var i = r[0];
        h += "<tr><td><span class='rn-locate' data-id='" + esc(str(p.id[i])) + "'>" + esc(str(p.name[i])) + "</span> <span class='rn-id'>" + esc(str(p.id[i])) + "</span></td>";
        h += "<td>" + esc(str(searchable.street[i])) + "</td><td>" + esc(str(p.stage[i]) || L_.no_stage) + "</td>";
        h += "<td>" + esc(str(r[2])) + "</td><td><span class='rn-bad'>" + fmt(r[1]) + "</span></td><td><span class='rn-src'>" + esc(str(r[3])) + "</span></td></tr>";
      });
      h += "</tbody></table></div>";
      if (total > listed.length) h += "<p class='rn-note'>" + esc(O.more.replace("{n}", fmt(total - listed.length)).replace("{limit}", O.limit)) + "</p>";
      box.innerHTML = h;
      box.querySelectorAll(".rn-locate").forEach(function (el) { el.addEventListener("click", function () { locate(el.getAttribute("data-id")); }); });
    }

    showSections("");
    showOverdue("");
    drawLabels();
    document.body.setAttribute("data-rendered", String(R.groups.reduce(function (n, l) { return n + l._feats.length; }, 0)));
  };
})();
