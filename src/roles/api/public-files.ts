/**
 * The dashboard's static files, embedded: each file of public/ is imported `with { type: "file" }`,
 * which gives its path on disk under `bun run` and its path inside the executable when compiled,
 * so `Bun.file(path)` serves it either way (hono's serveStatic reads the working directory and
 * would not see files inside the binary). A test fails when public/ has a file not listed here.
 *
 * The chart and map libraries come from their npm packages (versions pinned in package.json),
 * embedded the same way and served under /vendor/: the console needs no CDN, no tile server and
 * no internet access.
 */
import leafletCss from "../../../node_modules/leaflet/dist/leaflet.css" with { type: "file" };
import leafletJs from "../../../node_modules/leaflet/dist/leaflet.js" with { type: "file" };
import topojsonJs from "../../../node_modules/topojson-client/dist/topojson-client.min.js" with { type: "file" };
import uplotJs from "../../../node_modules/uplot/dist/uPlot.iife.min.js" with { type: "file" };
import uplotCss from "../../../node_modules/uplot/dist/uPlot.min.css" with { type: "file" };
import worldJson from "../../../node_modules/world-atlas/countries-50m.json" with { type: "file" };
import chargerJs from "../../../public/charger.js" with { type: "file" };
import dashboardCss from "../../../public/dashboard.css" with { type: "file" };
import dashboardJs from "../../../public/dashboard.js" with { type: "file" };
import docsHtml from "../../../public/docs.html" with { type: "file" };
import docsJs from "../../../public/docs.js" with { type: "file" };
import favicon from "../../../public/favicon.svg" with { type: "file" };
import fleetJs from "../../../public/fleet.js" with { type: "file" };
import historyJs from "../../../public/history.js" with { type: "file" };
import indexHtml from "../../../public/index.html" with { type: "file" };
import mapJs from "../../../public/map.js" with { type: "file" };
import uiJs from "../../../public/ui.js" with { type: "file" };

// bun-types types `*.html` imports as HTML bundles and TypeScript types JSON by its content;
// with `type: "file"` they are paths.
const path = (imported: unknown) => imported as string;

/** URL path → embedded file path. `/` and `/docs` are the two pages. */
export const publicFiles: Record<string, string> = {
  "/": path(indexHtml),
  "/index.html": path(indexHtml),
  "/dashboard.css": path(dashboardCss),
  "/dashboard.js": path(dashboardJs),
  "/ui.js": path(uiJs),
  "/fleet.js": path(fleetJs),
  "/charger.js": path(chargerJs),
  "/history.js": path(historyJs),
  "/map.js": path(mapJs),
  "/docs": path(docsHtml),
  "/docs.html": path(docsHtml),
  "/docs.js": path(docsJs),
  "/favicon.svg": path(favicon),
};

/** Third-party files the console loads when a view first needs them. */
export const vendorFiles: Record<string, string> = {
  "/vendor/uplot.js": path(uplotJs),
  "/vendor/uplot.css": path(uplotCss),
  "/vendor/leaflet.js": path(leafletJs),
  "/vendor/leaflet.css": path(leafletCss),
  "/vendor/topojson-client.js": path(topojsonJs),
  "/vendor/countries-50m.json": path(worldJson),
};
