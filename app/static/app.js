// The planner's map page: upload a proposal, check it, show the proposal and its findings.
import {
  REVIEW_STATUS,
  SEVERITIES,
  SEVERITY,
  ApiError,
  api,
  el,
  formatDate,
  loadLayerTitles,
  problemView,
  showStatus,
  withLayerTitles,
} from "./api.js";

const BUSKERUD = [
  [59.41, 7.44],
  [61.09, 10.6],
];
// Leaflet shows attributions as HTML: a constant, with nothing from data in it.
const ATTRIBUTION =
  'Kommunegrenser © Kartverket, CC BY 4.0; kartlag: se <a href="/api/v1/layers">kilder</a>';
const PLAN_STYLE = {
  planomrade: { color: "#1a237e", weight: 2, dashArray: "8 4", fill: false },
  arealformal: { color: "#283593", weight: 1.5, fillColor: "#5c6bc0", fillOpacity: 0.12 },
  hensynssone: { color: "#6a1b9a", weight: 1.5, dashArray: "4 3", fillOpacity: 0.05 },
};
// Arealformål in the plan colours (SOSI tegneregler for arealplaner): the fill carries the
// meaning, so it is strong; thin dark borders as on a printed plan map.
const PLAN_COLOUR_STYLE = { color: "#37474f", weight: 1, fillOpacity: 0.55 };
const COMPARISON = {
  new: { label: "Ny", help: "Nytt funn i denne versjonen." },
  unchanged: {
    label: "Uendret",
    help: "Samme funn som i forrige versjon; behandlingen følger med.",
  },
  changed: {
    label: "Endret",
    help: "Funnet fantes i forrige versjon, men alvorligheten eller tallene er endret.",
  },
};
// Names of feature info attributes a planner reads; other keys are shown as they are.
const ATTRIBUTE_LABELS = {
  name: "Navn",
  navn: "Navn",
  value: "Verdi",
  kommunenummer: "Kommunenummer",
  feltnavn: "Feltnavn",
  arealformal: "Arealformål",
  arealbruksstatus: "Arealbruksstatus",
  hensynssone: "Hensynssone",
  proposal_id: "Planforslag",
  version: "Versjon",
  severity: "Alvorlighet",
  rule_id: "Retningslinje",
  message: "Melding",
  cell: "Rute i matrisen",
};

const statusBox = document.getElementById("status");
const resultsPanel = document.getElementById("results");
const findingsBox = document.getElementById("findings");
let rules = []; // the rules of the rule set in use, from /api/v1/rules
let ruleTitles = {};
let planColours = null; // {arealformal: {code: {fill, title}}, default}, or null if not offered
let planLayer = null;
let findingsLayer = null;
let problemMarkers = null;

// --- The map: our WMS layers as tiles, with a configurable base map ----------------------

const mapBox = document.getElementById("map");
const map = L.map(mapBox, { minZoom: 6, maxZoom: 18, zoomControl: false }).fitBounds(BUSKERUD);
L.control.zoom({ zoomInTitle: "Zoom inn", zoomOutTitle: "Zoom ut" }).addTo(map);
L.control.scale({ imperial: false, maxWidth: 150 }).addTo(map);
map.attributionControl.addAttribution(ATTRIBUTION);
window.arealsjekkMap = map;

// On a phone the map sits in a hidden tab while the list is shown; a hidden map has no size,
// and fitting bounds into nothing zooms all the way in. The fit waits until the map is shown
// (layout.js calls invalidateSize, which fires "resize").
let pendingFit = null;

/** Zoom the map to bounds now, or as soon as it is shown if it is hidden. */
function fitMap(bounds, options) {
  const size = map.getSize();
  if (mapBox.offsetWidth === 0 || mapBox.offsetHeight === 0 || !size.x || !size.y) {
    pendingFit = [bounds, options];
    return;
  }
  pendingFit = null;
  map.fitBounds(bounds, options);
}

map.on("resize", () => {
  if (pendingFit && mapBox.offsetWidth && mapBox.offsetHeight) fitMap(...pendingFit);
});

/** Ask once more, a little later, for a tile that failed (every renderer busy: 503). */
function retryFailedTiles(layer) {
  layer.on("tileerror", ({ tile, coords }) => {
    if (tile.dataset.retried) return;
    tile.dataset.retried = "true";
    setTimeout(() => {
      if (layer._map) tile.src = layer.getTileUrl(coords);
    }, 2000);
  });
  return layer;
}

/**
 * One of our WMS layers as cached XYZ tiles in WebMercatorQuad (app/routers/tiles.py): drawn
 * once by the WMS renderer, then served from the tile cache until the data change.
 */
function tiles(name, zIndex, extra = {}) {
  const layer = L.tileLayer(`/tiles/${encodeURIComponent(name)}/WebMercatorQuad/{z}/{y}/{x}.png`, {
    tileSize: 256,
    maxZoom: 18,
    zIndex,
    className: `wms-layer wms-${name.replace(/[^a-z0-9_-]/gi, "_")}`,
    arealsjekkLayer: name, // for the legend: the WMS layer these tiles draw
    ...extra,
  });
  return retryFailedTiles(layer);
}

