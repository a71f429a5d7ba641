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
    colour: "#b45309", // white on it 5.0:1 (WCAG 1.4.3); the map draws it too
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

// Signing in: the API key is sent once to /api/v1/session, which answers with an HttpOnly
// session cookie for this browser (every tab, report links opened in new tabs too). The page
// never keeps the key; it asks the service who is signed in.
const SESSION_URL = "/api/v1/session";

export const ROLE_NAMES = {
  planner: "planlegger",
  case_system: "sakssystem",
  forum: "planforum",
  admin: "administrator",
};

async function fetchSession() {
  try {
    const response = await fetch(SESSION_URL, { headers: { Accept: "application/json" } });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/**
 * Who is signed in ({key_name, role, kommunenummer, municipality, via}), or null; asked once
 * per page. API calls wait for it: a stale cookie is dropped by that answer, not refused later.
 */
export const currentSession = fetchSession();

// Guideline layers' titles by id, for rule texts that name a layer by its id.
let layerTitles = {};

/** Load the guideline layers' titles (once; a page without them shows the ids). */
export async function loadLayerTitles() {
  try {
    const layers = (await api("/api/v1/layers")).body;
    layerTitles = Object.fromEntries(layers.map((layer) => [layer.id, layer.title]));
  } catch {
    layerTitles = {};
  }
}

/** Name layers by title in a rule's text: «kartlaget tree_line» reads «kartlaget «Tregrense …»». */
export function withLayerTitles(text) {
  return String(text ?? "").replace(/(kartlaget )«?([a-z][a-z0-9_]{1,40})»?/g, (all, word, id) =>
    layerTitles[id] ? `${word}«${layerTitles[id]}»` : all,
  );
}

/** Fetch JSON from the API; throw ApiError on a non-2xx answer. */
export async function api(url, options = {}) {
  await currentSession;
  const response = await fetch(url, {
    // The session cookie goes to this service only. The service wants our Origin (or Referer)
    // on changes made with the cookie (CSRF); under the pages' Referrer-Policy, no-referrer, the
    // Fetch standard has a POST send "Origin: null" ("append a request Origin header"), so
    // this request's policy is same-origin: our origin, never sent to another site.
    credentials: "same-origin",
    referrerPolicy: "same-origin",
    ...options,
    // The pages are in bokmål whatever the browser's language (problem details too).
    headers: { Accept: "application/json", "Accept-Language": "nb", ...(options.headers || {}) },
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

/**
 * Show a message in a status box: kind is "info", "busy", "error" or "ok". Errors are
 * announced at once (role=alert), the rest politely (role=status) (WAI-ARIA 1.2, alert/status).
 */
export function showStatus(box, kind, ...content) {
  box.className = `status status-${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.setAttribute("aria-live", kind === "error" ? "assertive" : "polite");
  box.replaceChildren(...content);
}

/** Render an error, listing each problem with its feature number (1-based) and id. */
export function problemView(error, heading, upload = false) {
  const problem = error instanceof ApiError ? error.problem : {};
  const items = (problem.problems || []).map((p) => {
    const where = [];
    if (p.feature !== undefined && p.feature !== null) where.push(`objekt nr. ${p.feature + 1}`);
    if (p.feltnavn) where.push(`feltnavn «${p.feltnavn}»`);
    else if (p.lokal_id) where.push(`lokalId «${p.lokal_id}»`);
    else if (p.feature_id) where.push(`id «${p.feature_id}»`);
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
      ? el(
          "p",
          {},
          error.status === 401
            ? "Du må være logget inn med en API-nøkkel: "
            : "Bruk en API-nøkkel for riktig kommune eller rolle: ",
          el("button", { type: "button", class: "link", onclick: openKeyBox }, "Logg inn"),
          ".",
        )
      : null,
  );
}

/** Open the sign-in box in the top bar and put the cursor in it. */
export function openKeyBox() {
  const details = document.getElementById("key-login");
  if (!details || details.hidden) return;
  details.open = true;
  document.getElementById("key-input")?.focus();
}

/** The sign-in box in the top bar: who is signed in, «Logg ut», or the key form. */
async function keyBox() {
  const box = document.getElementById("key-box");
  if (!box) return;
  const who = document.getElementById("key-who");
  const logout = document.getElementById("key-logout");
  const details = document.getElementById("key-login");
  const input = document.getElementById("key-input");
  const status = document.getElementById("key-status");
  document.addEventListener("click", (event) => {
    if (event.target.closest?.("[data-open-key-box]")) openKeyBox();
  });
  box.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    try {
      await api(SESSION_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ api_key: input.value.trim() }),
      });
    } catch (error) {
      input.value = "";
      status.replaceChildren(`Ikke logget inn: ${error.message}`);
      input.focus();
      return;
    }
    location.reload(); // everything on the page is fetched again with the new rights
  });
  logout.addEventListener("click", async () => {
    await api(SESSION_URL, { method: "DELETE" }).catch(() => null);
    location.reload();
  });

  const session = await currentSession;
  for (const node of document.querySelectorAll("[data-needs-session]")) node.hidden = !!session;
  if (!session) return;
  const place = session.municipality
    ? `${session.municipality} (${session.kommunenummer})`
    : session.kommunenummer || "alle kommuner";
  who.textContent = `Innlogget som ${session.key_name} (${ROLE_NAMES[session.role] || session.role}, ${place})`;
  who.hidden = false;
  // A key sent by the client itself (a header) is not a browser session to sign out of.
  logout.hidden = session.via !== "cookie";
  details.hidden = true;
  box.classList.add("signed-in");
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
