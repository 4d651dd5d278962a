/**
 * Serves a Hono app with Bun, over HTTPS when certificate files are given. The peer address is
 * passed to handlers as `c.env.remoteAddress`.
 */
import { readFileSync } from "node:fs";
import type { Hono } from "hono";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface ServeOptions {
  hostname: string;
  port: number;
  tls?: TlsFiles;
}

export interface HttpServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function serve(app: Hono<any>, options: ServeOptions): HttpServer {
  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    idleTimeout: 0,
    ...(options.tls ? { tls: { cert: readFileSync(options.tls.certFile, "utf8"), key: readFileSync(options.tls.keyFile, "utf8") } } : {}),
    fetch(req, srv) {
      return app.fetch(req, { remoteAddress: srv.requestIP(req)?.address });
    },
  });
  const scheme = options.tls ? "https" : "http";
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  return {
    url: `${scheme}://${host}:${server.port}`,
    port: server.port ?? options.port,
    stop: async () => {
      await server.stop(true);
    },
  };
}
