/**
 * How every evnet HTTPS client (monitor -> registry/API, weather -> API, tests) reaches the
 * project's servers: verifying their certificate against the local CA that `evnet certs` made,
 * or against the system's CAs when no CA file is given. Verification is never switched off.
 */
import { readFileSync } from "node:fs";
import { ConfigError, settingLabel } from "../config/env.ts";

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

const CERTIFICATE_PROBLEM = /certificate|self.signed|issuer|verify|CERT_/i;

/**
 * Why a request to one of evnet's servers failed, in words, and how to fix it: the usual first
 * mistakes are HTTPS against a plain-HTTP server (or the reverse), a CA that is not trusted,
 * and a server that is not running.
 */
export function explainFetchFailure(err: unknown, url: string, caSetting = "EVNET_CA_FILE"): { why: string; hint?: string } {
  const e = err as { code?: string; message?: string; name?: string };
  const origin = new URL(url).origin;
  const why = e.name === "TimeoutError" ? "no answer in time" : (e.message ?? String(err));
  const https = origin.startsWith("https:");
  if (e.code === "ERR_TLS_CERT_ALTNAME_INVALID")
    return { why, hint: `its certificate is not for ${new URL(url).hostname}: make one that is with 'evnet certs --hosts ${new URL(url).hostname}'` };
  if (https && (e.code === "EPROTO" || /handshake/i.test(why)))
    return { why, hint: `does it serve plain HTTP? (evnet up and evnet api do unless given --tls-cert) Then use ${origin.replace(/^https:/, "http:")}` };
  if (https && (CERTIFICATE_PROBLEM.test(why) || CERTIFICATE_PROBLEM.test(e.code ?? "")))
    return { why, hint: `trust the CA that signed its certificate: ${settingLabel(caSetting)}, the ca.pem of 'evnet certs'` };
  if (!https && e.code === "ECONNRESET") return { why, hint: `does it serve HTTPS? Then use ${origin.replace(/^http:/, "https:")}` };
  if (e.code === "ECONNREFUSED") return { why: "connection refused", hint: `is it running, and listening at ${origin}?` };
  if (e.code === "ENOTFOUND") return { why: "no such host", hint: `check the host name in ${origin}` };
  return { why };
}
