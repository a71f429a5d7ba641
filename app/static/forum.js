// The regional plan forum's page: findings across municipalities, with a review per finding.
import {
  REVIEW_STATUS,
  SEVERITIES,
  SEVERITY,
  api,
  el,
  formatDate,
  loadLayerTitles,
  problemView,
  showStatus,
  withLayerTitles,
} from "./api.js";

const PAGE_SIZE = 20;
const RESOLVED_LIMIT = 200;
const filters = document.getElementById("filters");
const rows = document.getElementById("forum-rows");
const statusBox = document.getElementById("forum-status");
let offset = 0;
let total = 0;
let ruleTitles = {};

function fillSelect(select, options) {
  select.append(...options.map(([value, label]) => el("option", { value }, label)));
}

async function fillFilters() {
  fillSelect(filters.severity, [
    ...SEVERITIES.map((s) => [s, SEVERITY[s].label]),
    ["all", "Alle alvorligheter"],
  ]);
  fillSelect(filters.comparison, [
    ["new", "Nye"],
    ["changed", "Endret siden forrige versjon"],
    ["unchanged", "Uendret"],
  ]);
  fillSelect(filters.status, [
    ...Object.entries(REVIEW_STATUS).filter(([s]) => s !== "open"),
    ["all", "Alle vurderinger"],
  ]);
  const [municipalities, rules] = await Promise.allSettled([
    api("/api/v1/municipalities"),
    api("/api/v1/rules"),
  ]);
  if (municipalities.status === "fulfilled") {
    const items = municipalities.value.body.features
      .map((f) => f.properties)
      .sort((a, b) => a.name.localeCompare(b.name, "nb"));
    fillSelect(
      filters.kommunenummer,
      items.map((m) => [m.kommunenummer, `${m.name} (${m.kommunenummer})`]),
    );
  }
  // The guidelines are the rules of the rule set in use; without it, only "Alle" is offered.
  if (rules.status === "fulfilled") {
    ruleTitles = Object.fromEntries(rules.value.body.rules.map((r) => [r.id, r.title]));
    fillSelect(
      filters.rule_id,
      rules.value.body.rules.map((r) => [r.id, `${r.id} ${r.title}`]),
    );
  }
}

let loadSeq = 0;

async function load() {
  const seq = ++loadSeq; // a later load wins over an earlier one still under way
  const query = new URLSearchParams({ limit: PAGE_SIZE, offset });
  for (const [name, value] of new FormData(filters)) if (value) query.set(name, value);
  showStatus(statusBox, "busy", "Henter funn …");
  try {
    const page = (await api(`/api/v1/forum/findings?${query}`)).body;
    if (seq !== loadSeq) return;
    total = page.total;
    // The list comes ordered by municipality and plan: one heading row per plan.
    rows.replaceChildren(
      ...page.items.flatMap((f, i) =>
        i > 0 && page.items[i - 1].check_id === f.check_id ? [row(f)] : [planRow(f), row(f)],
      ),
    );
    if (!page.items.length) {
      rows.replaceChildren(
        el("tr", {}, el("td", { colspan: 3, class: "muted" }, "Ingen funn med disse valgene.")),
      );
    }
    loadResolved(query, seq);
    const last = Math.min(offset + page.items.length, total);
    document.getElementById("page-info").textContent = total
      ? `Viser ${offset + 1}–${last} av ${total} funn`
      : "0 funn";
    showStatus(statusBox, "info");
  } catch (error) {
    if (seq !== loadSeq) return;
    rows.replaceChildren();
    total = 0;
    document.getElementById("page-info").textContent = "";
    showStatus(statusBox, "error", problemView(error, "Kunne ikke hente funnene."));
  }
  document.getElementById("page-prev").disabled = offset === 0;
  document.getElementById("page-next").disabled = offset + PAGE_SIZE >= total;
}

