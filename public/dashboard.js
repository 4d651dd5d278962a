// evnet dashboard: renders the snapshots the API pushes over server-sent events
// (GET /ev/central/events/stream) and reconnects by itself when the API goes away.

const STREAM_URL = "/ev/central/events/stream";
/** The server pings every 5 s: this long without any event means the API is not there. */
const SILENCE_LIMIT_MS = 12000;
const RETRY_DELAYS_MS = [1000, 1000, 2000, 3000];

const STATES = ["ACTIVE", "SUPPLYING", "STOPPED", "OUT_OF_SERVICE", "BROKEN", "DISCONNECTED"];
const STATE_TEXT = { OUT_OF_SERVICE: "OUT OF SERVICE" };

const $ = (id) => document.getElementById(id);

// ---------- DOM helpers (text only: nothing from the API is ever parsed as HTML) ----------

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function fill(container, ...children) {
  container.replaceChildren(...children.flat().filter(Boolean));
}

function table(headers, rows, emptyText) {
  if (rows.length === 0) return h("p", { class: "empty" }, emptyText);
  return h(
    "table",
    {},
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        headers.map((c) => h("th", { class: c.class }, c.label)),
      ),
    ),
    // data-label lets a phone show each row as a small card of "label: value" lines.
    h(
      "tbody",
      {},
      rows.map((cells) =>
        h(
          "tr",
          {},
          cells.map((cell, i) => h("td", { class: headers[i].class, "data-label": headers[i].label }, cell)),
        ),
      ),
    ),
  );
}

// ---------- formatting ----------

const fmt = {
  kw: (n) => n.toFixed(1),
  kwh: (n) => n.toFixed(3),
  eur: (n) => n.toFixed(2),
  price: (n) => `${n.toFixed(2)} €/kWh`,
  temp: (n) => `${n.toFixed(1)} °C`,
};

function formatTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return sameDay ? time : `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hh > 0 ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`;
}

function stateBadge(state) {
  return h("span", { class: `state state-${state}` }, STATE_TEXT[state] || state);
}

/** The server's clock minus ours, so elapsed times do not depend on the viewer's clock. */
let clockOffsetMs = 0;
const serverNow = () => Date.now() + clockOffsetMs;

/** An element whose text counts up from `since` each second. */
function elapsed(since) {
  return h("span", { class: "num", dataset: { since } }, formatDuration((serverNow() - Date.parse(since)) / 1000));
}

function tickElapsed() {
  for (const el of document.querySelectorAll("[data-since]")) {
    el.textContent = formatDuration((serverNow() - Date.parse(el.dataset.since)) / 1000);
  }
}

// ---------- rendering ----------

function renderSummary(s) {
  const count = (state) => s.charging_points.filter((cp) => cp.status === state).length;
  const powerKw = s.sessions_in_progress.reduce((sum, x) => sum + x.power_kw, 0);
  const energyKwh = s.sessions_in_progress.reduce((sum, x) => sum + x.energy_kwh, 0);
  const down = s.services.services.filter((x) => x.status === "down").length;
  const tile = (label, value, small, testid) =>
    h(
      "div",
      { class: "tile", "data-testid": testid },
      h("div", { class: "label" }, label),
      h("div", { class: "value num" }, value, small ? h("small", {}, ` ${small}`) : null),
    );
  fill(
    $("summary"),
    tile("Charging points", s.charging_points.length, `${count("ACTIVE")} free`, "tile-cps"),
    tile("Supplying", count("SUPPLYING"), null, "tile-supplying"),
    tile("Power now", fmt.kw(powerKw), "kW", "tile-power"),
    tile("Energy in progress", fmt.kwh(energyKwh), "kWh", "tile-energy"),
    tile("Drivers", s.drivers.length, `${s.drivers.filter((d) => d.session).length} charging`, "tile-drivers"),
    tile("Services down", down, `of ${s.services.services.length}`, "tile-down"),
  );
}

function renderLegend() {
  fill($("legend"), STATES.map(stateBadge));
}

