/**
 * The land account page (/arealregnskap): the sign-in box (api.js) and the map of the
 * reserves in conflict. The charts and tables are drawn by the server; this file only loads
 * the GeoJSON the #land-map element names (data-geojson, CRS84) over the base map the map
 * page uses (data-basemap-*). Names come from the municipalities' plan files: they are put
 * in as text nodes, never as HTML.
 */
import { el, formatNumber } from "./api.js";

const box = document.getElementById("land-map");
const status = document.getElementById("land-map-status");
const BUSKERUD = [
  [59.4, 7.4],
  [61.1, 10.6],
];

/** Escape text for Leaflet's attribution, which takes HTML. */
function asHtmlText(text) {
  const span = document.createElement("span");
  span.textContent = text || "";
  return span.innerHTML;
}

function baseMap({ basemapKind: kind, basemapUrl: url, basemapLayer: layer, basemapAttribution }) {
  const options = { attribution: asHtmlText(basemapAttribution), maxZoom: 18 };
  if (kind === "xyz" && url) return L.tileLayer(url, options);
  if (kind === "wms" && url && layer)
    return L.tileLayer.wms(url, {
      ...options,
      layers: layer,
      format: "image/png",
      version: "1.3.0",
    });
  return null;
}

// Whole dekar, as the page and the planvask report write them.
const daa = (m2) => `${formatNumber(Math.round(m2 / 1000))} daa`;

/** The popup of a reserve: its name, plan, purpose and the area in conflict per guideline. */
function popup(properties) {
  const rules = Object.entries(properties.conflicts || {})
    .filter(([, figures]) => figures.conflict_m2 > 0)
    .map(([rule, figures]) => el("li", {}, `${rule}: ${daa(figures.conflict_m2)}`));
  return el(
    "div",
    { class: "land-popup" },
    el("strong", {}, properties.name || "(uten navn)"),
    el(
      "div",
      {},
      `${properties.arealformal_name || properties.arealformal} · ${properties.planidentifikasjon || ""}`,
    ),
    el(
      "div",
      {},
      `Reserve ${daa(properties.reserve_m2)}, i konflikt ${daa(properties.conflict_m2)}`,
    ),
    el("ul", {}, ...rules),
  );
}

async function show() {
  const map = L.map(box, { minZoom: 6, maxZoom: 18 }).fitBounds(BUSKERUD);
  L.control.scale({ imperial: false, maxWidth: 150 }).addTo(map);
  baseMap(box.dataset)?.addTo(map);
  window.arealsjekkLandMap = map;
  const response = await fetch(box.dataset.geojson, {
    headers: { Accept: "application/geo+json" },
  });
  if (!response.ok) {
    status.textContent = "Kunne ikke hente reservene til kartet.";
    return;
  }
  const collection = await response.json();
  const layer = L.geoJSON(collection, {
    // className here: Leaflet gives the GeoJSON options to each path it makes.
    className: "land-reserve",
    style: { color: "#c62828", weight: 2, fillOpacity: 0.35 },
  })
    .bindPopup((item) => popup(item.feature.properties))
    .addTo(map);
  const count = collection.features.length;
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 14, padding: [16, 16] });
  status.textContent = count
    ? `${count} ${count === 1 ? "reserve" : "reserver"} i konflikt vist på kartet (rødt). Klikk på en for detaljer.`
    : "Ingen reserver i konflikt å vise på kartet.";
  box.dataset.drawn = String(count);
}

if (box && window.L) show();
document.body.dataset.ready = "true";