function planRow(f) {
  const report =
    f.links?.find((l) => l.rel === "report")?.href || `/api/v1/checks/${f.check_id}/report.html`;
  return el(
    "tr",
    { class: "plan-row", "data-testid": "forum-plan", "data-check-id": String(f.check_id) },
    el(
      "th",
      { colspan: 3, scope: "rowgroup" },
      el("span", { class: "plan-municipality" }, f.municipality || f.kommunenummer),
      " – ",
      f.plannavn || f.proposal_id,
      el(
        "span",
        { class: "muted" },
        ` (${f.proposal_id}, versjon ${f.version}, kontroll ${f.check_id})`,
      ),
      el(
        "span",
        { class: "row-links" },
        el("a", { href: report, target: "_blank", "data-testid": "forum-report" }, "Rapport"),
        " · ",
        el("a", { href: report.replace(/\.html$/, ".pdf"), target: "_blank" }, "PDF"),
        " · ",
        el("a", { href: `/?check=${f.check_id}`, "data-testid": "forum-map" }, "Vis i kart"),
      ),
      saksnummerForm(f),
    ),
  );
}

/** The forum's case number for a plan (saksår/sekvensnummer), shown on the meeting agenda. */
function saksnummerForm(f) {
  const id = `saksnr-${f.check_id}`;
  const input = el("input", {
    id,
    name: "saksnummer",
    value: f.saksnummer || "",
    size: 10,
    maxlength: 20,
    pattern: "(?:[0-9]{2}|[0-9]{4})/[0-9]{1,7}",
    placeholder: "2026/123",
    title: "Saksår/sekvensnummer, for eksempel 2026/123",
    "data-testid": "saksnummer-input",
  });
  const note = el("span", { class: "muted small", role: "status" });
  return el(
    "form",
    {
      class: "saksnummer",
      "data-testid": "saksnummer-form",
      onsubmit: async (event) => {
        event.preventDefault();
        if (!input.reportValidity()) return;
        try {
          const answer = await api(
            `/api/v1/forum/proposals/${encodeURIComponent(f.proposal_id)}/saksnummer`,
            {
              method: "PUT",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ saksnummer: input.value.trim() || null }),
            },
          );
          note.textContent = answer.body.saksnummer
            ? ` Lagret: ${answer.body.saksnummer}.`
            : " Saksnummeret er fjernet.";
        } catch (error) {
          note.replaceChildren(problemView(error, "Saksnummeret ble ikke lagret."));
        }
      },
    },
    el("label", { for: id }, "Saksnummer "),
    input,
    " ",
    el("button", { type: "submit", "data-testid": "saksnummer-save" }, "Lagre"),
    note,
  );
}

function row(f) {
  return el(
    "tr",
    {
      "data-testid": "forum-row",
      "data-finding-id": String(f.id),
      "data-rule": f.rule_id,
      "data-severity": f.severity,
      "data-municipality": f.municipality || f.kommunenummer,
      "data-comparison": f.comparison || "",
    },
    el(
      "td",
      {},
      el("span", { class: `badge sev-${f.severity}` }, SEVERITY[f.severity]?.label || f.severity),
      comparisonLine(f),
      el("div", {}, el("strong", {}, f.rule_id), " ", ruleTitles[f.rule_id] || ""),
      el("div", { class: "muted small" }, f.paragraph),
    ),
    el(
      "td",
      { class: "finding-cell" },
      f.plan_feature_names?.length
        ? el(
            "div",
            {},
            "Planområde: ",
            el("b", {}, f.plan_feature_names.join(", ")),
            " ",
            el(
              "a",
              { href: `/?check=${f.check_id}&finding=${f.id}`, class: "small" },
              "vis i kart",
            ),
          )
        : null,
      el("p", {}, withLayerTitles(f.message)),
      f.suggested_action
        ? el("p", { class: "muted" }, el("b", {}, "Forslag: "), f.suggested_action)
        : null,
    ),
    el("td", { class: "review-cell" }, reviewForm(f)),
  );
}

// How a finding compares with the proposal's previous check ("Ny", "Uendret", "Endret …").
function comparisonLine(f) {
  if (!f.comparison) return null;
  const text =
    f.comparison === "changed"
      ? `Endret siden versjon ${f.previous_version}`
      : f.comparison === "unchanged"
        ? "Uendret"
        : "Ny";
  return el("div", { class: "small", "data-testid": "forum-comparison" }, el("strong", {}, text));
}

// Who recorded a review: the login user (or the reviewer's name) and the API key.
function recordedBy(entry) {
  const who = entry.user_name || entry.reviewer;
  if (!who && !entry.key_name) return "";
  const key = entry.key_name ? ` (nøkkel «${entry.key_name}»)` : "";
  return `Registrert av ${who || "ukjent"}${key}`;
}