function cpCard(cp) {
  const session = cp.session;
  const temperature = cp.temperature_c === null ? "no reading" : fmt.temp(cp.temperature_c);
  return h(
    "article",
    { class: "cp", dataset: { cp: cp.cp_id, state: cp.status }, "aria-label": `Charging point ${cp.cp_id}` },
    h("div", { class: "cp-head" }, h("span", { class: "cp-id" }, cp.cp_id), stateBadge(cp.status)),
    h(
      "div",
      { class: "cp-meta" },
      h(
        "span",
        {},
        cp.location,
        " · ",
        h("span", { class: cp.weather_alert ? "frost" : "", "data-field": "temperature" }, temperature),
        cp.weather_alert ? " · frost" : "",
      ),
      h("span", { class: "num" }, fmt.price(cp.price_per_kwh)),
    ),
    session
      ? [
          h(
            "div",
            { class: "figures" },
            h("div", { class: "figure" }, h("span", { class: "v", "data-field": "power_kw" }, fmt.kw(session.power_kw)), h("span", { class: "u" }, "kW")),
            h("div", { class: "figure" }, h("span", { class: "v", "data-field": "energy_kwh" }, fmt.kwh(session.energy_kwh)), h("span", { class: "u" }, "kWh")),
            h("div", { class: "figure" }, h("span", { class: "v", "data-field": "cost_eur" }, fmt.eur(session.cost_eur)), h("span", { class: "u" }, "€")),
          ),
          h("div", { class: "cp-driver" }, h("span", {}, "Driver ", h("strong", { "data-field": "driver" }, session.driver_id)), elapsed(session.started_at)),
        ]
      : cp.status_reason
        ? h("div", { class: "cp-reason" }, cp.status_reason)
        : null,
    cpActions(cp),
  );
}

/** Operator buttons for a CP, shown only while an operator token is in use. */
function cpActions(cp) {
  if (!operatorToken()) return null;
  const button = (action, label, cls) => h("button", { type: "button", class: cls, dataset: { action, cp: cp.cp_id } }, label);
  return h(
    "div",
    { class: "cp-actions" },
    cp.status === "STOPPED" ? button("resume", "Resume") : button("stop", "Stop"),
    button("revoke-key", "Revoke key", "danger"),
  );
}

function renderChargingPoints(s) {
  if (s.charging_points.length === 0) return fill($("cps"), h("p", { class: "empty" }, "No charging point is registered yet."));
  fill($("cps"), s.charging_points.map(cpCard));
}

function renderSessions(s) {
  fill(
    $("sessions-live"),
    table(
      [
        { label: "CP" },
        { label: "Driver" },
        { label: "kW", class: "r" },
        { label: "kWh", class: "r" },
        { label: "€", class: "r" },
        { label: "Time", class: "r" },
      ],
      s.sessions_in_progress.map((x) => [x.cp_id, x.driver_id, fmt.kw(x.power_kw), fmt.kwh(x.energy_kwh), fmt.eur(x.cost_eur), elapsed(x.started_at)]),
      "No session in progress.",
    ),
  );
  fill(
    $("sessions-recent"),
    table(
      [
        { label: "CP" },
        { label: "Driver" },
        { label: "kWh", class: "r" },
        { label: "€", class: "r" },
        { label: "Time", class: "r" },
        { label: "Ended because", class: "wide-only" },
        { label: "Ended", class: "nowrap" },
      ],
      s.recent_sessions.map((x) => [
        x.cp_id,
        x.driver_id,
        fmt.kwh(x.energy_kwh),
        fmt.eur(x.cost_eur),
        formatDuration(x.duration_s),
        (x.end_reason || "—").replaceAll("_", " "),
        formatTime(x.ended_at),
      ]),
      "No finished session yet.",
    ),
  );
}

function renderDrivers(s) {
  fill(
    $("drivers"),
    table(
      [
        { label: "Driver" },
        { label: "State" },
        { label: "At" },
        { label: "Sessions", class: "r wide-only" },
        { label: "kWh total", class: "r" },
        { label: "€ total", class: "r" },
      ],
      s.drivers.map((d) => [
        d.driver_id,
        d.status,
        d.session ? d.session.cp_id : "—",
        d.sessions_count,
        fmt.kwh(d.energy_kwh_total),
        fmt.eur(d.cost_eur_total),
      ]),
      "No driver has connected yet.",
    ),
  );
}

function renderServices(services) {
  fill(
    $("services"),
    services.services.map((x) =>
      h(
        "li",
        { class: `service ${x.status}`, dataset: { service: x.name } },
        h("div", { class: "service-name" }, h("span", { class: "dot", "aria-hidden": "true" }), x.name, h("span", { class: "service-status" }, x.status)),
        h("div", { class: "service-detail" }, x.detail),
      ),
    ),
  );
}

