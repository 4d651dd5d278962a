// The map (#/map): chargers by city on a world outline shipped with the app (Natural Earth
// countries from world-atlas, drawn by Leaflet; no tile server, works offline). Each city is a
// ring coloured by its chargers' states, with a frost mark under a frost alert.

import { showCity } from "./fleet.js";
import { $, fill, fmt, getJson, h, loadScript, loadStyle, STATES, stateBadge } from "./ui.js";

const STATE_COLOURS = {
  ACTIVE: "--active",
  SUPPLYING: "--supplying",
  STOPPED: "--stopped",
  OUT_OF_SERVICE: "--out",
  BROKEN: "--broken",
  DISCONNECTED: "--disconnected",
};
let map = null;
let markers = null;
let fitted = false;
let reading = 0;

async function ensureMap() {
  if (map) return;
  loadStyle("/vendor/leaflet.css");
  await Promise.all([loadScript("/vendor/leaflet.js"), loadScript("/vendor/topojson-client.js")]);
  const world = await fetch("/vendor/countries-50m.json").then((r) => {
    if (!r.ok) throw new Error(`the outline map could not be read (${r.status})`);
    return r.json();
  });
  const L = window.L;
  map = L.map($("map-canvas"), { attributionControl: false, worldCopyJump: false, minZoom: 1, maxZoom: 10, zoomSnap: 0.5 });
  const css = getComputedStyle(document.documentElement);
  L.geoJSON(window.topojson.feature(world, world.objects.countries), {
    interactive: false,
    style: { color: css.getPropertyValue("--map-border").trim(), weight: 0.8, fillColor: css.getPropertyValue("--map-land").trim(), fillOpacity: 1 },
  }).addTo(map);
  L.control.attribution({ prefix: false }).addAttribution("Outline: Natural Earth").addTo(map);
  markers = L.layerGroup().addTo(map);
  map.setView([40, 0], 2);
}

/** A ring whose arcs are the share of each state among the city's chargers. */
function ring(byState, total) {
  const css = getComputedStyle(document.documentElement);
  let at = 0;
  const stops = [];
  for (const s of STATES) {
    if (!byState[s]) continue;
    const to = at + (byState[s] / total) * 360;
    stops.push(`${css.getPropertyValue(STATE_COLOURS[s]).trim()} ${at}deg ${to}deg`);
    at = to;
  }
  return `conic-gradient(${stops.join(", ")})`;
}

function marker(city) {
  const L = window.L;
  const size = Math.round(Math.min(64, 26 + Math.sqrt(city.charging_points) * 3));
  const icon = L.divIcon({
    className: "city-marker-holder",
    iconSize: [size, size],
    html: `<div class="city-marker${city.frost ? " frost" : ""}" style="width:${size}px;height:${size}px"></div>`,
  });
  const m = L.marker([city.latitude, city.longitude], { icon, title: city.city, keyboard: true, alt: `${city.city}: ${city.charging_points} chargers` });
  m.on("add", () => {
    const el = m.getElement()?.querySelector(".city-marker");
    if (!el) return;
    el.style.background = ring(city.by_state, city.charging_points);
    el.dataset.city = city.city;
    el.append(
      h("span", { class: "city-marker-n" }, fmt.int(city.charging_points)),
      city.frost ? h("span", { class: "city-marker-frost", title: "frost alert" }, "❄") : "",
    );
  });
  const lines = STATES.filter((s) => city.by_state[s]).map((s) => `${city.by_state[s]} ${s.replaceAll("_", " ").toLowerCase()}`);
  const temp = city.temperature_c === null ? "no temperature yet" : `${fmt.temp(city.temperature_c)}${city.frost ? " — FROST ALERT" : ""}`;
  m.bindTooltip(`<strong></strong><br>${temp}<br>${lines.join("<br>")}`, { direction: "top" });
  m.on("tooltipopen", (e) => {
    e.tooltip.getElement().querySelector("strong").textContent = city.city; // a city's name is text, never HTML
  });
  m.on("click", () => showCity(city.city));
  return m;
}

export async function openMap() {
  const mine = ++reading;
  try {
    await ensureMap();
    map.invalidateSize();
    const view = await getJson("/ev/central/map");
    if (mine !== reading) return;
    $("map-error").hidden = true;
    markers.clearLayers();
    for (const city of view.cities) markers.addLayer(marker(city));
    if (!fitted && view.cities.length) {
      fitted = true;
      map.fitBounds(window.L.latLngBounds(view.cities.map((c) => [c.latitude, c.longitude])).pad(0.3), { maxZoom: 6 });
    }
    $("map-canvas").dataset.cities = String(view.cities.length);
    renderList(view);
  } catch (err) {
    if (mine !== reading) return;
    $("map-error").textContent = `The map cannot be shown: ${err.message}`;
    $("map-error").hidden = false;
  }
}

function renderList(view) {
  fill($("map-legend"), STATES.map(stateBadge), h("span", { class: "badge frost" }, "❄ frost alert"));
  fill(
    $("map-unplaced"),
    view.unplaced.length
      ? [
          h(
            "p",
            { class: "muted small" },
            "Not on the map yet (no coordinates from the weather provider; an operator can set them with PUT /ev/central/city-coordinates):",
          ),
          h(
            "ul",
            { class: "unplaced" },
            view.unplaced.map((c) => h("li", {}, h("a", { href: `#/?city=${encodeURIComponent(c.city)}` }, c.city), ` · ${fmt.int(c.charging_points)}`)),
          ),
        ]
      : [],
  );
}
