// The planner's map page: upload a proposal, check it, show the proposal and its findings.
import { SEVERITIES, SEVERITY, api, el, formatDate, problemView, showStatus } from "./api.js";

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

const statusBox = document.getElementById("status");
const resultsPanel = document.getElementById("results");
const findingsBox = document.getElementById("findings");
let rules = []; // the rules of the rule set in use, from /api/v1/rules
let ruleTitles = {};
let planLayer = null;
let findingsLayer = null;

// --- The map: our WMS only (no internet, so no base tiles from elsewhere) ---------------

const map = L.map("map", { minZoom: 6, maxZoom: 18, zoomControl: false }).fitBounds(BUSKERUD);
L.control.zoom({ zoomInTitle: "Zoom inn", zoomOutTitle: "Zoom ut" }).addTo(map);
window.arealsjekkMap = map;

function wms(layers, zIndex, extra = {}) {
  return L.tileLayer.wms("/wms", {
    layers,
    styles: "",
    format: "image/png",
    transparent: true,
    version: "1.3.0",
    tileSize: 512,
    zIndex,
    ...extra, // 512 px tiles: a quarter of the requests
  });
}

const terrain = wms("elevation", 1, { attribution: ATTRIBUTION }).addTo(map);
const bases = { "Terreng (høydemodell)": terrain, "Uten bakgrunn": L.layerGroup() };
wms("municipalities", 50).addTo(map); // kommunegrenser, always on top of the WMS layers
const layerControl = L.control.layers(bases, {}, { collapsed: true }).addTo(map);
layerControl.getContainer().querySelector(".leaflet-control-layers-toggle").title = "Kartlag";
const overlaysById = {};
const vectorLayers = new Set(); // guideline layers worth turning on for a finding

/**
 * A label for Leaflet's layer switcher, which takes labels as HTML strings only: built as
 * nodes (text stays text) and serialised, so a layer title is escaped, never markup.
 */
function layerLabel(guidelines, title) {
  return el("span", {}, el("b", {}, guidelines), ` ${title}`).outerHTML;
}

function addOverlay(id, label, zIndex, layer = wms(id, zIndex)) {
  overlaysById[id] = layer;
  layerControl.addOverlay(layer, label);
}

async function addGuidelineLayers() {
  let layers = [];
  try {
    layers = (await api("/api/v1/layers")).body;
  } catch {
    layers = [];
  }
  const demo = layers.some((layer) => /synthetic/i.test(layer.current_version?.licence || ""));
  document.getElementById("demo-note").hidden = !demo;
  const guideline = layers.filter((layer) => layer.id !== "elevation"); // elevation: the base
  guideline.sort((a, b) => a.guidelines.join().localeCompare(b.guidelines.join()));
  guideline.forEach((layer, i) => {
    if (layer.kind === "vector") vectorLayers.add(layer.id);
    addOverlay(layer.id, layerLabel(layer.guidelines.join(", "), layer.title), 10 + i);
  });
  // The matrix zones are the cells of the rule set's mobility matrix rule (G5 in Buskerudplanen).
  const matrix = rules.find((rule) => rule.class === "mobility_matrix");
  if (matrix) {
    const label = layerLabel(matrix.id, "Sentralitet × utbyggingspress (matrisen)");
    addOverlay("matrix_zones", label, 5);
  }
  addOverlay("proposals", "Alle planforslag (siste versjon)", 40);
  addOverlay("findings", "Funn i alle planforslag (siste kontroll)", 45);
}

const legend = L.control({ position: "bottomleft" });
legend.onAdd = () =>
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
    el("span", {}, el("i", { class: "plan-swatch" }), "Planforslaget"),
  );
legend.addTo(map);

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
  try {
    showStatus(statusBox, "busy", `Laster opp ${file.name} …`);
    let version;
    try {
      version = (
        await api(`/api/v1/proposals?filename=${enc(file.name)}`, {
          method: "POST",
          body: file,
          headers: { "Content-Type": mediaType(file.name) },
        })
      ).body;
    } catch (error) {
      showStatus(statusBox, "error", problemView(error, "Filen ble ikke tatt imot.", true));
      return;
    }
    showStatus(
      statusBox,
      "busy",
      `${version.plannavn || version.proposal_id}: versjon ` +
        `${version.version} lagret. Kontrollerer mot retningslinjene …`,
    );
    const check = await runCheck(version.proposal_id, version.version);
    await showCheck(check, version);
    loadProposals();
  } catch (error) {
    showStatus(statusBox, "error", problemView(error, "Noe gikk galt."));
  } finally {
    button.disabled = false;
  }
});