function renderWeather(s) {
  fill(
    $("weather"),
    table(
      [{ label: "City" }, { label: "Temperature", class: "r" }, { label: "Alert" }, { label: "Reported", class: "nowrap" }],
      s.weather.map((w) => [
        w.city,
        fmt.temp(w.temperature_c),
        w.alert ? h("span", { class: "badge frost" }, "FROST ALERT") : h("span", { class: "badge ok" }, "none"),
        formatTime(w.updated_at),
      ]),
      "No temperature reported yet.",
    ),
  );
}

/** Alerts raised by the system: services down, broken CPs, frost, and failed or erroneous audit events. */
function renderAlerts(s) {
  const items = [];
  for (const x of s.services.services.filter((x) => x.status === "down"))
    items.push(h("li", { class: "alert" }, h("strong", {}, `Service ${x.name} is down`), `: ${x.detail}`));
  for (const cp of s.charging_points.filter((cp) => cp.status === "BROKEN"))
    items.push(h("li", { class: "alert" }, h("strong", {}, `${cp.cp_id} is broken`), cp.status_reason ? `: ${cp.status_reason}` : ""));
  for (const w of s.weather.filter((w) => w.alert))
    items.push(
      h(
        "li",
        { class: "alert frost" },
        h("strong", {}, `Frost alert in ${w.city}`),
        `: ${fmt.temp(w.temperature_c)}`,
        w.alert_since ? ` since ${formatTime(w.alert_since)}` : "",
      ),
    );
  for (const e of s.alerts)
    items.push(
      h(
        "li",
        { class: `alert ${e.outcome === "failure" ? "warn" : ""}` },
        h("span", { class: "when" }, formatTime(e.at)),
        h("strong", {}, `${e.event_type.replaceAll("_", " ")} ${e.outcome}`),
        ` · ${e.actor_type}${e.actor_id ? ` ${e.actor_id}` : ""} · ${e.action}`,
        e.reason ? `: ${e.reason}` : "",
      ),
    );
  if (items.length === 0) items.push(h("li", { class: "empty" }, "Nothing to report."));
  fill($("alerts"), items);
}

/** The action, with its resource when that adds something (not the actor itself, not already said). */
function auditAction(e) {
  const action = /^[a-z_]+$/.test(e.action) ? e.action.replaceAll("_", " ") : e.action; // "issue_key", not ids
  const redundant = !e.resource || e.action.includes(e.resource) || (e.actor_id && e.resource.endsWith(`/${e.actor_id}`));
  return redundant ? action : `${action} ${e.resource}`;
}

function renderAudit(s) {
  fill(
    $("audit"),
    table(
      [{ label: "Time", class: "nowrap" }, { label: "What" }, { label: "Actor" }, { label: "Outcome" }, { label: "Reason" }],
      s.audit_events.map((e) => [
        formatTime(e.at),
        h("span", {}, h("strong", {}, e.event_type.replaceAll("_", " ")), h("br"), auditAction(e)),
        `${e.actor_type}${e.actor_id ? ` ${e.actor_id}` : ""}`,
        h("span", { class: `outcome-${e.outcome}` }, e.outcome),
        e.reason || "",
      ]),
      "No audit event yet.",
    ),
  );
}

let lastSnapshotAt = "";
let lastSnapshot = null;

function renderSnapshot(s) {
  // Snapshots can cross on the wire (the first one is read while changes are already flowing).
  if (s.at < lastSnapshotAt) return;
  lastSnapshotAt = s.at;
  lastSnapshot = s;
  clockOffsetMs = Date.parse(s.at) - Date.now();
  renderSummary(s);
  renderChargingPoints(s);
  renderSessions(s);
  renderDrivers(s);
  renderServices(s.services);
  renderWeather(s);
  renderAlerts(s);
  renderAudit(s);
  $("degraded").hidden = true;
  $("updated").textContent = `Updated ${formatTime(s.at)}`;
}

function renderHealthOnly(data) {
  renderServices(data.services);
  const banner = $("degraded");
  banner.textContent = data.error;
  banner.hidden = false;
}

// ---------- connection: live, or unreachable and retrying ----------

let source = null;
let lastHeardAt = 0;
let failures = 0;
let retryTimer = null;

function setConnection(kind, text) {
  const el = $("connection");
  el.className = `connection ${kind}`;
  el.querySelector(".connection-text").textContent = text;
}

function heard() {
  lastHeardAt = Date.now();
  if (failures > 0 || $("unreachable").hidden === false) {
    failures = 0;
    $("unreachable").hidden = true;
    document.body.classList.remove("offline");
  }
  setConnection("live", "Live");
}

