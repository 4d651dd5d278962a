// evnet console: the views (Network, a charger's page, History, Audit, Map) behind one page,
// switched by the URL's hash so each can be linked to, kept live by the snapshots the API pushes
// over server-sent events (GET /ev/central/events/stream), reconnecting by itself.

import { closeCharger, openCharger, refreshCharger, setUpCharger } from "./charger.js";
import { fleetQueryFrom, refreshFleet, renderCityChoices, setUpFleet } from "./fleet.js";
import { openAudit, openHistory, setUpHistory } from "./history.js";
import { openMap } from "./map.js";
import {
  $,
  checkOperatorToken,
  elapsed,
  fill,
  fmt,
  formatDuration,
  formatTime,
  h,
  onSignInChange,
  operatorToken,
  STATES,
  setOperatorToken,
  setServerTime,
  stateBadge,
  table,
  tickElapsed,
  toast,
  words,
} from "./ui.js";

const STREAM_URL = "/ev/central/events/stream";
/** The server pings every 5 s: this long without any event means the API is not there. */
const SILENCE_LIMIT_MS = 12000;
const RETRY_DELAYS_MS = [1000, 1000, 2000, 3000];
/** Views that read more than the snapshot refresh at most this often while data changes. */
const REFRESH_EVERY_MS = 1000;

// ---------- the Network view: figures and lists from the snapshot ----------

function tile(label, value, small, testid) {
  return h(
    "div",
    { class: "tile", "data-testid": testid },
    h("div", { class: "label" }, label),
    h("div", { class: "value num" }, value, small ? h("small", {}, ` ${small}`) : null),
  );
}

function renderSummary(s) {
  const sum = s.summary;
  const down = s.services.services.filter((x) => x.status === "down").length;
  fill(
    $("summary"),
    tile("Charging points", fmt.int(sum.charging_points), `${fmt.int(sum.by_state.ACTIVE)} free`, "tile-cps"),
    tile("Supplying", fmt.int(sum.by_state.SUPPLYING), null, "tile-supplying"),
    tile("Power now", fmt.kw(sum.power_kw), "kW", "tile-power"),
    tile("Energy in progress", fmt.kwh(sum.energy_in_progress_kwh), "kWh", "tile-energy"),
    tile("Last 24 h", fmt.int(sum.sessions_last_day), `sessions · ${fmt.kwh(sum.energy_last_day_kwh)} kWh`, "tile-day"),
    tile("Out of order", fmt.int(sum.by_state.BROKEN + sum.by_state.DISCONNECTED), `${fmt.int(sum.in_frost)} in frost`, "tile-trouble"),
    tile("Drivers", fmt.int(sum.drivers), `${fmt.int(sum.drivers_charging)} charging`, "tile-drivers"),
    tile("Services down", down, `of ${s.services.services.length}`, "tile-down"),
  );
}