// A review made on an earlier version: carried over (unchanged) or shown (changed).
function earlierReview(label, review, testid) {
  return el(
    "div",
    { class: "small earlier-review", "data-testid": testid },
    el("strong", {}, label),
    " ",
    REVIEW_STATUS[review.status] || review.status,
    review.comment ? el("div", { class: "history-comment" }, `«${review.comment}»`) : null,
    el("div", { class: "muted" }, recordedBy(review)),
  );
}

function reviewForm(f) {
  const review = f.review || { status: "open" };
  const status = el(
    "select",
    { "data-testid": "review-status", "aria-label": "Vurdering" },
    Object.entries(REVIEW_STATUS).map(([value, label]) => el("option", { value }, label)),
  );
  status.value = review.status || "open";
  const comment = el(
    "textarea",
    {
      rows: review.comment ? "2" : "1",
      placeholder: "Kommentar",
      "aria-label": "Kommentar",
      "data-testid": "review-comment",
      oninput: () => {
        comment.style.height = "auto";
        comment.style.height = `${comment.scrollHeight + 2}px`;
      },
    },
    review.comment || "",
  );
  // Optional: without a name the service records the login user, else the key's name.
  const reviewer = el("input", {
    type: "text",
    placeholder: "Ditt navn",
    "aria-label": "Navn",
    "data-testid": "review-reviewer",
    value: localStorage.getItem("arealsjekk.reviewer") || "",
  });
  const result = el(
    "span",
    { class: "review-result", "data-testid": "review-result", role: "status" },
    review.updated_at
      ? `Sist endret ${formatDate(review.updated_at)}${review.reviewer ? ` av ${review.reviewer}` : ""}`
      : "",
  );
  const who = el(
    "span",
    { class: "review-result", "data-testid": "review-who" },
    recordedBy(review),
  );
  const carried =
    review.carried_from_version && review.carried_from_version !== f.version
      ? el(
          "div",
          { class: "small", "data-testid": "review-carried" },
          el("strong", {}, `Vurdering fra versjon ${review.carried_from_version}`),
          " (funnet er uendret)",
        )
      : null;
  const previous = f.previous_review
    ? earlierReview(
        `Vurdering fra versjon ${f.previous_review.version}:`,
        f.previous_review,
        "review-previous",
      )
    : null;
  const historyList = el("ol", { class: "history", "data-testid": "review-history-list" });
  const history = el(
    "details",
    { class: "history-box", "data-testid": "review-history" },
    el("summary", {}, "Historikk"),
    historyList,
  );
  const url = `/api/v1/forum/findings/${f.id}/review`;
  history.addEventListener("toggle", async () => {
    if (!history.open || historyList.childElementCount) return;
    try {
      renderHistory(historyList, (await api(url)).body.history);
    } catch (error) {
      historyList.replaceChildren(
        el("li", {}, problemView(error, "Kunne ikke hente historikken.")),
      );
    }
  });
  const save = el("button", { type: "submit", "data-testid": "review-save" }, "Lagre");
  return el(
    "form",
    {
      class: "review-form",
      onsubmit: async (event) => {
        event.preventDefault();
        save.disabled = true;
        localStorage.setItem("arealsjekk.reviewer", reviewer.value);
        try {
          const body = { status: status.value, comment: comment.value };
          if (reviewer.value.trim()) body.reviewer = reviewer.value;
          const saved = (
            await api(url, {
              method: "PUT",
              body: JSON.stringify(body),
              headers: { "Content-Type": "application/json" },
            })
          ).body;
          result.className = "review-result saved";
          result.textContent = `Lagret: ${REVIEW_STATUS[saved.status] || saved.status}, ${formatDate(saved.updated_at)}`;
          who.textContent = recordedBy(saved);
          carried?.remove();
          renderHistory(historyList, saved.history);
          history.open = true;
        } catch (error) {
          result.className = "review-result failed";
          result.replaceChildren(problemView(error, "Ikke lagret."));
        } finally {
          save.disabled = false;
        }
      },
    },
    el("div", { class: "row" }, status, reviewer),
    el("div", { class: "row" }, comment, save),
    previous,
    carried,
    result,
    who,
    history,
  );
}

