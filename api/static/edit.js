// Community editor: loads communities through the OGC API with the planner's token, draws new compounds,
// moves vertices and merges selected communities. Every write sends If-Match with the version it read, so an
// edit made by someone else in the meantime shows a conflict message instead of being overwritten.
(function () {
  "use strict";
  const TOKEN_KEY = "renewal-token";
  const map = L.map("map", { zoomSnap: 0.25 }).setView([30, 110], 5);
  const layers = new Map(); // fid -> Leaflet layer
  const selected = new Set(); // fids
  const statusBox = document.getElementById("status");
  const tokenInput = document.getElementById("token");
  const nameInput = document.getElementById("name");
  let group = L.featureGroup().addTo(map);
  let editing = false;

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
      const error = new Error(typeof data?.detail === "string" ? data.detail : JSON.stringify(data?.detail));
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

  function showSelection() {
    const ids = [...selected].map((fid) => layers.get(fid).feature.properties.id);
    document.getElementById("selected").textContent = ids.length ? "已选：" + ids.join("、") : "";
    layers.forEach((layer, fid) => layer.setStyle(style(fid)));
  }

  function addFeature(feature) {
    const layer = L.geoJSON(feature, { style: () => style(feature.id) }).getLayers()[0];
    layer.feature = feature;
    layer.bindTooltip(feature.properties.name + "（" + feature.properties.id + "）");
    layer.on("click", () => {
      if (editing) return;
      selected.has(feature.id) ? selected.delete(feature.id) : selected.add(feature.id);
      showSelection();
    });
    layer.on("pm:edit", () => saveGeometry(layer));
    layers.set(feature.id, layer);
    group.addLayer(layer);
  }

  async function load(fit) {
    const data = await api("GET", "/collections/communities/items?limit=10000");
    group.clearLayers();
    layers.clear();
    data.features.forEach(addFeature);
    [...selected].forEach((fid) => { if (!layers.has(fid)) selected.delete(fid); });
    showSelection();
    if (fit && data.features.length) map.fitBounds(group.getBounds(), { padding: [20, 20] });
    if (editing) group.eachLayer((layer) => layer.pm.enable({ allowSelfIntersection: false }));
    document.body.dataset.loaded = String(data.features.length);
    return data;
  }

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

  document.getElementById("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
    try {
      const data = await load(true);
      say("已加载 " + data.features.length + " 个小区", "ok");
    } catch (error) {
      report(error);
    }
  });

  document.getElementById("draw").addEventListener("click", () => {
    if (!map.pm) { say("绘图组件未安装：请运行 npm ci --prefix api/web", "error"); return; }
    map.pm.enableDraw("Polygon", { allowSelfIntersection: false });
    say("在地图上逐点点击，最后点击第一个点结束", "");
  });

  map.on("pm:create", async (event) => {
    const geometry = event.layer.toGeoJSON().geometry;
    map.removeLayer(event.layer);
    const name = nameInput.value.trim() || "新小区";
    try {
      const saved = await api("POST", "/collections/communities/items", { type: "Feature", properties: { name }, geometry });
      await load(false);
      say("已保存新小区 " + saved.properties.id + "：" + name, "ok");
    } catch (error) {
      report(error);
    }
  });

  document.getElementById("edit").addEventListener("click", () => {
    if (!map.pm) { say("绘图组件未安装：请运行 npm ci --prefix api/web", "error"); return; }
    editing = !editing;
    group.eachLayer((layer) => (editing ? layer.pm.enable({ allowSelfIntersection: false }) : layer.pm.disable()));
    document.getElementById("edit").textContent = editing ? "结束编辑" : "编辑顶点";
    say(editing ? "拖动顶点修改范围，每次修改自动保存" : "", "");
  });

  document.getElementById("merge").addEventListener("click", async () => {
    const ids = [...selected].map((fid) => layers.get(fid).feature.properties.id);
    if (ids.length < 2) { say("请先点击选择至少两个小区", "error"); return; }
    const name = nameInput.value.trim() || ids.join("+");
    try {
      const result = await api("POST", "/communities/merge", { ids, name });
      selected.clear();
      await load(false);
      say("已合并为 " + result.merged.properties.id + "：" + name, "ok");
    } catch (error) {
      report(error);
    }
  });

  document.getElementById("clear").addEventListener("click", () => { selected.clear(); showSelection(); });

  window.communityEditor = { map, layers, load };
})();
