// A charger's page (#/cp/<id>): its state and history, place, price, protocol, key age, charts of
// power and energy (uPlot), its sessions and audit trail, and the operator's actions.

import {
  $,
  ApiError,
  confirmAction,
  fill,
  fmt,
  formatAge,
  formatDuration,
  formatTime,
  getJson,
  h,
  link,
  loadScript,
  loadStyle,
  makerOf,
  operatorPost,
  operatorToken,
  stateBadge,
  table,
  words,
} from "./ui.js";

const SESSIONS = 10;
const AUDIT = 20;
let shown = null; // the charger's id while its page is open
let reading = 0;
const charts = new Map();

export function openCharger(cpId) {
  if (shown !== cpId) {
    shown = cpId;
    for (const chart of charts.values()) chart.destroy();
    charts.clear();
    fill($("charger"), h("p", { class: "empty" }, `Loading ${cpId}…`));
  }
  return refreshCharger();
}

export function closeCharger() {
  shown = null;
}

export async function refreshCharger() {
  if (!shown) return;
  const cpId = shown;
  const mine = ++reading;
  const enc = encodeURIComponent(cpId);
  try {
    const [details, readings, sessions, audit] = await Promise.all([
      getJson(`/ev/central/charging-points/${enc}/details`),
      getJson(`/ev/central/charging-points/${enc}/readings`),
      getJson("/ev/central/sessions", { cp_id: cpId, limit: SESSIONS }),
      getJson("/ev/central/audit-events", { resource: `cp/${cpId}`, limit: AUDIT }),
    ]);
    if (mine !== reading || shown !== cpId) return;
    render(details, readings, sessions, audit);
  } catch (err) {
    if (mine !== reading || shown !== cpId) return;
    const text =
      err instanceof ApiError && err.status === 404
        ? `There is no charging point ${cpId}.`
        : err instanceof ApiError && err.status === 422
          ? `${cpId} is not a charging point id: ${err.message}`
          : `${cpId} could not be read: ${err.message}`;
    if (!$("charger").querySelector(".charger-head") || (err instanceof ApiError && err.status >= 400 && err.status < 500))
      fill($("charger"), h("div", { class: "panel" }, h("p", { class: "notice", role: "alert" }, text), link("#/", "← All chargers")));
  }
}

function fact(label, value, field) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", field ? { "data-field": field } : {}, value));
}

/** What an OCPP charger said at boot, and its socket: where, since when, under which profile. */
function ocppFacts(cp) {
  const o = cp.ocpp;
  const connection =
    cp.connection_state === "online"
      ? `connected since ${formatTime(o?.connected_at)}${o?.gateway ? ` to gateway ${o.gateway}` : ""}`
      : cp.connection_state === "offline"
        ? `not connected since ${formatTime(o?.disconnected_at)}${o?.gateway ? ` (last on gateway ${o.gateway})` : ""}`
        : "never connected";
  return [
    fact("Connection", h("span", { class: `link-state link-${cp.connection_state}` }, connection), "connection_state"),
    fact("Security profile", o ? `${o.security_profile} (${SECURITY_PROFILES[o.security_profile] ?? "unknown"})` : "—", "security_profile"),
    fact("Made by", makerOf(cp) ?? "not booted yet", "maker"),
    fact("Serial number", cp.serial_number ?? "not given", "serial_number"),
    fact("Firmware", cp.firmware_version ?? "not given", "firmware_version"),
  ];
}

const SECURITY_PROFILES = { 1: "password, plain WebSocket", 2: "password over TLS", 3: "client certificate over TLS" };