/** A layer of another WMS, drawn untiled by that service. */
function wms(layers, zIndex, extra = {}, url = "/wms") {
  const layer = L.tileLayer.wms(url, {
    layers,
    styles: "",
    format: "image/png",
    transparent: true,
    version: "1.3.0",
    tileSize: 512, // 512 px tiles: a quarter of the requests
    zIndex,
    className: `wms-layer wms-${layers.replace(/[^a-z0-9_-]/gi, "_")}`,
    ...extra,
  });
  return retryFailedTiles(layer);
}

const layerControl = L.control.layers({}, {}, { collapsed: true });
const overlaysById = {}; // WMS layers by id: {layer, title, legend: layer name or null}
const vectorLayers = new Set(); // guideline layers worth turning on for a finding
let offered = new Map(); // WMS layer name → title, from GetCapabilities

/** The names and titles of the layers our WMS offers (empty when it does not answer). */
async function wmsLayerNames() {
  try {
    const response = await fetch("/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0");
    if (!response.ok) return new Map();
    const xml = new DOMParser().parseFromString(await response.text(), "text/xml");
    const names = new Map();
    for (const layer of xml.getElementsByTagName("Layer")) {
      const name = [...layer.children].find((c) => c.localName === "Name")?.textContent;
      const title = [...layer.children].find((c) => c.localName === "Title")?.textContent;
      if (name) names.set(name, title || name);
    }
    return names;
  } catch {
    return new Map();
  }
}

/** Escape text for Leaflet's attribution, which takes HTML. */
const asHtmlText = (text) => el("span", {}, text || "").innerHTML;

/**
 * The base map the #map element names (data-basemap-kind "xyz" or "wms", data-basemap-url,
 * data-basemap-layer, data-basemap-attribution), else our WMS layer `basemap` when offered.
 */
function baseMapLayer() {
  const { basemapKind: kind, basemapUrl: url, basemapLayer, basemapAttribution } = mapBox.dataset;
  const attribution = asHtmlText(basemapAttribution);
  if (kind === "xyz" && url) return L.tileLayer(url, { attribution, maxZoom: 18, zIndex: 0 });
  const name = basemapLayer || "basemap";
  const ours = !url || url === "/wms";
  if (kind === "wms" && !ours) return wms(name, 0, { transparent: false, attribution }, url);
  // Ours, as tiles: only a layer our WMS offers (a missing one would be a map of error tiles).
  if (offered.has(name)) return tiles(name, 0, { attribution });
  return null;
}

function addBaseLayers() {
  const basemap = baseMapLayer();
  const terrain = tiles("elevation", 1); // its source: the layer list (ATTRIBUTION's «kilder»)
  overlaysById.elevation = { layer: terrain, title: "Terreng (høydemodell)", legend: "elevation" };
  if (basemap) {
    layerControl.addBaseLayer(basemap, "Bakgrunnskart");
    const ours = basemap.options.arealsjekkLayer;
    if (ours || basemap instanceof L.TileLayer.WMS)
      overlaysById.basemap = { layer: basemap, title: "Bakgrunnskart", legend: ours || null };
  }
  layerControl.addBaseLayer(terrain, "Terreng (høydemodell)");
  layerControl.addBaseLayer(L.layerGroup(), "Uten bakgrunn");
  (basemap || terrain).addTo(map);
  return Boolean(basemap);
}

/**
 * A label for Leaflet's layer switcher, which takes labels as HTML strings only: built as
 * nodes (text stays text) and serialised, so a layer title is escaped, never markup.
 */
function layerLabel(guidelines, title) {
  return el("span", {}, guidelines ? el("b", {}, guidelines) : null, ` ${title}`).outerHTML;
}

function addOverlay(id, label, title, zIndex, legend = id) {
  const layer = tiles(id, zIndex);
  overlaysById[id] = { layer, title, legend };
  layerControl.addOverlay(layer, label);
  return layer;
}

async function addGuidelineLayers(withBasemap) {
  let layers = [];
  try {
    layers = (await api("/api/v1/layers")).body;
  } catch {
    layers = [];
  }
  const demo = layers.some((layer) => /synthetic/i.test(layer.current_version?.licence || ""));
  document.getElementById("demo-note").hidden = !demo;
  // The tree-line height surface is opaque and says little by itself; the area above the
  // tree line (G1's comparison of terrain and tree line) is what a planner reads.
  const aboveTreeLine = offered.has("above_tree_line");
  const treeLine = layers.find((layer) => layer.id === "tree_line");
  const guideline = layers.filter(
    (layer) => layer.id !== "elevation" && !(aboveTreeLine && layer.id === "tree_line"),
  );
  guideline.sort((a, b) => a.guidelines.join().localeCompare(b.guidelines.join()));
  if (aboveTreeLine) {
    const guidelines = treeLine?.guidelines.join(", ") || "";
    addOverlay(
      "above_tree_line",
      layerLabel(guidelines, "Over skoggrensen"),
      "Over skoggrensen",
      9,
    );
  }
  guideline.forEach((layer, i) => {
    if (layer.kind === "vector") vectorLayers.add(layer.id);
    const label = layerLabel(layer.guidelines.join(", "), layer.title);
    addOverlay(layer.id, label, layer.title, 10 + i);
  });
  // The matrix zones are the cells of the rule set's mobility matrix rule (G5 in Buskerudplanen).
  const matrix = rules.find((rule) => rule.class === "mobility_matrix");
  if (matrix) {
    const title = "Sentralitet × utbyggingspress (matrisen)";
    addOverlay("matrix_zones", layerLabel(matrix.id, title), title, 5);
  }
  addOverlay("proposals", "Alle planforslag (siste versjon)", "Alle planforslag", 40);
  // The findings group has no legend of its own; its members share one style.
  const all = "Funn i alle planforslag (siste kontroll)";
  addOverlay("findings", all, all, 45, "findings_conflict");
  // Kommunegrenser, on top of the other WMS layers: on by default when there is no base map
  // (a base map draws them itself, and every tile layer more is a render more).
  const borders = addOverlay("municipalities", "Kommunegrenser", "Kommunegrenser", 50);
  if (!withBasemap) borders.addTo(map);
}

