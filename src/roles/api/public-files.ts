/**
 * The dashboard's static files, embedded: each file of public/ is imported `with { type: "file" }`,
 * which gives its path on disk under `bun run` and its path inside the executable when compiled,
 * so `Bun.file(path)` serves it either way (hono's serveStatic reads the working directory and
 * would not see files inside the binary). A test fails when public/ has a file not listed here.
 */
import dashboardCss from "../../../public/dashboard.css" with { type: "file" };
import dashboardJs from "../../../public/dashboard.js" with { type: "file" };
import docsHtml from "../../../public/docs.html" with { type: "file" };
import docsJs from "../../../public/docs.js" with { type: "file" };
import favicon from "../../../public/favicon.svg" with { type: "file" };
import indexHtml from "../../../public/index.html" with { type: "file" };

// bun-types types `*.html` imports as HTML bundles; with `type: "file"` they are paths.
const path = (imported: unknown) => imported as string;

/** URL path → embedded file path. `/` and `/docs` are the two pages. */
export const publicFiles: Record<string, string> = {
  "/": path(indexHtml),
  "/index.html": path(indexHtml),
  "/dashboard.css": path(dashboardCss),
  "/dashboard.js": path(dashboardJs),
  "/docs": path(docsHtml),
  "/docs.html": path(docsHtml),
  "/docs.js": path(docsJs),
  "/favicon.svg": path(favicon),
};
