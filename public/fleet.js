// The chargers of the Network view: searched, filtered, sorted and paged by the API
// (GET /ev/central/fleet), so only one page is ever fetched and drawn, however big the network.

import { $, ApiError, chargerHash, elapsed, fill, fmt, getJson, h, makerOf, params, protocolLabel, STATES, stateBadge } from "./ui.js";

const PAGE = 48;
const SEARCH_DELAY_MS = 250;

/** What the list shows; kept in the URL (#/?q=...&status=...) so a view can be shared or reloaded. */
const query = { q: "", status: "", city: "", protocol: "", sort: "cp_id", order: "asc", offset: 0 };
let reading = 0;
let lastPage = null;
let searchTimer = null;

export function fleetQueryFrom(search) {
  query.q = search.get("q") || "";
  query.status = search.get("status") || "";
  query.city = search.get("city") || "";
  query.protocol = search.get("protocol") || "";
  query.sort = search.get("sort") || "cp_id";
  query.order = search.get("order") === "desc" ? "desc" : "asc";
  query.offset = Math.max(0, Number(search.get("offset")) || 0);
  $("fleet-q").value = query.q;
  $("fleet-city").value = query.city;
  $("fleet-protocol").value = query.protocol;
  $("fleet-sort").value = `${query.sort}:${query.order}`;
}

function keepInUrl() {
  const p = new URLSearchParams(
    params({
      q: query.q,
      status: query.status,
      city: query.city,
      protocol: query.protocol,
      sort: query.sort === "cp_id" ? "" : query.sort,
      order: query.order === "asc" ? "" : query.order,
      offset: query.offset || "",
    }),
  );
  const hash = `#/${p.size ? `?${p}` : ""}`;
  if (location.hash !== hash && !(hash === "#/" && location.hash === "")) history.replaceState(null, "", hash);
}

/** Reads the page shown now; an answer that arrives after a newer question is dropped. */
export async function refreshFleet() {
  const mine = ++reading;
  try {
    const page = await getJson(
      "/ev/central/fleet",
      params({
        q: query.q,
        status: query.status,
        city: query.city,
        protocol: query.protocol,
        sort: query.sort,
        order: query.order,
        limit: PAGE,
        offset: query.offset,
      }),
    );
    if (mine !== reading) return;
    lastPage = page;
    render(page);
    $("fleet-error").hidden = true;
  } catch (err) {
    if (mine !== reading) return;
    $("fleet-error").textContent =
      err instanceof ApiError && err.status === 422 ? `This search cannot be run: ${err.message}` : `Chargers could not be read: ${err.message}`;
    $("fleet-error").hidden = false;
  }
}

function render(page) {
  renderFilters(page.counts_by_state);
  const { total, offset } = page.paging;
  const cps = page.charging_points;
  $("fleet-count").textContent =
    total === 0 ? "No charger matches" : `${fmt.int(offset + 1)}–${fmt.int(offset + cps.length)} of ${fmt.int(total)} charger${total === 1 ? "" : "s"}`;
  $("fleet-prev").disabled = offset === 0;
  $("fleet-next").disabled = offset + cps.length >= total;
  if (cps.length === 0) {
    const searching = query.q || query.status || query.city || query.protocol;
    return fill(
      $("cps"),
      h("p", { class: "empty" }, searching ? "No charger matches this search. Clear the filters to see them all." : "No charging point is registered yet."),
    );
  }
  fill($("cps"), cps.map(cpCard));
}

/** One chip per state, with how many chargers of the search are in it; the one chosen is pressed. */
function renderFilters(counts) {
  const all = STATES.reduce((sum, s) => sum + counts[s], 0);
  const chip = (state, label, n) =>
    h(
      "button",
      { type: "button", class: `chip${state ? ` chip-${state}` : ""}`, "aria-pressed": String(query.status === state), dataset: { status: state } },
      label,
      h("span", { class: "chip-n num" }, fmt.int(n)),
    );
  fill(
    $("fleet-states"),
    chip("", "All", all),
    STATES.map((s) => chip(s, stateBadge(s), counts[s])),
  );
}

function cpCard(cp) {
  const session = cp.session;
  const temperature = cp.temperature_c === null ? "no reading" : fmt.temp(cp.temperature_c);
  return h(
    "a",
    { class: "cp", href: chargerHash(cp.cp_id), dataset: { cp: cp.cp_id, state: cp.status }, "aria-label": `Charging point ${cp.cp_id}, ${cp.status}` },
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
    cp.protocol === "ocpp" ? ocppLine(cp) : null,
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
  );
}

/** An OCPP charger's version, maker and whether its socket is open now. */
function ocppLine(cp) {
  const connection = { online: "connected", offline: "not connected", never: "never connected" }[cp.connection_state];
  return h(
    "div",
    { class: "cp-ocpp", "data-field": "ocpp" },
    h("span", {}, h("strong", { "data-field": "protocol" }, protocolLabel(cp)), makerOf(cp) ? ` · ${makerOf(cp)}` : ""),
    h("span", { class: `link-state link-${cp.connection_state}`, "data-field": "connection_state" }, connection),
  );
}

function changed(patch) {
  Object.assign(query, patch);
  keepInUrl();
  refreshFleet();
}

export function showCity(city) {
  location.hash = `#/?${new URLSearchParams({ city })}`;
}

export function setUpFleet() {
  $("fleet-q").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => changed({ q: $("fleet-q").value.trim(), offset: 0 }), SEARCH_DELAY_MS);
  });
  $("fleet-city").addEventListener("change", () => changed({ city: $("fleet-city").value.trim(), offset: 0 }));
  $("fleet-protocol").addEventListener("change", () => changed({ protocol: $("fleet-protocol").value, offset: 0 }));
  $("fleet-sort").addEventListener("change", () => {
    const [sort, order] = $("fleet-sort").value.split(":");
    changed({ sort, order, offset: 0 });
  });
  $("fleet-states").addEventListener("click", (e) => {
    const chip = e.target.closest("button[data-status]");
    if (chip) changed({ status: chip.dataset.status === query.status ? "" : chip.dataset.status, offset: 0 });
  });
  $("fleet-prev").addEventListener("click", () => changed({ offset: Math.max(0, query.offset - PAGE) }));
  $("fleet-next").addEventListener("click", () => {
    if (lastPage && query.offset + PAGE < lastPage.paging.total) changed({ offset: query.offset + PAGE });
  });
  $("fleet-clear").addEventListener("click", () => {
    $("fleet-q").value = "";
    $("fleet-city").value = "";
    $("fleet-protocol").value = "";
    changed({ q: "", status: "", city: "", protocol: "", offset: 0 });
  });
}

/** The cities the city filter offers (the weather office's list, which follows the chargers'). */
export function renderCityChoices(weather) {
  const list = $("fleet-cities");
  const cities = weather.map((w) => w.city);
  if (list.dataset.cities === cities.join("|")) return;
  list.dataset.cities = cities.join("|");
  fill(
    list,
    cities.map((c) => h("option", { value: c })),
  );
}