// The severity key: first in the legend panel (the bottom of the map has the scale bar).
const severityLegend = el(
  "section",
  { class: "legend-entry" },
  el("h3", {}, "Funn i kontrollen"),
  el(
    "div",
    { class: "legend", "data-testid": "legend" },
    SEVERITIES.map((s) =>
      el(
        "span",
        { title: SEVERITY[s].help },
        el("i", { style: `background:${SEVERITY[s].colour}` }),
        SEVERITY[s].label,
      ),
    ),
    el("span", { class: "plan-key" }, el("i", { class: "plan-swatch" }), "Planforslaget"),
  ),
);

// --- Legend panel: a legend and an opacity slider per visible WMS layer ---------------------

const legendPanel = L.control({ position: "topright" });
const legendEntries = el("div", { class: "legend-entries", "data-testid": "legend-entries" });
legendPanel.onAdd = () => {
  const box = el(
    "details",
    {
      class: "map-panel legend-panel",
      "data-testid": "legend-panel",
      // Open on a laptop; on a phone the map needs the room.
      open: window.matchMedia("(min-width: 700px)").matches,
    },
    el("summary", {}, "Tegnforklaring"),
    legendEntries,
  );
  L.DomEvent.disableClickPropagation(box);
  L.DomEvent.disableScrollPropagation(box);
  return box;
};

function legendUrl(name) {
  const params = new URLSearchParams({
    SERVICE: "WMS",
    REQUEST: "GetLegendGraphic",
    VERSION: "1.3.0",
    FORMAT: "image/png",
    LAYER: name,
    SLD_VERSION: "1.1.0",
  });
  return `/wms?${params}`;
}

/** The WMS layers on the map (base and overlays), the topmost first. */
function visibleWmsLayers() {
  return Object.entries(overlaysById)
    .filter(([, entry]) => map.hasLayer(entry.layer))
    .sort(([, a], [, b]) => (b.layer.options.zIndex || 0) - (a.layer.options.zIndex || 0));
}

function legendEntry(id, entry) {
  const slider = `opacity-${id}`;
  const percent = Math.round((entry.layer.options.opacity ?? 1) * 100);
  const input = el("input", {
    type: "range",
    id: slider,
    min: "0",
    max: "100",
    step: "10",
    value: String(percent),
    "aria-valuetext": `${percent} %`,
    "data-testid": "opacity",
    "data-layer": id,
  });
  input.addEventListener("input", () => {
    entry.layer.setOpacity(Number(input.value) / 100);
    input.setAttribute("aria-valuetext", `${input.value} %`);
  });
  const image = entry.legend
    ? el("img", {
        src: legendUrl(entry.legend),
        alt: `Tegnforklaring for ${entry.title}`,
        class: "legend-image",
        "data-testid": "legend-image",
        "data-layer": id,
      })
    : null;
  image?.addEventListener("error", () => image.remove()); // a layer without a drawable legend
  return el(
    "section",
    { class: "legend-entry", "data-testid": "legend-entry", "data-layer": id },
    el("h3", {}, entry.title),
    el("label", { for: slider }, `Dekkevne for ${entry.title}`),
    input,
    image,
  );
}

/** The plan's own arealformål with their colours, when the plan colours are known. */
function planLegend() {
  if (!planColours || !planLayer) return null;
  const codes = new Map();
  for (const layer of planLayer.getLayers()) {
    const p = layer.feature.properties;
    const fill = planFill(p);
    if (!fill) continue;
    const entry = planColours.arealformal?.[String(p.arealformal)] || {};
    const name = entry.title || p.arealformal_navn || String(p.arealformal ?? "");
    const title = p.arealbruksstatus === 1 ? `${name} (nåværende)` : name;
    codes.set(`${p.arealformal} ${fill}`, { code: p.arealformal ?? 0, fill, title });
  }
  if (!codes.size) return null;
  return el(
    "section",
    { class: "legend-entry", "data-testid": "plan-legend" },
    el("h3", {}, "Planforslagets arealformål"),
    el(
      "ul",
      { class: "plan-legend" },
      [...codes.values()]
        .sort((a, b) => a.code - b.code)
        .map(({ code, fill, title }) =>
          el("li", {}, el("i", { style: `background:${fill}` }), `${code} ${title}`),
        ),
    ),
  );
}

let legendPending = false;
function updateLegend() {
  if (legendPending) return;
  legendPending = true;
  setTimeout(() => {
    legendPending = false;
    const entries = visibleWmsLayers().map(([id, entry]) => legendEntry(id, entry));
    const plan = planLegend();
    // In the plan colours the plan has its own key; the plain outline swatch is for without.
    severityLegend.querySelector(".plan-key").hidden = Boolean(plan);
    legendEntries.replaceChildren(
      severityLegend,
      ...(plan ? [plan] : []),
      ...entries,
      entries.length ? "" : el("p", { class: "muted" }, "Ingen kartlag er slått på."),
    );
  }, 0);
}
map.on("overlayadd overlayremove baselayerchange", updateLegend);

