// Small screens (below 700 px): the map page shows the map and the list as two tabs, after the
// WAI-ARIA Authoring Practices "Tabs" pattern (roving tabindex, arrow keys, Home/End). On wider
// screens both are shown side by side and the tab roles are taken off again.

const SMALL = window.matchMedia("(max-width: 700px)");
const tabs = [...document.querySelectorAll(".view-tabs [role=tab]")];
const panelOf = (tab) => document.getElementById(tab.getAttribute("aria-controls"));
const scrollTops = new Map(); // a hidden panel forgets its scroll position: kept here

/** Fit Leaflet to its container after it was shown or resized. */
function refreshMap() {
  window.arealsjekkMap?.invalidateSize({ pan: false });
}

function apply() {
  for (const tab of tabs) {
    const panel = panelOf(tab);
    if (!panel) continue;
    const selected = tab.getAttribute("aria-selected") === "true";
    if (SMALL.matches) {
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      if (!selected && !panel.hidden) scrollTops.set(panel, panel.scrollTop);
      panel.hidden = !selected;
      if (selected && scrollTops.has(panel)) panel.scrollTop = scrollTops.get(panel);
    } else {
      panel.removeAttribute("role");
      panel.removeAttribute("aria-labelledby");
      panel.hidden = false;
    }
  }
  refreshMap();
}

/** Select a tab (and show its panel); move the focus to it when asked. */
export function selectTab(name, focus = false) {
  for (const tab of tabs) {
    const on = tab.dataset.testid === `tab-${name}`;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    if (on && focus) tab.focus();
  }
  apply();
}

for (const tab of tabs) {
  tab.addEventListener("click", () => selectTab(tab.dataset.testid.slice(4)));
  tab.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(tab);
    const next = {
      ArrowRight: (index + 1) % tabs.length,
      ArrowLeft: (index - 1 + tabs.length) % tabs.length,
      Home: 0,
      End: tabs.length - 1,
    }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    selectTab(tabs[next].dataset.testid.slice(4), true);
  });
}

// Choosing a finding in the list shows it on the map: on a small screen, switch to the map
// first (captured before the list's own handler zooms, so the map has its size by then). From
// the keyboard the focus goes to the «Kart» tab, not to the now hidden list (WCAG 2.4.3).
function showMapFirst(event) {
  if (!SMALL.matches || !event.target.closest?.("[data-testid=finding]")) return;
  if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
  selectTab("map", event.type === "keydown");
}
document.addEventListener("click", showMapFirst, true);
document.addEventListener("keydown", showMapFirst, true);

SMALL.addEventListener("change", apply);
apply();
