/**
 * Serves a Hono app with Bun, over HTTPS when certificate files are given. The peer address is
 * passed to handlers as `c.env.remoteAddress`. A port that is taken and a certificate file that
 * cannot be read are reported against the settings that name them.
 */
import type { Hono } from "hono";
import { settingLabel } from "../config/env.ts";
import { readSettingFile } from "../config/files.ts";
import { EXIT, KnownError } from "../lib/errors.ts";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** The settings the address and the files come from (API_PORT, ...), for error messages. */
export interface ServeSettings {
  port: string;
  cert: string;
  key: string;
}

export interface ServeOptions {
  hostname: string;
  port: number;
  tls?: TlsFiles;
  settings?: ServeSettings;
}

export interface HttpServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export class PortInUse extends KnownError {
  override name = "PortInUse";
  constructor(hostname: string, port: number, setting?: string) {
    super(`cannot listen on ${hostname}:${port}: the port is already in use`, {
      hint: `is evnet already running there? Stop it, or choose another port${setting ? ` with ${settingLabel(setting)}` : ""}`,
      exitCode: EXIT.unavailable,
    });
  }
}

/** Reads the certificate and key, reporting a missing one against its setting; call it early to fail before anything starts. */
export function readTlsFiles(files: TlsFiles, settings?: ServeSettings, hint?: string): { cert: string; key: string } {
  return {
    cert: readSettingFile(settings?.cert ?? "TLS certificate", files.certFile, hint),
    key: readSettingFile(settings?.key ?? "TLS key", files.keyFile, hint),
  };
}

export function serve(app: Hono, options: ServeOptions): HttpServer {
  const names = options.settings;
  const tls = options.tls && readTlsFiles(options.tls, names);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: options.hostname,
      port: options.port,
      idleTimeout: 0,
      ...(tls ? { tls } : {}),
      fetch(req, srv) {
        return app.fetch(req, { remoteAddress: srv.requestIP(req)?.address });
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") throw new PortInUse(options.hostname, options.port, names?.port);
    throw err;
  }
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