// --- Click-to-identify: WMS GetFeatureInfo for the visible layers ---------------------------

let identifyRun = 0;

/** The layers a click asks about: the visible WMS layers, except the drawn base map. */
function queryLayers() {
  return visibleWmsLayers()
    .filter(([id]) => id !== "basemap")
    .map(([id]) => id)
    .reverse(); // bottom first, as in LAYERS
}

/** The rows of a feature: the labelled fields the WMS gives, else its attributes. */
function attributeRows(properties) {
  const fields = Array.isArray(properties.fields)
    ? properties.fields.map((f) => [f.label, f.value])
    : Object.entries(properties)
        .filter(([key]) => !["layer", "id", "layer_title", "title"].includes(key))
        .map(([key, value]) => [ATTRIBUTE_LABELS[key] || key, value]);
  return fields
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .slice(0, 12)
    .map(([label, value]) => el("tr", {}, el("th", {}, label), el("td", {}, String(value))));
}

/** Show what the visible layers hold at a point, with `extra` nodes first (a plan area). */
async function identify(latlng, extra = []) {
  const layers = queryLayers();
  if (!layers.length && !extra.length) return;
  const run = ++identifyRun;
  const body = el("div", { class: "identify", "data-testid": "feature-info" }, extra);
  const waiting = el("p", { class: "muted" }, "Henter opplysninger fra kartlagene …");
  if (layers.length) body.append(waiting);
  L.popup({ maxWidth: 340, maxHeight: 320, className: "identify-popup" })
    .setLatLng(latlng)
    .setContent(body) // a node: Leaflet would parse a string as HTML
    .openOn(map);
  if (!layers.length) return;
  const size = map.getSize();
  const bounds = map.getBounds();
  const sw = L.CRS.EPSG3857.project(bounds.getSouthWest());
  const ne = L.CRS.EPSG3857.project(bounds.getNorthEast());
  const point = map.latLngToContainerPoint(latlng).round();
  const params = new URLSearchParams({
    SERVICE: "WMS",
    VERSION: "1.3.0",
    REQUEST: "GetFeatureInfo",
    LAYERS: layers.join(","),
    QUERY_LAYERS: layers.join(","),
    STYLES: "",
    CRS: "EPSG:3857",
    BBOX: [sw.x, sw.y, ne.x, ne.y].join(","),
    WIDTH: String(size.x),
    HEIGHT: String(size.y),
    I: String(point.x),
    J: String(point.y),
    INFO_FORMAT: "application/json",
    FEATURE_COUNT: "5",
  });
  let features = [];
  try {
    features = (await api(`/wms?${params}`)).body?.features || [];
  } catch {
    if (run === identifyRun) waiting.textContent = "Kartlagene svarte ikke. Prøv igjen.";
    return;
  }
  if (run !== identifyRun) return; // a later click has its own popup
  const titleOf = (name) =>
    overlaysById[name]?.title ||
    features.find((f) => f.properties.layer === name)?.properties.layer_title ||
    offered.get(name) ||
    name;
  waiting.replaceWith(
    ...(features.length
      ? features.map((feature) =>
          el(
            "section",
            {
              class: "identify-feature",
              "data-testid": "feature-info-item",
              "data-layer": feature.properties.layer,
            },
            el("h3", {}, feature.properties.title || titleOf(feature.properties.layer)),
            el("p", { class: "muted" }, titleOf(feature.properties.layer)),
            el("table", {}, attributeRows(feature.properties)),
          ),
        )
      : [el("p", { class: "muted" }, "Ingen kartobjekter her i de synlige kartlagene.")]),
  );
}

map.on("click", (event) => identify(event.latlng));

// --- Upload and check ----------------------------------------------------------------------

const enc = encodeURIComponent;
const MEDIA_TYPES = {
  geojson: "application/geo+json",
  json: "application/geo+json",
  gml: "application/gml+xml",
  xml: "application/gml+xml",
  sos: "text/plain",
  zip: "application/zip",
  gpkg: "application/geopackage+sqlite3",
};

document.getElementById("upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = document.getElementById("upload-file").files[0];
  if (!file) return;
  const button = document.getElementById("upload-button");
  button.disabled = true;
  clearProblemMarkers();
  try {
    showStatus(statusBox, "busy", `Laster opp ${file.name} …`);
    let uploaded;
    try {
      uploaded = await api(`/api/v1/proposals?filename=${enc(file.name)}`, {
        method: "POST",
        body: file,
        headers: { "Content-Type": mediaType(file.name) },
      });
    } catch (error) {
      showStatus(statusBox, "error", problemView(error, "Filen ble ikke tatt imot.", true));
      drawProblemMarkers(error);
      focusStatus();
      return;
    }
    const version = uploaded.body;
    const identical = version.identical_to_version;
    if (identical) {
      // The same content as a stored version: no new version was made; show that one's check.
      const note = `Filen er identisk med versjon ${identical}. Ingen ny versjon er laget.`;
      showStatus(statusBox, "busy", note);
      await openProposal(version.proposal_id ?? version.id, identical, { note, focus: true });
      return;
    }
    showStatus(
      statusBox,
      "busy",
      `${version.plannavn || version.proposal_id}: versjon ` +
        `${version.version} lagret. Kontrollerer mot retningslinjene …`,
    );
    const check = await runCheck(version.proposal_id, version.version);
    await showCheck(check, version, { focus: true });
    loadProposals();
  } catch (error) {
    showStatus(statusBox, "error", problemView(error, "Noe gikk galt."));
    focusStatus();
  } finally {
    button.disabled = false;
  }
});

