// evnet console: what every view shares — building the DOM (text only: nothing from the API is
// ever parsed as HTML), formatting, reading the API, the operator token, toasts and confirmations.

export const STATES = ["ACTIVE", "SUPPLYING", "STOPPED", "OUT_OF_SERVICE", "BROKEN", "DISCONNECTED"];
const STATE_TEXT = { OUT_OF_SERVICE: "OUT OF SERVICE" };

export const $ = (id) => document.getElementById(id);

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function fill(container, ...children) {
  container.replaceChildren(...children.flat().filter(Boolean));
}

/** A table that becomes a stack of small "label: value" cards on a phone (see dashboard.css). */
export function table(headers, rows, emptyText, rowProps) {
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
        headers.map((c) => h("th", { class: c.class, scope: "col" }, c.label)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((cells, n) =>
        h(
          "tr",
          rowProps ? rowProps(n) : {},
          cells.map((cell, i) => h("td", { class: headers[i].class, "data-label": headers[i].label }, cell)),
        ),
      ),
    ),
  );
}

// ---------- formatting ----------

export const fmt = {
  kw: (n) => n.toFixed(1),
  kwh: (n) => n.toFixed(3),
  eur: (n) => n.toFixed(2),
  price: (n) => `${n.toFixed(2)} €/kWh`,
  temp: (n) => `${n.toFixed(1)} °C`,
  int: (n) => n.toLocaleString("en-GB"),
};

export function formatTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return sameDay ? time : `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hh > 0 ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`;
}

/** An age in words: "3 d 4 h", "12 min", "40 s". */
export function formatAge(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 86400) return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min`;
  return `${s} s`;
}

export const words = (s) => (s || "—").replaceAll("_", " ");

export function stateBadge(state) {
  return h("span", { class: `state state-${state}` }, STATE_TEXT[state] || state);
}

/** The server's clock minus ours, so elapsed times do not depend on the viewer's clock. */
let clockOffsetMs = 0;
export const setServerTime = (iso) => (clockOffsetMs = Date.parse(iso) - Date.now());
export const serverNow = () => Date.now() + clockOffsetMs;

/** An element whose text counts up from `since` each second (see tickElapsed). */
export function elapsed(since) {
  return h("span", { class: "num", dataset: { since } }, formatDuration((serverNow() - Date.parse(since)) / 1000));
}

export function tickElapsed() {
  for (const el of document.querySelectorAll("[data-since]")) el.textContent = formatDuration((serverNow() - Date.parse(el.dataset.since)) / 1000);
}

/** A link inside the console: changes the view without reloading. */
export function link(hash, ...children) {
  return h("a", { href: hash }, ...children);
}

/** "OCPP 1.6", "OCPP 2.0.1", "OCPP" (not booted yet) or "evnet": how a charger talks to the network. */
export const protocolLabel = (cp) => (cp.protocol === "ocpp" ? `OCPP ${cp.protocol_version ?? ""}`.trim() : "evnet");

/** Who made it, as the charger said at boot: "ABB Terra AC", or null before its first boot. */
export const makerOf = (cp) => [cp.vendor, cp.model].filter(Boolean).join(" ") || null;

export const chargerHash = (cpId) => `#/cp/${encodeURIComponent(cpId)}`;

// ---------- reading the API ----------

export class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

/** GET a JSON document; an error answer becomes an ApiError carrying the API's own message. */
export async function getJson(path, params) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  let res;
  try {
    res = await fetch(`${path}${query}`, { headers: { accept: "application/json" } });
  } catch {
    throw new ApiError(0, "the API could not be reached");
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, explain(body, res.status), body.error?.details);
  return body;
}

/** The API's error in one line, naming each refused field. */
export function explain(body, status) {
  const error = body?.error;
  if (!error) return `the API answered ${status}`;
  const fields = Array.isArray(error.details) ? error.details.map((d) => `${d.field}: ${d.message}`).join("; ") : "";
  return fields ? `${error.message} — ${fields}` : error.message;
}

/** Query parameters without the empty ones. */
export function params(values) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== null && v !== ""));
}

// ---------- operator sign-in (the token stays in this tab only) ----------

const TOKEN_KEY = "evnet.operatorToken";
export const operatorToken = () => sessionStorage.getItem(TOKEN_KEY) || "";
const signInListeners = new Set();
export const onSignInChange = (fn) => signInListeners.add(fn);

export function setOperatorToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  for (const fn of signInListeners) fn(Boolean(token));
}

/** Asks the API whether `token` is the operator token: "ok", "refused" or "unreachable". */
export async function checkOperatorToken(token) {
  try {
    const res = await fetch("/ev/central/operator/sign-in", { method: "POST", headers: { authorization: `Bearer ${token}` } });
    if (res.ok) return "ok";
    return res.status === 401 ? "refused" : "unreachable";
  } catch {
    return "unreachable";
  }
}

/** POST an operator action; says how it went in a toast. */
export async function operatorPost(path, what) {
  try {
    const res = await fetch(path, { method: "POST", headers: { authorization: `Bearer ${operatorToken()}` } });
    const body = await res.json().catch(() => ({}));
    if (res.ok) return toast(body.message || `${what}: done`, false);
    if (res.status === 401) setOperatorToken("");
    toast(`${what} refused: ${explain(body, res.status)}`, true);
  } catch {
    toast(`${what}: the API could not be reached`, true);
  }
}

// ---------- toasts and confirmations ----------

let toastTimer = null;
export function toast(text, isError) {
  const el = $("toast");
  el.textContent = text;
  el.className = `toast${isError ? " error" : ""}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 6000);
}

/** A modal question; resolves true when the person confirms. */
export function confirmAction(title, text, confirmLabel, danger) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  const ok = $("confirm-ok");
  ok.textContent = confirmLabel;
  ok.className = danger ? "danger" : "primary";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

// ---------- libraries loaded when a view first needs them ----------

const loading = new Map();
/** Loads a script once (the chart and map libraries, shipped with the app under /vendor/). */
export function loadScript(src) {
  if (!loading.has(src))
    loading.set(
      src,
      new Promise((resolve, reject) => {
        const s = h("script", { src });
        s.onload = resolve;
        s.onerror = () => reject(new Error(`could not load ${src}`));
        document.head.append(s);
      }),
    );
  return loading.get(src);
}

export function loadStyle(href) {
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(h("link", { rel: "stylesheet", href }));
}