function mediaType(name) {
  return MEDIA_TYPES[name.split(".").pop().toLowerCase()] || "application/octet-stream";
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
function uploadNotes(report) {
  const lines = ["repaired", "unknown_codes", "ignored", "warnings"]
    .flatMap((key) => report?.[key] || [])
    .map((entry) =>
      el(
        "li",
        {},
        entry.feature !== null && entry.feature !== undefined
          ? el("strong", {}, `objekt nr. ${entry.feature + 1}: `)
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

async function openProposal(proposalId, versionNumber) {
  try {
    showStatus(statusBox, "busy", `Åpner ${proposalId} …`);
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
    await showCheck(check, version);
  } catch (error) {
    showStatus(statusBox, "error", problemView(error, `Kunne ikke åpne ${proposalId}.`));
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

async function showCheck(check, version) {
  const base = `/api/v1/proposals/${enc(check.proposal_id)}/versions/${check.version}`;
  const [plan, findings] = await Promise.all([
    api(`${base}/features`).then((r) => r.body),
    api(`/api/v1/checks/${check.id}/findings`).then((r) => r.body),
  ]);
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
    `Versjon ${check.version} er kontrollert. `,
    tally.length ? `Funn: ${tally.join(", ")}.` : "Ingen funn som krever oppfølging.",
    uploadNotes(version.report) || "",
  );
  document.getElementById("proposals-panel").open = false;
  history.replaceState(null, "", `/?check=${check.id}`);
  if (planLayer.getLayers().length) map.fitBounds(planLayer.getBounds(), { padding: [20, 20] });
}

function drawPlan(collection) {
  if (planLayer) {
    layerControl.removeLayer(planLayer);
    map.removeLayer(planLayer);
  }
  planLayer = L.geoJSON(collection, {
    style: (f) => PLAN_STYLE[f.properties.kind] || PLAN_STYLE.arealformal,
    onEachFeature: (f, layer) => {
      const p = f.properties;
      const name = [p.feltnavn, p.arealformal_navn || p.hensynssone_navn].filter(Boolean);
      // A node, not a string: Leaflet parses string content as HTML.
      if (name.length) layer.bindTooltip(el("span", {}, name.join(" – ")), { sticky: true });
    },
  }).addTo(map);
  layerControl.addOverlay(planLayer, "Dette planforslaget");
}

function findingStyle(feature, selected = false) {
  const colour = SEVERITY[feature.properties.severity]?.colour || "#000";
  const ok = feature.properties.severity === "ok";
  return selected
    ? { color: "#000", weight: 4, fillColor: colour, fillOpacity: 0.55, dashArray: null }
    : { color: colour, weight: ok ? 1 : 2, fillColor: colour, fillOpacity: ok ? 0.1 : 0.35 };
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
    map.fitBounds(target.getBounds(), { padding: [60, 60], maxZoom: 14 });
  }
  // Turn on the vector guideline layers the finding was measured against (rasters such as
  // the tree line cover everything and would hide the terrain).
  const refs = JSON.parse(item?.dataset.layers || "[]");
  for (const ref of refs) if (vectorLayers.has(ref)) overlaysById[ref]?.addTo(map);
}

function renderResults(check, version) {
  resultsPanel.hidden = false;
  const report = `/api/v1/checks/${check.id}/report`;
  document.getElementById("result-head").replaceChildren(
    el("h2", { "data-testid": "result-title" }, version.plannavn || check.proposal_id),
    el(
      "p",
      { class: "muted" },
      `${check.proposal_id}, versjon ${check.version}, kontroll nr. ${check.id} ` +
        `(${formatDate(check.finished_at)}), regelsett ${check.rule_set.version}`,
    ),
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
          "data-auth": true,
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
          "data-auth": true,
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

function findingItem(f) {
  const refs = [...new Set(f.layer_refs.map((r) => r.layer_id))].filter((id) => id !== "elevation");
  const rule = ruleTitles[f.rule_id] ? `${f.rule_id} ${ruleTitles[f.rule_id]}` : f.rule_id;
  const select = () => selectFinding(f.id);
  return el(
    "li",
    {
      class: `finding sev-${f.severity}`,
      tabindex: "0",
      role: "button",
      "aria-pressed": "false",
      "data-testid": "finding",
      "data-finding-id": String(f.id),
      "data-severity": f.severity,
      "data-rule": f.rule_id,
      "data-plan-feature-ids": JSON.stringify(f.plan_feature_ids),
      "data-layers": JSON.stringify(refs),
      title: findingLayer(f.id) ? "Vis i kartet" : "Vis planområdet i kartet",
      onclick: select,
      onkeydown: (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          select();
        }
      },
    },
    el(
      "div",
      { class: "finding-head" },
      el("span", { class: `badge sev-${f.severity}` }, SEVERITY[f.severity].label),
      el("strong", {}, rule),
    ),
    f.plan_feature_names.length
      ? el(
          "div",
          { class: "finding-areas" },
          "Planområde: ",
          el("b", {}, f.plan_feature_names.join(", ")),
        )
      : null,
    el("p", { class: "finding-message" }, f.message),
    f.suggested_action && f.severity !== "ok"
      ? el("p", { class: "finding-action" }, el("b", {}, "Forslag: "), f.suggested_action)
      : null,
    el("div", { class: "finding-para muted" }, f.paragraph),
  );
}

// --- Start ---------------------------------------------------------------------------------

async function start() {
  try {
    rules = (await api("/api/v1/rules")).body.rules;
  } catch {
    rules = [];
  }
  ruleTitles = Object.fromEntries(rules.map((r) => [r.id, r.title]));
  await addGuidelineLayers();
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