function render(d, readings, sessions, audit) {
  const cp = d.charging_point;
  const place = d.coordinates
    ? `${d.coordinates.latitude.toFixed(3)}, ${d.coordinates.longitude.toFixed(3)} (${d.coordinates.source === "operator" ? "set by an operator" : "from the weather provider"})`
    : "not known yet";
  const sections = [
    h(
      "div",
      { class: "panel charger-head" },
      h("div", { class: "crumbs" }, link("#/", "← All chargers")),
      h("div", { class: "charger-title" }, h("h2", { id: "charger-id" }, cp.cp_id), stateBadge(cp.status)),
      h(
        "p",
        { class: "charger-reason", "data-field": "status_reason" },
        [cp.status_reason, `since ${formatTime(cp.status_changed_at)}`].filter(Boolean).join(" · "),
      ),
      h(
        "dl",
        { class: "facts" },
        fact("Location", [cp.location, cp.weather_alert ? h("span", { class: "badge frost" }, "FROST") : null], "location"),
        fact("Temperature", cp.temperature_c === null ? "no reading" : fmt.temp(cp.temperature_c)),
        fact("Place", place, "coordinates"),
        fact("Price", fmt.price(cp.price_per_kwh), "price"),
        fact(
          "Protocol",
          h("span", { title: d.protocol.description }, d.protocol.name, h("small", { class: "muted" }, ` — ${d.protocol.description}`)),
          "protocol",
        ),
        cp.protocol === "ocpp" ? ocppFacts(cp) : null,
        fact("Key", d.key ? `issued ${formatAge(d.key.age_s)} ago (${formatTime(d.key.issued_at)})` : "none: not authenticated, or revoked", "key_age"),
        fact("Credential", d.credential ? `expires ${formatTime(d.credential.expires_at)}` : "none"),
        fact("Last heard", formatTime(cp.last_connection_time)),
        fact("Registered", formatTime(cp.created_at)),
      ),
      actions(cp),
    ),
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "panel", "aria-labelledby": "chart-session-title" },
        h("h3", { id: "chart-session-title" }, "This session"),
        readings.session
          ? h("p", { class: "muted small" }, `${readings.session.session_id} · started ${formatTime(readings.session.started_at)}`)
          : h("p", { class: "empty" }, "No session in progress."),
        h("div", { class: "chart", id: "chart-session" }),
      ),
      h(
        "section",
        { class: "panel", "aria-labelledby": "chart-day-title" },
        h("h3", { id: "chart-day-title" }, "Last 24 hours"),
        h("p", { class: "muted small" }, "Power, and energy delivered since 24 hours ago."),
        h("div", { class: "chart", id: "chart-day" }),
      ),
    ),
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "panel" },
        h("h3", {}, "State history"),
        table(
          [{ label: "When", class: "nowrap" }, { label: "From" }, { label: "To" }, { label: "Why" }],
          d.state_history.map((c) => [formatTime(c.at), c.from ? stateBadge(c.from) : "—", c.to ? stateBadge(c.to) : "—", c.reason || ""]),
          "No state change recorded yet.",
        ),
      ),
      h(
        "section",
        { class: "panel" },
        h("h3", {}, "Sessions"),
        h(
          "p",
          { class: "muted small" },
          `${fmt.int(sessions.totals.sessions)} in all · ${fmt.kwh(sessions.totals.energy_kwh)} kWh · ${fmt.eur(sessions.totals.cost_eur)} € · `,
          link(`#/history?cp_id=${encodeURIComponent(cp.cp_id)}`, "all of them"),
        ),
        table(
          [
            { label: "Started", class: "nowrap" },
            { label: "Driver" },
            { label: "kWh", class: "r" },
            { label: "€", class: "r" },
            { label: "Time", class: "r" },
            { label: "Ended because" },
          ],
          sessions.sessions.map((s) => [
            formatTime(s.started_at),
            s.driver_id,
            fmt.kwh(s.energy_kwh),
            fmt.eur(s.cost_eur),
            formatDuration(s.duration_s),
            s.status === "IN_PROGRESS" ? "in progress" : words(s.end_reason),
          ]),
          "No session at this charger yet.",
        ),
      ),
    ),
    h(
      "section",
      { class: "panel" },
      h("h3", {}, "Audit trail"),
      h(
        "p",
        { class: "muted small" },
        `${fmt.int(audit.paging.total)} events · `,
        link(`#/audit?resource=${encodeURIComponent(`cp/${cp.cp_id}`)}`, "search them"),
      ),
      table(
        [{ label: "Time", class: "nowrap" }, { label: "Event" }, { label: "Actor" }, { label: "Outcome" }, { label: "Reason" }],
        audit.audit_events.map((e) => [
          formatTime(e.at),
          `${words(e.event_type)} · ${words(e.action)}`,
          `${e.actor_type}${e.actor_id ? ` ${e.actor_id}` : ""}`,
          h("span", { class: `outcome-${e.outcome}` }, e.outcome),
          e.reason || "",
        ]),
        "Nothing audited for this charger yet.",
      ),
    ),
  ];
  // Keep the charts' elements (uPlot draws into them) while everything else is replaced.
  const old = new Map(["chart-session", "chart-day"].map((id) => [id, $(id)]));
  fill($("charger"), sections);
  for (const [id, el] of old) if (el && charts.has(id)) $(id).replaceWith(el);
  drawCharts(readings).catch((err) => {
    for (const id of ["chart-session", "chart-day"]) if ($(id)) fill($(id), h("p", { class: "notice" }, `The chart cannot be drawn: ${err.message}`));
  });
}

