// Community editor. Loads communities and streets through the OGC API with the planner's token; finds a compound by
// name or number; edits one compound's attributes (a form built from the layer's columns) or vertices; draws new
// compounds; splits one along a drawn line; merges neighbours (warning when they do not touch, the server refusing
// beyond the merge gap); deletes; shows a compound's history and undoes a merge or split from it. Every write
// sends If-Match with the version it read, so an edit made by someone else in the meantime shows a conflict
// message instead of being overwritten. Drawing hints are Leaflet-Geoman's own, in Chinese.
(function () {
  "use strict";
  const TOKEN_KEY = "renewal-token";
  const map = L.map("map", { zoomSnap: 0.25 }).setView([30, 110], 5);
  const layers = new Map(); // fid -> Leaflet layer
  const selected = new Set(); // fids
  const $ = (id) => document.getElementById(id);
  const statusBox = $("status");
  const tokenInput = $("token");
  const group = L.featureGroup().addTo(map);
  const streets = L.featureGroup().addTo(map);
  let fields = [];
  let mode = null; // null | "edit" | "split"
  let basemap = null;
  const ACTIONS = {
    create: "新建", patch: "修改", replace: "整体替换", delete: "删除", merge: "合并生成", retire: "因合并/分割停用",
    split: "分割生成", restore: "撤销恢复",
  };

  if (map.pm) map.pm.setLang("zh");
  tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || "";

  function say(text, kind) {
    statusBox.textContent = text;
    statusBox.className = kind || "";
  }

  async function api(method, path, body, version) {
    const headers = { Authorization: "Bearer " + (sessionStorage.getItem(TOKEN_KEY) || "") };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (version !== undefined) headers["If-Match"] = '"' + version + '"';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
    if (!response.ok) {
      const detail = data && data.detail;
      const error = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
      error.status = response.status;
      error.data = data;
      throw error;
    }
    return data;
  }

  function report(error) {
    if (error.status === 412) {
      say("保存冲突：" + error.message + "（已重新加载最新版本）", "error");
      load(false);
    } else if (error.status === 409 && error.data && error.data.overlaps) {
      const list = error.data.overlaps.map((o) => o.id + "（" + o.overlap_m2 + " 平方米）").join("、");
      say("与其他小区重叠：" + list, "error");
    } else {
      say((error.status ? error.status + "：" : "") + error.message, "error");
    }
  }

  function style(fid) {
    return selected.has(fid)
      ? { color: "#c0392b", weight: 3, fillOpacity: 0.35 }
      : { color: "#2c6fbb", weight: 1.5, fillOpacity: 0.2 };
  }

  function only() {
    return selected.size === 1 ? layers.get([...selected][0]) : null;
  }

  function stopEditing() {
    layers.forEach((layer) => layer.pm && layer.pm.enabled() && layer.pm.disable());
    if (map.pm) map.pm.disableDraw();
    mode = null;
    $("edit").textContent = "编辑顶点";
  }

  function showSelection() {
    const ids = [...selected].map((fid) => layers.get(fid).feature.properties.id);
    layers.forEach((layer, fid) => layer.setStyle(style(fid)));
    const one = only();
    $("edit").disabled = !one;
    $("split").disabled = !one;
    $("delete").disabled = !one;
    $("merge").disabled = selected.size < 2;
    const box = $("selection");
    box.textContent = "";
    if (ids.length) {
      const h = document.createElement("h2");
      h.textContent = ids.length === 1 ? "已选小区" : "已选 " + ids.length + " 个小区";
      box.appendChild(h);
      const p = document.createElement("p");
      p.textContent = [...selected].map((fid) => {
        const pr = layers.get(fid).feature.properties;
        return pr.name + "（" + pr.id + "）";
      }).join("、");
      box.appendChild(p);
    }
    $("attributes").hidden = !one;
    $("history").hidden = !one;
    if (one) { fillForm(one.feature); showHistory(one.feature.properties.id); }
  }

  function choose(fid, additive) {
    if (mode) return;
    if (!additive) {
      const had = selected.has(fid) && selected.size === 1;
      selected.clear();
      if (!had) selected.add(fid);
    } else if (selected.has(fid)) selected.delete(fid);
    else selected.add(fid);
    showSelection();
  }

  function addFeature(feature) {
    const layer = L.geoJSON(feature, { style: () => style(feature.id) }).getLayers()[0];
    layer.feature = feature;
    layer.bindTooltip(feature.properties.name + "（" + feature.properties.id + "）");
    // A click selects one compound; Ctrl/Shift-click, or any click with 多选 ticked, adds it to the selection.
    layer.on("click", (e) => {
      const o = e.originalEvent;
      choose(feature.id, o.ctrlKey || o.shiftKey || o.metaKey || $("multi").checked);
    });
    layer.on("pm:edit", () => saveGeometry(layer));
    layers.set(feature.id, layer);
    group.addLayer(layer);
  }

  function updateSearchList() {
    const list = $("search-list");
    list.textContent = "";
    layers.forEach((layer) => {
      const option = document.createElement("option");
      option.value = layer.feature.properties.id;
      option.label = layer.feature.properties.name;
      list.appendChild(option);
    });
  }

  async function loadStreets() {
    const data = await api("GET", "/collections/streets/items?limit=10000");
    streets.clearLayers();
    L.geoJSON(data, { style: { color: "#555", weight: 2.5, fill: false, interactive: false } }).eachLayer((layer) => {
      streets.addLayer(layer);
      const name = layer.feature.properties.name;
      if (name) {
        const centre = layer.getBounds().getCenter();
        streets.addLayer(L.tooltip({ permanent: true, direction: "center", className: "street-label" }).setLatLng(centre).setContent(name));
      }
    });
    streets.bringToBack();
  }

  async function load(fit) {
    stopEditing();
    const data = await api("GET", "/collections/communities/items?limit=10000");
    group.clearLayers();
    layers.clear();
    data.features.forEach(addFeature);
    [...selected].forEach((fid) => { if (!layers.has(fid)) selected.delete(fid); });
    showSelection();
    updateSearchList();
    if (fit && data.features.length) map.fitBounds(group.getBounds(), { padding: [20, 20] });
    document.body.dataset.loaded = String(data.features.length);
    return data;
  }

  // --- attributes ---------------------------------------------------------------------------------------------
  function fillForm(feature) {
    const box = $("fields");
    box.textContent = "";
    fields.forEach((f) => {
      const label = document.createElement("label");
      label.textContent = f.label;
      let input;
      if (f.type === "bool") {
        input = document.createElement("select");
        [["", "未知"], ["true", "是"], ["false", "否"]].forEach(([v, t]) => {
          const o = document.createElement("option"); o.value = v; o.textContent = t; input.appendChild(o);
        });
        const v = feature.properties[f.name];
        input.value = v === true ? "true" : v === false ? "false" : "";
      } else {
        input = document.createElement("input");
        input.type = f.type === "int" || f.type === "float" ? "number" : "text";
        if (f.type === "float") input.step = "any";
        const v = feature.properties[f.name];
        input.value = v === null || v === undefined ? "" : String(v);
      }
      input.name = f.name;
      input.dataset.type = f.type;
      if (f.name === "id") input.readOnly = true;
      if (f.required) input.required = true;
      label.appendChild(input);
      box.appendChild(label);
    });
  }

  function formValue(input) {
    const t = input.dataset.type, v = input.value.trim();
    if (v === "") return null;
    if (t === "int") return parseInt(v, 10);
    if (t === "float") return parseFloat(v);
    if (t === "bool") return v === "true";
    return v;
  }

  $("attributes").addEventListener("submit", async (event) => {
    event.preventDefault();
    const layer = only();
    if (!layer) return;
    const feature = layer.feature, changed = {};
    $("fields").querySelectorAll("input, select").forEach((input) => {
      if (input.name === "id") return;
      const value = formValue(input), before = feature.properties[input.name];
      if (value !== (before === undefined ? null : before)) changed[input.name] = value;
    });
    if (!Object.keys(changed).length) { say("属性没有改动", ""); return; }
    try {
      const saved = await api("PATCH", "/collections/communities/items/" + feature.id,
        { type: "Feature", properties: changed }, feature.properties.version);
      Object.assign(feature.properties, saved.properties);
      layer.setTooltipContent(feature.properties.name + "（" + feature.properties.id + "）");
      say("已保存 " + feature.properties.id + " 的属性（版本 " + saved.properties.version + "）", "ok");
      showSelection();
    } catch (error) {
      report(error);
    }
  });

  // --- history and undo ---------------------------------------------------------------------------------------
  async function showHistory(id) {
    const list = $("history-list");
    list.textContent = "";
    let data;
    try { data = await api("GET", "/communities/" + encodeURIComponent(id) + "/history"); } catch (error) { report(error); return; }
    if (!data.edits.length) { const li = document.createElement("li"); li.textContent = "导入后未修改"; list.appendChild(li); }
    data.edits.forEach((edit) => {
      const li = document.createElement("li");
      const when = edit.at ? edit.at.replace("T", " ").slice(0, 16) : "";
      li.textContent = (ACTIONS[edit.action] || edit.action) + " · " + edit.actor + " · " + when + (edit.version ? " · 版本 " + edit.version : "");
      if ((edit.action === "merge" || edit.action === "split") && edit.group_id) {
        const undo = document.createElement("button");
        undo.type = "button";
        undo.className = "undo";
        undo.textContent = edit.action === "merge" ? "撤销合并" : "撤销分割";
        undo.addEventListener("click", async () => {
          if (!confirm("撤销这次" + (edit.action === "merge" ? "合并" : "分割") + "，恢复原来的小区？")) return;
          try {
            const result = await api("POST", "/communities/merge/" + edit.group_id + "/undo");
            selected.clear();
            await load(false);
            say("已撤销，恢复 " + result.restored.map((f) => f.properties.id).join("、"), "ok");
          } catch (error) { report(error); }
        });
        li.appendChild(undo);
      }
      list.appendChild(li);
    });
  }

  // --- writes -------------------------------------------------------------------------------------------------
  async function saveGeometry(layer) {
    const feature = layer.feature;
    try {
      const saved = await api("PATCH", "/collections/communities/items/" + feature.id,
        { type: "Feature", geometry: layer.toGeoJSON().geometry }, feature.properties.version);
      feature.properties.version = saved.properties.version;
      say("已保存 " + feature.properties.id + "（版本 " + saved.properties.version + "）", "ok");
    } catch (error) {
      report(error);
    }
  }

  function needTools() {
    if (map.pm) return true;
    say("绘图组件未安装：请运行 npm ci --prefix api/web", "error");
    return false;
  }

  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
    try {
      const [description] = await Promise.all([api("GET", "/edit/fields.json"), loadStreets()]);
      fields = description.fields;
      const data = await load(true);
      say("已加载 " + data.features.length + " 个小区", "ok");
    } catch (error) {
      report(error);
    }
  });

  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = $("search").value.trim();
    if (!q) return;
    let found = null;
    layers.forEach((layer, fid) => { if (!found && layer.feature.properties.id === q) found = fid; });
    layers.forEach((layer, fid) => { if (!found && (layer.feature.properties.name || "").includes(q)) found = fid; });
    if (found === null) { say("没有找到“" + q + "”", "error"); return; }
    selected.clear();
    selected.add(found);
    showSelection();
    map.fitBounds(layers.get(found).getBounds(), { maxZoom: 18, padding: [40, 40], animate: false });
    say("已定位 " + layers.get(found).feature.properties.name, "ok");
  });

  $("draw").addEventListener("click", () => {
    if (!needTools()) return;
    stopEditing();
    map.pm.enableDraw("Polygon", { allowSelfIntersection: false });
    say("画新小区：在地图上逐点单击，单击第一个点结束；按 Esc 取消", "");
  });

  $("split").addEventListener("click", () => {
    const layer = only();
    if (!layer || !needTools()) return;
    stopEditing();
    mode = "split";
    map.pm.enableDraw("Line", { snappable: false });  // a line snapped onto the edge would not cross it
    say("分割 " + layer.feature.properties.name + "：画一条完整穿过小区的线，单击最后一个点两次结束；按 Esc 取消", "");
  });

  map.on("pm:drawend", () => { if (mode === "split") mode = null; });

  map.on("pm:create", async (event) => {
    const geometry = event.layer.toGeoJSON().geometry;
    map.removeLayer(event.layer);
    if (event.shape === "Line") {
      const layer = only();
      mode = null;
      if (!layer) return;
      try {
        const result = await api("POST", "/communities/" + layer.feature.id + "/split", { line: geometry }, layer.feature.properties.version);
        selected.clear();
        await load(false);
        say("已分割为 " + result.parts.map((p) => p.properties.id).join("、"), "ok");
      } catch (error) {
        report(error);
      }
      return;
    }
    const name = prompt("新小区名称", "新小区");
    if (name === null) { say("已取消", ""); return; }
    try {
      const saved = await api("POST", "/collections/communities/items", { type: "Feature", properties: { name: name.trim() || "新小区" }, geometry });
      await load(false);
      say("已保存新小区 " + saved.properties.id + "：" + saved.properties.name, "ok");
    } catch (error) {
      report(error);
    }
  });

  $("edit").addEventListener("click", () => {
    const layer = only();
    if (!layer || !needTools()) return;
    if (mode === "edit") { stopEditing(); say("", ""); return; }
    stopEditing();
    mode = "edit";
    layer.pm.enable({ allowSelfIntersection: false });
    $("edit").textContent = "结束编辑";
    say("拖动顶点修改 " + layer.feature.properties.name + " 的范围；拖动边中点可加点，右键顶点可删点；每次修改自动保存", "");
  });

  $("merge").addEventListener("click", async () => {
    const ids = [...selected].map((fid) => layers.get(fid).feature.properties.id);
    if (ids.length < 2) { say("请先选择至少两个小区（按住 Ctrl 或 Shift 点击）", "error"); return; }
    try {
      const check = await api("POST", "/communities/merge/check", { ids });
      if (!check.touching) {
        const worst = check.gaps[0];
        const words = "所选小区不相邻：" + worst.a + " 与 " + worst.b + " 相距 " + worst.distance_m + " 米" +
          (worst.distance_m > check.max_gap_m ? "，超过 " + check.max_gap_m + " 米，不能合并。" : "。仍要合并吗？");
        if (worst.distance_m > check.max_gap_m) { say(words, "error"); return; }
        say(words, "warn");
        if (!confirm(words)) return;
      }
      const names = [...selected].map((fid) => layers.get(fid).feature.properties.name).join("+");
      const name = prompt("合并后的小区名称", names);
      if (name === null) { say("已取消合并", ""); return; }
      const result = await api("POST", "/communities/merge", { ids, name: name.trim() || ids.join("+") });
      selected.clear();
      await load(false);
      say("已合并为 " + result.merged.properties.id + "：" + result.merged.properties.name, "ok");
    } catch (error) {
      report(error);
    }
  });

  $("delete").addEventListener("click", async () => {
    const layer = only();
    if (!layer) return;
    const p = layer.feature.properties;
    if (!confirm("删除小区 " + p.name + "（" + p.id + "）？删除会记入修改历史。")) return;
    try {
      await api("DELETE", "/collections/communities/items/" + layer.feature.id, undefined, p.version);
      selected.clear();
      await load(false);
      say("已删除 " + p.name + "（" + p.id + "）", "ok");
    } catch (error) {
      report(error);
    }
  });

  $("clear").addEventListener("click", () => { stopEditing(); selected.clear(); showSelection(); say("", ""); });

  // Basemaps the server offers (none by default: the page works offline).
  fetch("/edit/basemaps.json").then((r) => r.json()).then((data) => {
    data.basemaps.forEach((b) => {
      const option = document.createElement("option");
      option.value = b.name;
      option.textContent = b.tiles[0].attribution;
      option.dataset.tiles = JSON.stringify(b.tiles);
      $("basemap").appendChild(option);
    });
  }).catch(() => {});
  $("basemap").addEventListener("change", (event) => {
    if (basemap) map.removeLayer(basemap);
    basemap = null;
    const option = event.target.selectedOptions[0];
    if (!option.value) return;
    basemap = L.layerGroup(JSON.parse(option.dataset.tiles).map((t) => L.tileLayer(t.url, t))).addTo(map);
  });

  window.communityEditor = { map, layers, load, selected };
})();
