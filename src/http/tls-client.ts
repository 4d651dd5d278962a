/**
 * How every evnet HTTPS client (monitor -> registry/API, weather -> API, tests) reaches the
 * project's servers: verifying their certificate against the local CA that `evnet certs` made,
 * or against the system's CAs when no CA file is given. Verification is never switched off.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/env.ts";

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Reads a PEM CA certificate file. `setting` names where the path came from (e.g. `EVNET_CA_FILE`)
 * so a wrong path is reported against it.
 */
export function readCaFile(caFile: string, setting = "CA file"): string {
  let pem: string;
  try {
    pem = readFileSync(caFile, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`${setting}: cannot read the CA certificate ${caFile} (${reason}); make one with 'evnet certs'`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw new ConfigError(`${setting}: ${caFile} is not a PEM certificate (expected the ca.pem that 'evnet certs' writes)`);
  return pem;
}

/** TLS options for Bun's fetch (or Bun.connect) that trust exactly the given CA. */
export function trustingCa(caPem: string): { ca: string } {
  return { ca: caPem };
}

/**
 * A `fetch` that verifies servers against `caFile` (read once, now), or the system's CAs
 * without one. Use it for every HTTPS call to evnet's own services.
 */
export function tlsFetch(caFile?: string, setting?: string): Fetch {
  if (!caFile) return (input, init) => fetch(input, init);
  const tls = trustingCa(readCaFile(caFile, setting));
  return (input, init) => fetch(input, { ...init, tls } as RequestInit);
}