function renderHistory(list, entries = []) {
  const label = (status) => REVIEW_STATUS[status] || status;
  list.replaceChildren(
    ...entries.map((h) =>
      el(
        "li",
        { "data-testid": "history-entry" },
        el("span", { class: "muted" }, formatDate(h.created_at || h.updated_at)),
        " ",
        h.from_status ? `${label(h.from_status)} → ` : "",
        el("strong", {}, label(h.to_status || h.status)),
        h.reviewer ? ` – ${h.reviewer}` : "",
        h.carried_from_version ? ` (versjon ${h.carried_from_version})` : "",
        h.comment ? el("div", { class: "history-comment" }, `«${h.comment}»`) : null,
        h.key_name ? el("div", { class: "muted" }, recordedBy(h)) : null,
      ),
    ),
  );
  if (!entries.length)
    list.replaceChildren(el("li", { class: "muted" }, "Ingen vurderinger ennå."));
}

// Findings the latest checks no longer have, per plan: «Løst i versjon M».
async function loadResolved(query, seq) {
  const list = document.getElementById("resolved-list");
  const params = new URLSearchParams({ limit: RESOLVED_LIMIT });
  for (const name of ["kommunenummer", "rule_id", "severity"]) {
    if (query.get(name)) params.set(name, query.get(name));
  }
  try {
    const page = (await api(`/api/v1/forum/resolved?${params}`)).body;
    if (seq !== loadSeq) return;
    const groups = new Map();
    for (const item of page.items) {
      const key = `${item.proposal_id}|${item.resolved_in_version}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(item);
    }
    const shown = [...groups.values()].map((items) => resolvedPlan(items));
    if (page.total > page.items.length) {
      shown.push(el("p", { class: "muted small" }, `Viser ${page.items.length} av ${page.total}.`));
    }
    list.replaceChildren(...shown);
    if (!page.items.length) {
      list.replaceChildren(el("p", { class: "muted" }, "Ingen løste funn med disse valgene."));
    }
  } catch (error) {
    if (seq !== loadSeq) return;
    list.replaceChildren(problemView(error, "Kunne ikke hente løste funn."));
  }
}

function resolvedPlan(items) {
  const first = items[0];
  return el(
    "div",
    { class: "resolved-plan", "data-testid": "resolved-plan" },
    el(
      "h3",
      {},
      `${first.municipality || first.kommunenummer} – ${first.plannavn || first.proposal_id}`,
      el("span", { class: "muted" }, ` (${first.proposal_id})`),
    ),
    el(
      "ul",
      {},
      ...items.map((item) =>
        el(
          "li",
          {
            "data-testid": "resolved-row",
            "data-finding-id": String(item.id),
            "data-rule": item.rule_id,
          },
          el("strong", {}, `Løst i versjon ${item.resolved_in_version}`),
          " ",
          el(
            "span",
            { class: `badge sev-${item.severity}` },
            SEVERITY[item.severity]?.label || item.severity,
          ),
          " ",
          el("b", {}, item.rule_id),
          item.plan_feature_names?.length ? ` ${item.plan_feature_names.join(", ")}: ` : " ",
          withLayerTitles(item.message),
          el(
            "div",
            { class: "small muted" },
            `Funnet i versjon ${item.version}; vurdering: `,
            REVIEW_STATUS[item.review.status] || item.review.status,
            item.review.comment ? ` «${item.review.comment}»` : "",
            item.review.key_name ? ` – ${recordedBy(item.review)}` : "",
          ),
        ),
      ),
    ),
  );
}

// The agenda counts days in Norwegian time (the service's from/to), whatever the browser's zone.
const OSLO_DAY = new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Oslo" });

function isoDate(date) {
  return OSLO_DAY.format(date); // sv-SE writes dates as YYYY-MM-DD
}

filters.addEventListener("change", () => {
  offset = 0;
  document.getElementById("agenda-kommune").value = filters.kommunenummer.value;
  load();
});
filters.addEventListener("submit", (event) => {
  event.preventDefault();
  offset = 0;
  load();
});
document.getElementById("page-prev").addEventListener("click", () => {
  offset = Math.max(offset - PAGE_SIZE, 0);
  load();
});
document.getElementById("page-next").addEventListener("click", () => {
  offset += PAGE_SIZE;
  load();
});

const today = new Date();
document.getElementById("agenda-to").value = isoDate(today);
document.getElementById("agenda-meeting").value = isoDate(today);
document.getElementById("agenda-from").value = isoDate(new Date(today.getTime() - 30 * 86400000));

await Promise.all([fillFilters(), loadLayerTitles()]);
load();