/** What is shown is the last known picture: say so, and that the API itself is not answering. */
function showStale() {
  document.body.classList.add("offline");
  if (!lastSnapshot) return;
  const services = lastSnapshot.services.services.map((x) =>
    x.name === "api" ? { ...x, status: "down", detail: "not reachable from this browser" } : { ...x, detail: `last known: ${x.detail}` },
  );
  renderServices({ ...lastSnapshot.services, services });
}

function unreachable(reason) {
  if (source) {
    source.close();
    source = null;
  }
  failures += 1;
  const delay = RETRY_DELAYS_MS[Math.min(failures - 1, RETRY_DELAYS_MS.length - 1)];
  $("unreachable").hidden = false;
  showStale();
  $("unreachable-detail").textContent = `${reason}. Next attempt in ${Math.round(delay / 1000)} s (attempt ${failures}).`;
  setConnection("down", "Offline");
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, delay);
}

function connect() {
  if (source) source.close();
  setConnection(failures > 0 ? "down" : "connecting", failures > 0 ? "Reconnecting…" : "Connecting…");
  lastHeardAt = Date.now();
  source = new EventSource(STREAM_URL);
  source.addEventListener("snapshot", (e) => {
    heard();
    renderSnapshot(JSON.parse(e.data));
  });
  source.addEventListener("health", (e) => {
    heard();
    renderHealthOnly(JSON.parse(e.data));
  });
  source.addEventListener("ping", heard);
  // EventSource retries some failures by itself and gives up on others; one policy for all.
  source.onerror = () => unreachable("The connection to the API was lost");
}

// ---------- operator mode (optional): the operator token stays in this tab only ----------

const TOKEN_KEY = "evnet.operatorToken";
const operatorToken = () => sessionStorage.getItem(TOKEN_KEY) || "";
let toastTimer = null;

function toast(text, isError) {
  const el = $("toast");
  el.textContent = text;
  el.className = `toast${isError ? " error" : ""}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 5000);
}

function showOperatorState() {
  const on = Boolean(operatorToken());
  $("operator-toggle").setAttribute("aria-pressed", String(on));
  $("operator-toggle").textContent = on ? "Operator ✓" : "Operator";
  if (lastSnapshot) renderChargingPoints(lastSnapshot);
}

const OPERATOR_ACTIONS = {
  stop: { path: (cp) => `/ev/central/charging-points/${encodeURIComponent(cp)}/stop`, ask: null },
  resume: { path: (cp) => `/ev/central/charging-points/${encodeURIComponent(cp)}/resume`, ask: null },
  "revoke-key": {
    path: (cp) => `/ev/central/charging-points/${encodeURIComponent(cp)}/revoke-key`,
    ask: (cp) => `Revoke the key of ${cp}? It stops until its monitor authenticates again.`,
  },
};

async function runOperatorAction(action, cpId) {
  const spec = OPERATOR_ACTIONS[action];
  if (!spec || (spec.ask && !window.confirm(spec.ask(cpId)))) return;
  try {
    const res = await fetch(spec.path(cpId), { method: "POST", headers: { authorization: `Bearer ${operatorToken()}` } });
    const body = await res.json().catch(() => ({}));
    if (res.ok) return toast(body.message || `${action} ${cpId}: done`, false);
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showOperatorState();
    }
    toast(`${action} ${cpId} refused: ${body.error?.message || res.status}`, true);
  } catch {
    toast(`${action} ${cpId}: the API could not be reached`, true);
  }
}

$("operator-toggle").addEventListener("click", () => {
  const bar = $("operator-bar");
  bar.hidden = !bar.hidden;
  $("operator-toggle").setAttribute("aria-expanded", String(!bar.hidden));
  if (!bar.hidden) $("operator-token").focus();
});
$("operator-bar").addEventListener("submit", (e) => {
  e.preventDefault();
  const token = $("operator-token").value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  $("operator-token").value = "";
  $("operator-bar").hidden = true;
  $("operator-toggle").setAttribute("aria-expanded", "false");
  showOperatorState();
});
$("operator-forget").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  $("operator-bar").hidden = true;
  $("operator-toggle").setAttribute("aria-expanded", "false");
  showOperatorState();
});
// One listener for every card's buttons: cards are re-rendered on each snapshot.
$("cps").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-action]");
  if (button) runOperatorAction(button.dataset.action, button.dataset.cp);
});

setInterval(() => {
  if (source && Date.now() - lastHeardAt > SILENCE_LIMIT_MS) unreachable("The API stopped answering");
  tickElapsed();
}, 1000);

renderLegend();
showOperatorState();
connect();