const ACTIONS = {
  stop: {
    label: "Stop",
    title: "Stop this charger?",
    text: (id) => `${id} stops: a session in progress ends now with a ticket for what was delivered, and no new charge starts until it is resumed.`,
  },
  resume: { label: "Resume", title: "Resume this charger?", text: (id) => `${id} becomes available to drivers again (if its other conditions allow).` },
  "revoke-key": {
    label: "Revoke key",
    title: "Revoke this charger's key?",
    text: (id) => `${id}'s messages are refused from now on and it stops, until its monitor authenticates again and gets a new key.`,
    danger: true,
  },
};

function actions(cp) {
  if (!operatorToken()) return h("p", { class: "muted small" }, "Sign in as operator to stop, resume or revoke this charger.");
  const button = (action) =>
    h("button", { type: "button", class: ACTIONS[action].danger ? "danger" : "", dataset: { action, cp: cp.cp_id } }, ACTIONS[action].label);
  return h("div", { class: "cp-actions", id: "charger-actions" }, cp.status === "STOPPED" ? button("resume") : button("stop"), button("revoke-key"));
}

export function setUpCharger() {
  $("charger").addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    const { action, cp } = button.dataset;
    const spec = ACTIONS[action];
    if (!(await confirmAction(spec.title, spec.text(cp), spec.label, spec.danger))) return;
    await operatorPost(`/ev/central/charging-points/${encodeURIComponent(cp)}/${action}`, `${spec.label} ${cp}`);
    refreshCharger();
  });
}

// ---------- charts (uPlot, shipped with the app: /vendor/uplot.js) ----------

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** The day chart always spans its 24 hours, however short the charging in it. */
let dayWindow = null;

function chartOptions(width, timeFormat, fixedWindow) {
  const axisColor = cssVar("--muted");
  const grid = { stroke: cssVar("--line"), width: 1 };
  return {
    width,
    height: 220,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: fixedWindow ? { time: true, auto: false, range: () => dayWindow } : { time: true },
      kw: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
      kwh: { range: (_u, _min, max) => [0, Math.max(0.01, max * 1.1)] },
    },
    axes: [
      { stroke: axisColor, grid, values: timeFormat },
      { scale: "kw", stroke: axisColor, grid, label: "kW", size: 50 },
      { scale: "kwh", side: 1, stroke: axisColor, grid: { show: false }, label: "kWh", size: 60 },
    ],
    series: [
      {},
      {
        label: "Power (kW)",
        scale: "kw",
        stroke: cssVar("--supplying"),
        width: 2,
        fill: `${cssVar("--supplying")}22`,
        value: (_u, v) => (v == null ? "—" : fmt.kw(v)),
      },
      { label: "Energy (kWh)", scale: "kwh", stroke: cssVar("--active"), width: 2, value: (_u, v) => (v == null ? "—" : fmt.kwh(v)) },
    ],
  };
}

const toSeries = (points) => [points.map((p) => Date.parse(p.at) / 1000), points.map((p) => p.power_kw), points.map((p) => p.energy_kwh)];

async function drawCharts(readings) {
  loadStyle("/vendor/uplot.css");
  await loadScript("/vendor/uplot.js");
  const hhmm = (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  const mmss = (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }));
  dayWindow = [Date.parse(readings.day.from) / 1000, Date.parse(readings.day.to) / 1000];
  draw("chart-session", readings.session ? toSeries(readings.session.points) : [[], [], []], mmss);
  draw("chart-day", toSeries(readings.day.points), hhmm, true);
}

function draw(id, data, timeFormat, fixedWindow = false) {
  const el = $(id);
  if (!el) return;
  const width = Math.max(260, el.clientWidth || el.parentElement.clientWidth - 32);
  const chart = charts.get(id);
  el.dataset.points = String(data[0].length);
  if (chart?.root.isConnected) {
    chart.setData(data);
    if (Math.abs(chart.width - width) > 8) chart.setSize({ width, height: 220 });
    return;
  }
  chart?.destroy();
  el.replaceChildren();
  charts.set(id, new window.uPlot(chartOptions(width, timeFormat, fixedWindow), data, el));
}
