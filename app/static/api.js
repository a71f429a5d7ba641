// Shared helpers for the Arealsjekk pages: API calls with problem+json errors, DOM building,
// and the Norwegian words for severities, guidelines and review statuses.

export const SEVERITIES = ["conflict", "warning", "unknown", "info", "ok"];

export const SEVERITY = {
  conflict: {
    label: "Konflikt",
    plural: "Konflikter",
    colour: "#c62828",
    help: "I strid med en regional retningslinje – mulig grunnlag for innsigelse.",
  },
  warning: {
    label: "Advarsel",
    plural: "Advarsler",
    colour: "#ef6c00",
    help: "Må vurderes eller tilpasses.",
  },
  unknown: {
    label: "Ikke kontrollert",
    plural: "Ikke kontrollert",
    colour: "#757575",
    help: "Kartgrunnlaget mangler eller dekker ikke området. Dette er ikke det samme som OK.",
  },
  info: {
    label: "Til orientering",
    plural: "Til orientering",
    colour: "#1565c0",
    help: "Opplysninger uten krav til endring.",
  },
  ok: { label: "OK", plural: "OK", colour: "#2e7d32", help: "Kontrollert uten funn." },
};

export const REVIEW_STATUS = {
  open: "Åpen (ikke behandlet)",
  discussed: "Drøftet",
  accepted: "Akseptert",
  change_required: "Krever endring",
  objection: "Innsigelse",
};

/** An HTTP error, with the RFC 7807 problem details when the server sent them. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

// An API key (roles: planner, forum, …) is kept for this browser tab only and sent as a
// bearer token. Pages work without one where the service allows anonymous use.
const KEY_STORE = "arealsjekk.apiKey";
export const apiKey = () => sessionStorage.getItem(KEY_STORE) || "";

/** Tell whether a URL (absolute or relative to this page) is on this page's origin. */
export function sameOrigin(url) {
  try {
    return new URL(url, document.baseURI).origin === location.origin;
  } catch {
    return false;
  }
}

/** Fetch JSON from the API; throw ApiError on a non-2xx answer. */
export async function api(url, options = {}) {
  // The key goes to this service only, never to a URL an answer pointed elsewhere.
  const auth = apiKey() && sameOrigin(url) ? { Authorization: `Bearer ${apiKey()}` } : {};
  const response = await fetch(url, {
    ...options,
    headers: { Accept: "application/json", ...auth, ...(options.headers || {}) },
  });
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return { status: response.status, headers: response.headers, body };
}

// Attributes that take a URL: a javascript: (or data:) URL there is script, not a link.
const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction", "xlink:href"]);

/** Tell whether a URL from data may be a link target: http(s), or relative to this page. */
export function isSafeUrl(url) {
  try {
    return ["http:", "https:"].includes(new URL(String(url), document.baseURI).protocol);
  } catch {
    return false;
  }
}

/**
 * Build an element: el("a", {href: "/x", class: "y"}, "text", child).
 *
 * Children that are not nodes become text nodes and attribute values are set as values, so
 * nothing from the API is ever parsed as HTML (OWASP DOM based XSS Prevention Cheat Sheet).
 * Event handlers are functions only; a URL attribute with a scheme other than http(s) is left
 * out.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) {
      if (typeof value === "function") node.addEventListener(key.slice(2), value);
    } else if (URL_ATTRIBUTES.has(key.toLowerCase())) {
      if (isSafeUrl(value)) node.setAttribute(key, value);
    } else if (key === "style") {
      node.style.cssText = value; // through the CSSOM, which style-src does not govern
    } else if (key === "class") node.className = value;
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Show a message in a status box: kind is "info", "busy", "error" or "ok". */
export function showStatus(box, kind, ...content) {
  box.className = `status status-${kind}`;
  box.replaceChildren(...content);
}

