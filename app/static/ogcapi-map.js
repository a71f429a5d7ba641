/**
 * The small map of the OGC API's HTML items and item pages: draws the GeoJSON the #ogc-map
 * element names (data-geojson, CRS84) over the configured base map (data-basemap-*).
 * A file of its own, since the Content-Security-Policy allows no inline script.
 */
const box = document.getElementById("ogc-map");

function baseMap({ basemapKind: kind, basemapUrl: url, basemapLayer: layer, basemapAttribution }) {
  const attribution = document.createElement("span");
  attribution.textContent = basemapAttribution || "";
  const options = { attribution: attribution.innerHTML, maxZoom: 18 };
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

async function show() {
  const map = L.map(box);
  baseMap(box.dataset)?.addTo(map);
  map.setView([60.2, 9.3], 7); // Buskerud, until the features are drawn
  const response = await fetch(box.dataset.geojson, {
    headers: { Accept: "application/geo+json" },
  });
  if (!response.ok) return;
  const layer = L.geoJSON(await response.json(), {
    style: { color: "#1a4f8b", weight: 2, fillOpacity: 0.2 },
    pointToLayer: (_, latlng) => L.circleMarker(latlng, { radius: 5 }),
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 15, padding: [12, 12] });
}

if (box && window.L) show();