function mediaType(name) {
  return MEDIA_TYPES[name.split(".").pop().toLowerCase()] || "application/octet-stream";
}

/** Move keyboard focus to the error box, so a keyboard or screen reader user lands on it. */
function focusStatus() {
  const target = statusBox.querySelector("[data-testid=problem-box]") || statusBox;
  target.setAttribute("tabindex", "-1");
  target.focus();
}

function clearProblemMarkers() {
  if (problemMarkers) map.removeLayer(problemMarkers);
  problemMarkers = null;
}

/** Mark on the map where the upload's problems are (problems with a [lon, lat] location). */
function drawProblemMarkers(error) {
  clearProblemMarkers();
  const problems = (error instanceof ApiError ? error.problem.problems : null) || [];
  const located = problems.filter(
    (p) => Array.isArray(p.location) && p.location.length >= 2 && p.location.every(Number.isFinite),
  );
  if (!located.length) return;
  problemMarkers = L.featureGroup(
    located.map((p) => {
      const name =
        p.feltnavn ||
        p.lokal_id ||
        p.feature_id ||
        (p.feature !== undefined && p.feature !== null ? `objekt nr. ${p.feature + 1}` : "");
      const marker = L.circleMarker([p.location[1], p.location[0]], {
        radius: 11,
        color: "#b71c1c",
        weight: 4,
        fillColor: "#ffeb3b",
        fillOpacity: 0.9,
        className: "problem-marker",
      });
      // A node: the message quotes the file, and a string would be parsed as HTML.
      const text = el("span", {}, name ? el("strong", {}, `${name}: `) : null, p.message || "");
      return marker.bindTooltip(text, {
        permanent: located.length <= 3,
        direction: "top",
        className: "problem-tooltip",
      });
    }),
  ).addTo(map);
  fitMap(problemMarkers.getBounds(), { padding: [60, 60], maxZoom: 15 });
}

/** Start a check; a large plan answers 202 and we poll its Location until it is done. */
async function runCheck(proposalId, version) {
  const started = await api(`/api/v1/proposals/${enc(proposalId)}/versions/${version}/checks`, {
    method: "POST",
  });
  let check = started.body;
  const location = started.headers.get("Location") || `/api/v1/checks/${check.id}`;
  while (check.status === "queued" || check.status === "running") {
    showStatus(statusBox, "busy", "Store planer kontrolleres i bakgrunnen. Venter på resultat …");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    check = (await api(location)).body;
  }
  if (check.status === "failed") throw new Error(`Kontrollen feilet: ${check.error || ""}`);
  return check;
}

/** Upload notes: what was repaired, ignored or not understood. */
/** Name a feature of the uploaded file: its position, and its feltnavn or lokalId if it has one. */
function featureLabel(entry) {
  const name = entry.feltnavn
    ? ` (${entry.feltnavn})`
    : entry.lokal_id
      ? ` (lokalId ${entry.lokal_id})`
      : "";
  return `objekt nr. ${entry.feature + 1}${name}`;
}

function uploadNotes(report) {
  const lines = ["repaired", "unknown_codes", "ignored", "warnings"]
    .flatMap((key) => report?.[key] || [])
    .map((entry) =>
      el(
        "li",
        {},
        entry.feature !== null && entry.feature !== undefined
          ? el("strong", {}, `${featureLabel(entry)}: `)
          : null,
        entry.message,
      ),
    );
  if (!lines.length) return null;
  return el(
    "details",
    { class: "notes", "data-testid": "upload-notes" },
    el("summary", {}, `Merknader til opplastingen (${lines.length})`),
    el("ul", {}, lines),
  );
}

// --- Existing proposals --------------------------------------------------------------------

async function loadProposals() {
  const list = document.getElementById("proposal-list");
  try {
    const page = (await api("/api/v1/proposals?limit=50")).body;
    list.replaceChildren(
      ...page.items.map((p) =>
        el(
          "li",
          {},
          el(
            "button",
            {
              type: "button",
              class: "link",
              "data-testid": "open-proposal",
              "data-proposal": p.id,
              onclick: () => openProposal(p.id, p.latest_version),
            },
            p.plannavn || p.id,
          ),
          el(
            "span",
            { class: "muted" },
            ` ${p.id}, versjon ${p.latest_version}, ` + formatDate(p.updated_at),
          ),
        ),
      ),
    );
    if (!page.items.length) list.replaceChildren(el("li", { class: "muted" }, "Ingen ennå."));
  } catch (error) {
    list.replaceChildren(el("li", {}, problemView(error, "Kunne ikke hente planforslagene.")));
  }
}