/** Render an error, listing each problem with its feature number (1-based) and id. */
export function problemView(error, heading, upload = false) {
  const problem = error instanceof ApiError ? error.problem : {};
  const items = (problem.problems || []).map((p) => {
    const where = [];
    if (p.feature !== undefined && p.feature !== null) where.push(`objekt nr. ${p.feature + 1}`);
    if (p.feature_id) where.push(`id «${p.feature_id}»`);
    if (p.field) where.push(`felt ${p.field}`);
    return el(
      "li",
      { "data-testid": "problem" },
      where.length ? el("strong", {}, `${where.join(", ")}: `) : null,
      p.message,
    );
  });
  const summary =
    upload && items.length
      ? `Filen har ${items.length === 1 ? "én feil" : `${items.length} feil`} (objektene er ` +
        "nummerert fra 1 i filens rekkefølge). Ingenting er lagret; rett filen og prøv igjen."
      : error.message;
  return el(
    "div",
    { class: "problem", "data-testid": "problem-box" },
    el("p", {}, el("strong", {}, heading), " ", summary),
    items.length ? el("ul", {}, items) : null,
    error.status === 401 || error.status === 403
      ? el("p", {}, "Oppgi en API-nøkkel med riktig rolle under «API-nøkkel» øverst til høyre.")
      : null,
  );
}

/** The API key box in the top bar. */
function keyBox() {
  const box = document.getElementById("key-box");
  if (!box) return;
  const input = box.querySelector("input");
  const label = box.querySelector("summary");
  const show = () => {
    label.textContent = apiKey() ? `API-nøkkel: ${apiKey().slice(0, 12)}…` : "API-nøkkel";
  };
  box.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) sessionStorage.setItem(KEY_STORE, input.value.trim());
    else sessionStorage.removeItem(KEY_STORE);
    input.value = "";
    box.open = false;
    location.reload();
  });
  show();
}
keyBox();

const dateFormat = new Intl.DateTimeFormat("nb-NO", {
  dateStyle: "short",
  timeStyle: "short",
  timeZone: "Europe/Oslo",
});
const numberFormat = new Intl.NumberFormat("nb-NO", { maximumFractionDigits: 1 });

export const formatDate = (iso) => (iso ? dateFormat.format(new Date(iso)) : "");
export const formatNumber = (value) => numberFormat.format(value);

/** The file name a response suggests (Content-Disposition), else the URL's last segment. */
function fileName(response, url) {
  const disposition = response.headers.get("content-disposition") || "";
  const match = /filename="?([^";]+)"?/i.exec(disposition);
  return match ? match[1] : new URL(url, document.baseURI).pathname.split("/").pop();
}

/**
 * Fetch a document that needs the API key (a draft's report, the agenda) and show it: HTML in
 * a new tab, a PDF as a download. Throws ApiError when the service refuses.
 */
export async function openWithKey(url) {
  if (!isSafeUrl(url)) return;
  if (!sameOrigin(url)) {
    window.open(url, "_blank", "noopener"); // the key is for this service only
    return;
  }
  // A PDF is saved rather than shown from a blob: URL: that document would inherit this page's
  // Content-Security-Policy, and its object-src 'none' stops the browser's PDF viewer.
  const pdf = new URL(url, document.baseURI).pathname.endsWith(".pdf");
  // Open the tab at once, while the click still counts as the user's: pop-up blockers.
  const tab = pdf ? null : window.open("", "_blank");
  const response = await fetch(url, { headers: { Authorization: `Bearer ${apiKey()}` } });
  if (pdf && !response.ok) {
    const type = response.headers.get("content-type") || "";
    throw new ApiError(response.status, type.includes("json") ? await response.json() : null);
  }
  const href = URL.createObjectURL(await response.blob());
  if (tab) {
    tab.location.href = href; // the document inherits this page's policy (HTML: policy container)
    return;
  }
  const link = el("a", { download: fileName(response, url) });
  link.href = href; // our own blob: URL, which el() (rightly) refuses from data
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

// A browser following a link sends no Authorization header; links marked data-auth are
// fetched with the key instead when one is set (without a key the browser follows them).
document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[data-auth]");
  if (!link || !apiKey()) return;
  event.preventDefault();
  openWithKey(link.href).catch((error) => {
    const box = document.querySelector(".status[role=status]");
    if (box) showStatus(box, "error", problemView(error, "Kunne ikke hente dokumentet."));
  });
});
