/** The dashboard (`/`), the API docs page (`/docs`) and their static files, from public/. */
import { Hono } from "hono";
import { describeRoute } from "../../../http/openapi.ts";
import { publicFiles, vendorFiles } from "../public-files.ts";

const pages: Record<string, { summary: string; description: string }> = {
  "/": { summary: "The live dashboard", description: "Charging points, sessions, drivers, services, weather, alerts and audit events, updated live." },
  "/docs": { summary: "Readable API documentation", description: "A page that renders /openapi.json." },
};

function serveFile(filePath: string, cacheControl = "no-cache") {
  return () => {
    const file = Bun.file(filePath);
    // Our small files change with each release: always revalidate rather than cache stale JS.
    return new Response(file, { headers: { "content-type": file.type, "cache-control": cacheControl } });
  };
}

/** Vendored libraries change only with their pinned version: a day's caching saves a reload. */
const VENDOR_CACHE = "public, max-age=86400";

export function dashboardRoutes(): Hono {
  const app = new Hono();
  for (const [urlPath, filePath] of Object.entries(publicFiles)) {
    const page = pages[urlPath];
    if (page) {
      app.get(
        urlPath,
        describeRoute({
          tags: ["dashboard"],
          ...page,
          responses: { 200: { description: "An HTML page", content: { "text/html": { schema: { type: "string" } } } } },
        }),
        serveFile(filePath),
      );
    } else {
      app.get(urlPath, serveFile(filePath));
    }
  }
  for (const [urlPath, filePath] of Object.entries(vendorFiles)) app.get(urlPath, serveFile(filePath, VENDOR_CACHE));
  return app;
}