async function openProposal(proposalId, versionNumber, options = {}) {
  try {
    if (!options.note) showStatus(statusBox, "busy", `Åpner ${proposalId} …`);
    const base = `/api/v1/proposals/${enc(proposalId)}/versions/${versionNumber}`;
    const version = (await api(base)).body;
    const checks = (await api(`${base}/checks`)).body;
    const done = checks.find((c) => c.status === "done");
    if (!done)
      showStatus(
        statusBox,
        "busy",
        `Versjon ${versionNumber} er ikke kontrollert; kontrollerer nå …`,
      );
    const check = done || (await runCheck(proposalId, versionNumber));
    await showCheck(check, version, options);
  } catch (error) {
    showStatus(statusBox, "error", problemView(error, `Kunne ikke åpne ${proposalId}.`));
    if (options.focus) focusStatus();
  }
}

async function openCheck(checkId, findingId) {
  // Ids from the address bar go into API paths: digits only (no "../" to other endpoints).
  if (!/^[0-9]+$/.test(checkId) || (findingId && !/^[0-9]+$/.test(findingId))) {
    showStatus(statusBox, "error", `Ugyldig kontroll i adressen: «${checkId}».`);
    return;
  }
  try {
    const check = (await api(`/api/v1/checks/${checkId}`)).body;
    const version = (
      await api(`/api/v1/proposals/${enc(check.proposal_id)}/versions/${check.version}`)
    ).body;
    await showCheck(check, version);
    if (findingId) selectFinding(Number(findingId));
  } catch (error) {
    showStatus(statusBox, "error", problemView(error, `Kunne ikke åpne kontroll ${checkId}.`));
  }
}

// --- Showing a check: proposal and findings on the map, the list beside it ---------------------

async function showCheck(check, version, options = {}) {
  const base = `/api/v1/proposals/${enc(check.proposal_id)}/versions/${check.version}`;
  const [plan, findings, full] = await Promise.all([
    api(`${base}/features`).then((r) => r.body),
    api(`/api/v1/checks/${check.id}/findings`).then((r) => r.body),
    // The comparison with the previous version is on the check's own resource.
    check.comparison === undefined
      ? api(`/api/v1/checks/${check.id}`).then((r) => r.body)
      : Promise.resolve(check),
  ]);
  check = full;
  clearProblemMarkers();
  drawPlan(plan);
  drawFindings(findings);
  renderResults(check, version);
  const counts = check.summary.by_severity;
  const tally = SEVERITIES.filter((s) => counts[s] && s !== "ok").map(
    (s) =>
      `${counts[s]} ${(counts[s] === 1 ? SEVERITY[s].label : SEVERITY[s].plural).toLowerCase()}`,
  );
  showStatus(
    statusBox,
    "info",
    options.note ? el("strong", { "data-testid": "identical-note" }, `${options.note} `) : "",
    `Versjon ${check.version} er kontrollert. `,
    tally.length ? `Funn: ${tally.join(", ")}.` : "Ingen funn som krever oppfølging.",
    uploadNotes(version.report) || "",
  );
  document.getElementById("proposals-panel").open = false;
  history.replaceState(null, "", `/?check=${check.id}`);
  if (planLayer.getLayers().length) fitMap(planLayer.getBounds(), { padding: [20, 20] });
  updateLegend();
  if (options.focus) document.getElementById("result-title")?.focus();
}

/** The tegneregler fill of an arealformål area (nåværende or framtidig), or null. */
function planFill(p) {
  if (p.kind !== "arealformal" || !planColours) return null;
  const entry = planColours.arealformal?.[String(p.arealformal)] || planColours.default;
  // arealbruksstatus 1 is nåværende, drawn in the lighter shade (KpArealbruksstatus).
  return (p.arealbruksstatus === 1 && entry?.fill_existing) || entry?.fill || null;
}

function planStyle(feature) {
  const p = feature.properties;
  const className = `plan-area plan-${p.kind}`;
  const fill = planFill(p);
  if (fill) return { ...PLAN_COLOUR_STYLE, fillColor: fill, className };
  return { ...(PLAN_STYLE[p.kind] || PLAN_STYLE.arealformal), className };
}

function drawPlan(collection) {
  if (planLayer) {
    layerControl.removeLayer(planLayer);
    map.removeLayer(planLayer);
  }
  planLayer = L.geoJSON(collection, {
    style: planStyle,
    onEachFeature: (f, layer) => {
      const p = f.properties;
      const name = [p.feltnavn, p.arealformal_navn || p.hensynssone_navn].filter(Boolean);
      // A node, not a string: Leaflet parses string content as HTML.
      if (name.length) layer.bindTooltip(el("span", {}, name.join(" – ")), { sticky: true });
      // A click on the plan identifies too: the area itself, then what the layers hold there.
      layer.on("click", (event) => {
        const what = [p.arealformal, p.arealformal_navn || p.hensynssone_navn];
        const area = el(
          "section",
          { class: "identify-feature", "data-testid": "feature-info-plan" },
          el("h3", {}, "Planforslaget"),
          el("p", {}, [p.feltnavn, what.filter(Boolean).join(" ")].filter(Boolean).join(": ")),
        );
        identify(event.latlng, [area]);
      });
    },
  }).addTo(map);
  layerControl.addOverlay(planLayer, "Dette planforslaget");
}