function renderSessions(s) {
  const more = s.summary.sessions_in_progress - s.sessions_in_progress.length;
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
      s.sessions_in_progress.map((x) => [
        h("a", { href: `#/cp/${encodeURIComponent(x.cp_id)}` }, x.cp_id),
        x.driver_id,
        fmt.kw(x.power_kw),
        fmt.kwh(x.energy_kwh),
        fmt.eur(x.cost_eur),
        elapsed(x.started_at),
      ]),
      "No session in progress.",
    ),
    more > 0 ? h("p", { class: "muted small" }, `and ${fmt.int(more)} more — `, h("a", { href: "#/history?status=IN_PROGRESS" }, "see them all")) : null,
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
        words(x.end_reason),
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
    s.summary.drivers > s.drivers.length ? h("p", { class: "muted small" }, `The ${s.drivers.length} most recent of ${fmt.int(s.summary.drivers)}.`) : null,
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
  renderCityChoices(s.weather);
  fill(
    $("weather"),
    table(
      [{ label: "City" }, { label: "Temperature", class: "r" }, { label: "Alert" }, { label: "Reported", class: "nowrap" }],
      s.weather.map((w) => [
        h("a", { href: `#/?city=${encodeURIComponent(w.city)}` }, w.city),
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
  if (s.summary.by_state.BROKEN)
    items.push(
      h(
        "li",
        { class: "alert" },
        h("a", { href: "#/?status=BROKEN" }, h("strong", {}, `${fmt.int(s.summary.by_state.BROKEN)} broken`)),
        " — their engines report a fault",
      ),
    );
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
        h("strong", {}, `${words(e.event_type)} ${e.outcome}`),
        ` · ${e.actor_type}${e.actor_id ? ` ${e.actor_id}` : ""} · ${e.action}`,
        e.reason ? `: ${e.reason}` : "",
      ),
    );
  if (items.length === 0) items.push(h("li", { class: "empty" }, "Nothing to report."));
  fill($("alerts"), items);
}

/** The action, with its resource when that adds something (not the actor itself, not already said). */
function auditAction(e) {
  const action = /^[a-z_]+$/.test(e.action) ? words(e.action) : e.action;
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
        h("span", {}, h("strong", {}, words(e.event_type)), h("br"), auditAction(e)),
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
  setServerTime(s.at);
  renderSummary(s);
  renderSessions(s);
  renderDrivers(s);
  renderServices(s.services);
  renderWeather(s);
  renderAlerts(s);
  renderAudit(s);
  $("degraded").hidden = true;
  $("updated").textContent = `Updated ${formatTime(s.at)}`;
  dataChanged();
}

function renderHealthOnly(data) {
  renderServices(data.services);
  const banner = $("degraded");
  banner.textContent = data.error;
  banner.hidden = false;
}

// ---------- views ----------

const VIEWS = ["network", "charger", "history", "audit-log", "map"];
let current = { view: "network", search: new URLSearchParams() };

/** `#/`, `#/cp/<id>`, `#/history?...`, `#/audit?...`, `#/map`. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query] = raw.split("?");
  const search = new URLSearchParams(query || "");
  const parts = (path || "").split("/").filter(Boolean);
  if (parts[0] === "cp" && parts[1]) return { view: "charger", cpId: decodeURIComponent(parts[1]), search };
  if (parts[0] === "history") return { view: "history", search };
  if (parts[0] === "audit") return { view: "audit-log", search };
  if (parts[0] === "map") return { view: "map", search };
  return { view: "network", search };
}

function route() {
  current = parseHash();
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== current.view;
  $("summary").hidden = current.view !== "network";
  for (const a of document.querySelectorAll(".tabs a"))
    a.setAttribute("aria-current", a.dataset.view === current.view || (a.dataset.view === "network" && current.view === "charger") ? "page" : "false");
  if (current.view !== "charger") closeCharger();
  document.title = `evnet · ${{ network: "network", charger: current.cpId, history: "history", "audit-log": "audit log", map: "map" }[current.view]}`;
  if (current.view === "network") {
    fleetQueryFrom(current.search);
    refreshFleet();
  } else if (current.view === "charger") openCharger(current.cpId);
  else if (current.view === "history") openHistory(current.search);
  else if (current.view === "audit-log") openAudit(current.search);
  else if (current.view === "map") openMap();
}

/** New data: the view on screen reads what it shows again, at most once a second. */
let refreshTimer = null;
let lastRefresh = 0;
function dataChanged() {
  if (refreshTimer) return;
  const wait = Math.max(0, REFRESH_EVERY_MS - (Date.now() - lastRefresh));
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    lastRefresh = Date.now();
    if (current.view === "network") refreshFleet();
    else if (current.view === "charger") refreshCharger();
    else if (current.view === "map") openMap();
  }, wait);
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

// ---------- operator sign-in ----------

function showOperatorState(on) {
  const button = $("operator-toggle");
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Operator ✓" : "Sign in";
  button.title = on ? "Signed in as operator: click to sign out" : "Sign in as operator";
  if (current.view === "charger") refreshCharger();
}

function setUpSignIn() {
  const dialog = $("signin");
  $("operator-toggle").addEventListener("click", () => {
    if (operatorToken()) {
      setOperatorToken("");
      toast("Signed out.", false);
      return;
    }
    $("signin-error").hidden = true;
    $("operator-token").value = "";
    dialog.showModal();
  });
  $("signin-cancel").addEventListener("click", () => dialog.close());
  $("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = $("operator-token").value.trim();
    const error = $("signin-error");
    if (!token) {
      error.textContent = "Enter the operator token.";
      error.hidden = false;
      return;
    }
    $("signin-submit").disabled = true;
    const verdict = await checkOperatorToken(token);
    $("signin-submit").disabled = false;
    if (verdict === "ok") {
      dialog.close();
      setOperatorToken(token);
      toast("Signed in as operator: stop, resume and revoke are on each charger's page.", false);
      return;
    }
    error.textContent =
      verdict === "refused"
        ? "That token was refused: it is not this network's operator token."
        : "The API could not be reached to check the token; try again.";
    error.hidden = false;
    $("operator-token").select();
  });
  onSignInChange(showOperatorState);
}

// ---------- start ----------

setInterval(() => {
  if (source && Date.now() - lastHeardAt > SILENCE_LIMIT_MS) unreachable("The API stopped answering");
  tickElapsed();
}, 1000);

fill($("legend"), STATES.map(stateBadge));
setUpFleet();
setUpCharger();
setUpHistory();
setUpSignIn();
showOperatorState(Boolean(operatorToken()));
window.addEventListener("hashchange", route);
route();
connect();
