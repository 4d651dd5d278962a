/** The dashboard (`/`), the API docs page (`/docs`) and their static files, from public/. */
import { Hono } from "hono";
import { describeRoute } from "../../../http/openapi.ts";
import { publicFiles } from "../public-files.ts";

const pages: Record<string, { summary: string; description: string }> = {
  "/": { summary: "The live dashboard", description: "Charging points, sessions, drivers, services, weather, alerts and audit events, updated live." },
  "/docs": { summary: "Readable API documentation", description: "A page that renders /openapi.json." },
};

function serveFile(filePath: string) {
  return () => {
    const file = Bun.file(filePath);
    // Small files that change with each release: always revalidate rather than cache stale JS.
    return new Response(file, { headers: { "content-type": file.type, "cache-control": "no-cache" } });
  };
}

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
  return app;
}