function findingStyle(feature, selected = false) {
  const colour = SEVERITY[feature.properties.severity]?.colour || "#000";
  const ok = feature.properties.severity === "ok";
  // Findings: a solid, heavy edge in the severity colour, so they stand apart from the
  // guideline layers (drawn by the WMS with thin edges and their own colours).
  return selected
    ? { color: "#000", weight: 4, fillColor: colour, fillOpacity: 0.55, dashArray: null }
    : {
        color: colour,
        weight: ok ? 1.5 : 3,
        fillColor: colour,
        fillOpacity: ok ? 0.1 : 0.35,
        className: "finding-area",
      };
}

function drawFindings(collection) {
  if (findingsLayer) {
    layerControl.removeLayer(findingsLayer);
    map.removeLayer(findingsLayer);
  }
  const order = (f) => SEVERITIES.length - SEVERITIES.indexOf(f.properties.severity);
  const features = collection.features
    .filter((f) => f.geometry)
    .sort((a, b) => order(a) - order(b));
  findingsLayer = L.geoJSON(
    { type: "FeatureCollection", features },
    {
      style: (f) => findingStyle(f),
      onEachFeature: (f, layer) => {
        layer.findingId = f.id;
        layer.on("click", () => selectFinding(f.id));
        const text =
          `${SEVERITY[f.properties.severity]?.label || f.properties.severity}: ` +
          `${f.properties.rule_id} ${f.properties.plan_feature_names.join(", ")}`;
        layer.bindTooltip(el("span", {}, text), { sticky: true }); // a node: text, not HTML
      },
    },
  ).addTo(map);
  layerControl.addOverlay(findingsLayer, "Funn i denne kontrollen");
}

function findingLayer(id) {
  return findingsLayer?.getLayers().find((layer) => layer.findingId === id);
}

function selectFinding(id) {
  findingsLayer.eachLayer((layer) =>
    layer.setStyle(findingStyle(layer.feature, layer.findingId === id)),
  );
  for (const item of findingsBox.querySelectorAll(".finding")) {
    const on = Number(item.dataset.findingId) === id;
    item.classList.toggle("selected", on);
    item.setAttribute("aria-pressed", String(on));
    if (on) {
      item.closest("details")?.setAttribute("open", "");
      item.scrollIntoView({ block: "nearest" });
    }
  }
  const layer = findingLayer(id);
  const item = findingsBox.querySelector(`.finding[data-finding-id="${id}"]`);
  let target = layer;
  if (!target && item) {
    // No intersection geometry (e.g. an ok finding): zoom to the plan areas it is about.
    const planIds = JSON.parse(item.dataset.planFeatureIds || "[]");
    const areas = planLayer.getLayers().filter((l) => planIds.includes(l.feature.id));
    if (areas.length) target = L.featureGroup(areas);
  }
  if (target) {
    layer?.bringToFront();
    fitMap(target.getBounds(), { padding: [60, 60], maxZoom: 14 });
  }
  // Turn on the vector guideline layers the finding was measured against (rasters such as
  // the tree-line surface cover everything and would hide the terrain; for the tree line the
  // area above it is shown instead, when the WMS offers it).
  const refs = JSON.parse(item?.dataset.layers || "[]");
  for (const ref of refs) {
    if (vectorLayers.has(ref)) overlaysById[ref]?.layer.addTo(map);
    if (ref === "tree_line") overlaysById.above_tree_line?.layer.addTo(map);
  }
}

/** "Sammenlignet med versjon N: …" and the findings resolved since, or null. */
function comparisonView(comparison, version) {
  if (!comparison) return null;
  const n = comparison.previous_version;
  // Against an earlier check of this same version (a re-run), not an earlier version.
  const previous = n === version ? `forrige kontroll av versjon ${n}` : `versjon ${n}`;
  const c = comparison.counts || {};
  // What needed follow-up and is gone; an «OK» that is gone needs nobody's attention (the
  // forum's list of resolved findings leaves them out too).
  const resolved = (comparison.resolved || []).filter((r) => r.severity !== "ok");
  return el(
    "div",
    { class: "comparison", "data-testid": "comparison" },
    el(
      "p",
      { "data-testid": "comparison-summary" },
      `Sammenlignet med ${previous}: ${c.new ?? 0} nye, ${c.changed ?? 0} endret, ` +
        `${c.unchanged ?? 0} uendret, ${resolved.length} løst`,
    ),
    resolved.length
      ? el(
          "details",
          { class: "resolved", "data-testid": "resolved" },
          el("summary", {}, `Løst siden ${previous} (${resolved.length})`),
          el(
            "ul",
            { class: "resolved-list" },
            resolved.map((r) =>
              el(
                "li",
                { "data-testid": "resolved-finding", "data-rule": r.rule_id },
                el("span", { class: `badge sev-${r.severity}` }, SEVERITY[r.severity]?.label || ""),
                " ",
                el(
                  "strong",
                  {},
                  ruleTitles[r.rule_id] ? `${r.rule_id} ${ruleTitles[r.rule_id]}` : r.rule_id,
                ),
                r.plan_feature_names?.length ? ` – ${r.plan_feature_names.join(", ")}` : "",
                el("span", { class: "resolved-message" }, withLayerTitles(r.message)),
                r.review?.status && r.review.status !== "open"
                  ? el(
                      "span",
                      { class: "resolved-review muted" },
                      `Behandling: ${REVIEW_STATUS[r.review.status] || r.review.status}`,
                    )
                  : null,
              ),
            ),
          ),
        )
      : null,
  );
}

