// History (#/history): sessions filtered by charger, driver, city, start time and end reason, with
// paging, totals and a CSV download; and the audit log (#/audit) with its filters. Filters live
// in the URL, so a search can be bookmarked or sent.

import { $, ApiError, chargerHash, fill, fmt, formatDuration, formatTime, getJson, h, link, params, table, words } from "./ui.js";

const PAGE = 50;

/** The form's fields as API query parameters; datetime-local inputs are the viewer's local time. */
function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name || !el.value.trim()) continue;
    values[el.name] = el.type === "datetime-local" ? new Date(el.value).toISOString() : el.value.trim();
  }
  return values;
}

function fillForm(form, search) {
  for (const el of form.elements) {
    if (!el.name) continue;
    const value = search.get(el.name) || "";
    el.value = el.type === "datetime-local" && value ? toLocalInput(value) : value;
  }
}

function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

function pager(prefix, offset, count, total) {
  $(`${prefix}-count`).textContent = total === 0 ? "Nothing matches" : `${fmt.int(offset + 1)}–${fmt.int(offset + count)} of ${fmt.int(total)}`;
  $(`${prefix}-prev`).disabled = offset === 0;
  $(`${prefix}-next`).disabled = offset + count >= total;
}

function showError(id, err) {
  const el = $(id);
  el.textContent = err instanceof ApiError && err.status === 422 ? `These filters cannot be used: ${err.message}` : `Could not read: ${err.message}`;
  el.hidden = false;
}

// ---------- sessions ----------

let sessionQuery = {};
let sessionsRead = 0;

export function openHistory(search) {
  fillForm($("history-form"), search);
  sessionQuery = Object.fromEntries(search);
  return refreshHistory();
}

export async function refreshHistory() {
  const mine = ++sessionsRead;
  const q = { ...sessionQuery, limit: PAGE, offset: Number(sessionQuery.offset) || 0 };
  $("history-csv").href = `/ev/central/sessions.csv?${new URLSearchParams(params({ ...sessionQuery, offset: "" }))}`;
  try {
    const page = await getJson("/ev/central/sessions", params(q));
    if (mine !== sessionsRead) return;
    $("history-error").hidden = true;
    const t = page.totals;
    fill(
      $("history-totals"),
      [
        ["Sessions", fmt.int(t.sessions)],
        ["Energy", `${fmt.kwh(t.energy_kwh)} kWh`],
        ["Billed", `${fmt.eur(t.cost_eur)} €`],
        ["Charging time", formatDuration(t.duration_s)],
      ].map(([label, value]) => h("div", { class: "tile" }, h("div", { class: "label" }, label), h("div", { class: "value num", "data-total": label }, value))),
    );
    pager("history", page.paging.offset, page.sessions.length, page.paging.total);
    fill(
      $("history-table"),
      table(
        [
          { label: "Started", class: "nowrap" },
          { label: "Charger" },
          { label: "Driver" },
          { label: "kWh", class: "r" },
          { label: "€", class: "r" },
          { label: "Time", class: "r" },
          { label: "Ended because" },
        ],
        page.sessions.map((s) => [
          formatTime(s.started_at),
          link(chargerHash(s.cp_id), s.cp_id),
          s.driver_id,
          fmt.kwh(s.energy_kwh),
          fmt.eur(s.cost_eur),
          formatDuration(s.duration_s),
          s.status === "IN_PROGRESS" ? "in progress" : words(s.end_reason),
        ]),
        "No session matches these filters.",
      ),
    );
  } catch (err) {
    if (mine === sessionsRead) showError("history-error", err);
  }
}

// ---------- the audit log ----------

let auditQuery = {};
let auditRead = 0;

export function openAudit(search) {
  fillForm($("audit-form"), search);
  auditQuery = Object.fromEntries(search);
  return refreshAudit();
}

export async function refreshAudit() {
  const mine = ++auditRead;
  try {
    const page = await getJson("/ev/central/audit-events", params({ ...auditQuery, limit: PAGE, offset: Number(auditQuery.offset) || 0 }));
    if (mine !== auditRead) return;
    $("audit-error").hidden = true;
    pager("audit-log", page.paging.offset, page.audit_events.length, page.paging.total);
    fill(
      $("audit-table"),
      table(
        [
          { label: "Time", class: "nowrap" },
          { label: "Event" },
          { label: "Actor" },
          { label: "Resource" },
          { label: "Outcome" },
          { label: "Reason" },
          { label: "From", class: "wide-only" },
        ],
        page.audit_events.map((e) => [
          formatTime(e.at),
          h("span", {}, h("strong", {}, words(e.event_type)), h("br"), words(e.action)),
          `${e.actor_type}${e.actor_id ? ` ${e.actor_id}` : ""}`,
          e.resource?.startsWith("cp/") ? link(chargerHash(e.resource.slice(3)), e.resource) : e.resource || "—",
          h("span", { class: `outcome-${e.outcome}` }, e.outcome),
          e.reason || "",
          e.source_address || "",
        ]),
        "No audit event matches these filters.",
      ),
    );
  } catch (err) {
    if (mine === auditRead) showError("audit-error", err);
  }
}

// ---------- the forms ----------

function navigate(view, values) {
  const p = new URLSearchParams(params(values));
  location.hash = `#/${view}${p.size ? `?${p}` : ""}`;
}

function pageBy(view, query, delta) {
  navigate(view, { ...query, offset: Math.max(0, (Number(query.offset) || 0) + delta) || "" });
}

export function setUpHistory() {
  $("history-form").addEventListener("submit", (e) => {
    e.preventDefault();
    navigate("history", formValues(e.target));
  });
  $("history-form").addEventListener("reset", () => setTimeout(() => navigate("history", {}), 0));
  $("history-prev").addEventListener("click", () => pageBy("history", sessionQuery, -PAGE));
  $("history-next").addEventListener("click", () => pageBy("history", sessionQuery, PAGE));
  $("audit-form").addEventListener("submit", (e) => {
    e.preventDefault();
    navigate("audit", formValues(e.target));
  });
  $("audit-form").addEventListener("reset", () => setTimeout(() => navigate("audit", {}), 0));
  $("audit-log-prev").addEventListener("click", () => pageBy("audit", auditQuery, -PAGE));
  $("audit-log-next").addEventListener("click", () => pageBy("audit", auditQuery, PAGE));
}
