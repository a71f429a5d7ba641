// The regional plan forum's page: findings across municipalities, with a review per finding.
import {
  REVIEW_STATUS,
  SEVERITIES,
  SEVERITY,
  api,
  apiKey,
  el,
  formatDate,
  openWithKey,
  problemView,
  showStatus,
} from "./api.js";

const PAGE_SIZE = 20;
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
        el(
          "a",
          { href: report, target: "_blank", "data-testid": "forum-report", "data-auth": true },
          "Rapport",
        ),
        " · ",
        el(
          "a",
          { href: report.replace(/\.html$/, ".pdf"), target: "_blank", "data-auth": true },
          "PDF",
        ),
        " · ",
        el("a", { href: `/?check=${f.check_id}`, "data-testid": "forum-map" }, "Vis i kart"),
      ),
    ),
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
    },
    el(
      "td",
      {},
      el("span", { class: `badge sev-${f.severity}` }, SEVERITY[f.severity]?.label || f.severity),
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
      el("p", {}, f.message),
      f.suggested_action
        ? el("p", { class: "muted" }, el("b", {}, "Forslag: "), f.suggested_action)
        : null,
    ),
    el("td", { class: "review-cell" }, reviewForm(f)),
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
  const reviewer = el("input", {
    type: "text",
    placeholder: "Ditt navn",
    "aria-label": "Navn",
    required: true,
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
          const body = { status: status.value, comment: comment.value, reviewer: reviewer.value };
          const saved = (
            await api(url, {
              method: "PUT",
              body: JSON.stringify(body),
              headers: { "Content-Type": "application/json" },
            })
          ).body;
          result.className = "review-result saved";
          result.textContent = `Lagret: ${REVIEW_STATUS[saved.status] || saved.status}, ${formatDate(saved.updated_at)}`;
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
    result,
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
        h.comment ? el("div", { class: "history-comment" }, `«${h.comment}»`) : null,
      ),
    ),
  );
  if (!entries.length)
    list.replaceChildren(el("li", { class: "muted" }, "Ingen vurderinger ennå."));
}

function isoDate(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
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
document.getElementById("agenda-from").value = isoDate(new Date(today.getTime() - 30 * 86400000));

await fillFilters();
load();

// The agenda needs a forum key, which a plain form submission cannot send: fetch it instead.
document.getElementById("agenda-form").addEventListener("submit", (event) => {
  if (!apiKey()) return;
  event.preventDefault();
  const form = event.currentTarget;
  const action = event.submitter?.getAttribute("formaction") || form.getAttribute("action");
  openWithKey(`${action}?${new URLSearchParams(new FormData(form))}`).catch((error) =>
    showStatus(statusBox, "error", problemView(error, "Kunne ikke hente sakslisten.")),
  );
});