function renderResults(check, version) {
  resultsPanel.hidden = false;
  const report = `/api/v1/checks/${check.id}/report`;
  document.getElementById("result-head").replaceChildren(
    el(
      "h2",
      { id: "result-title", tabindex: "-1", "data-testid": "result-title" },
      version.plannavn || check.proposal_id,
    ),
    el(
      "p",
      { class: "muted" },
      `${check.proposal_id}, versjon ${check.version}, kontroll nr. ${check.id} ` +
        `(${formatDate(check.finished_at)}), regelsett ${check.rule_set.version}`,
    ),
    comparisonView(check.comparison, check.version) || "",
    el(
      "p",
      { class: "report-links" },
      "Rapport: ",
      el(
        "a",
        {
          href: `${report}.html`,
          target: "_blank",
          "data-testid": "report-html",
        },
        "åpne (HTML)",
      ),
      " · ",
      el(
        "a",
        {
          href: `${report}.pdf`,
          target: "_blank",
          "data-testid": "report-pdf",
        },
        "last ned (PDF)",
      ),
    ),
  );

  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, []]));
  for (const f of check.findings) bySeverity[f.severity]?.push(f);
  const groups = SEVERITIES.filter((s) => bySeverity[s].length).map((severity) => {
    const list = el("ul", { class: "finding-list" }, bySeverity[severity].map(findingItem));
    const heading = [
      el("span", { class: `badge sev-${severity}` }, SEVERITY[severity].plural),
      ` ${bySeverity[severity].length} – `,
      el("span", { class: "muted" }, SEVERITY[severity].help),
    ];
    return el(
      "details",
      {
        class: `sev-group sev-${severity}`,
        "data-testid": `group-${severity}`,
        open: severity !== "ok",
      },
      el("summary", {}, heading),
      list,
    );
  });
  if (!groups.length) groups.push(el("p", {}, "Kontrollen ga ingen funn."));
  findingsBox.replaceChildren(...groups);
}

/** A finding in the list: a real button (selects it on the map) inside the list item. */
function findingItem(f) {
  const refs = [...new Set(f.layer_refs.map((r) => r.layer_id))].filter((id) => id !== "elevation");
  const rule = ruleTitles[f.rule_id] ? `${f.rule_id} ${ruleTitles[f.rule_id]}` : f.rule_id;
  const comparison = COMPARISON[f.comparison];
  // A button holds phrasing content only: spans laid out as blocks by map.css.
  const button = el(
    "button",
    {
      type: "button",
      class: `finding sev-${f.severity}`,
      "aria-pressed": "false",
      "data-testid": "finding",
      "data-finding-id": String(f.id),
      "data-severity": f.severity,
      "data-rule": f.rule_id,
      "data-comparison": f.comparison || null,
      "data-plan-feature-ids": JSON.stringify(f.plan_feature_ids),
      "data-layers": JSON.stringify(refs),
      title: findingLayer(f.id) ? "Vis i kartet" : "Vis planområdet i kartet",
      onclick: () => selectFinding(f.id),
    },
    el(
      "span",
      { class: "finding-head" },
      el("span", { class: `badge sev-${f.severity}` }, SEVERITY[f.severity].label),
      comparison
        ? el(
            "span",
            {
              class: `cmp-badge cmp-${f.comparison}`,
              title: comparison.help,
              "data-testid": "comparison-badge",
            },
            comparison.label,
          )
        : null,
      el("strong", {}, rule),
    ),
    f.plan_feature_names.length
      ? el(
          "span",
          { class: "finding-areas" },
          "Planområde: ",
          el("b", {}, f.plan_feature_names.join(", ")),
        )
      : null,
    el("span", { class: "finding-message" }, withLayerTitles(f.message)),
    f.suggested_action && f.severity !== "ok"
      ? el("span", { class: "finding-action" }, el("b", {}, "Forslag: "), f.suggested_action)
      : null,
    el("span", { class: "finding-para muted" }, f.paragraph),
  );
  return el("li", { class: "finding-item" }, button);
}

// --- Start ---------------------------------------------------------------------------------

async function start() {
  const [ruleSet, names, colours] = await Promise.all([
    api("/api/v1/rules").then(
      (r) => r.body.rules,
      () => [],
    ),
    wmsLayerNames(),
    // The plan colours (SOSI tegneregler); without them the plan keeps its plain style.
    api("/api/v1/plan-colours").then(
      (r) => r.body,
      () => null,
    ),
  ]);
  rules = ruleSet;
  offered = names;
  planColours = colours?.arealformal ? colours : null;
  ruleTitles = Object.fromEntries(rules.map((r) => [r.id, r.title]));
  await Promise.all([addGuidelineLayers(addBaseLayers()), loadLayerTitles()]);
  layerControl.addTo(map);
  layerControl.getContainer().querySelector(".leaflet-control-layers-toggle").title = "Kartlag";
  legendPanel.addTo(map);
  updateLegend();
  loadProposals();
  const params = new URLSearchParams(location.search);
  if (params.get("check")) openCheck(params.get("check"), params.get("finding"));
  else {
    const ids = rules.length ? ` ${rules.map((r) => r.id).join(", ")}` : "";
    showStatus(
      statusBox,
      "info",
      "Velg en fil med planforslaget. Det kontrolleres mot de regionale " +
        `retningslinjene${ids}, og funnene vises i listen og i kartet.`,
    );
  }
  document.body.dataset.ready = "true";
}

start();
