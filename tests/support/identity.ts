/**
 * What identity tests share: certificates and signing keys made by `evnet certs`' own code in a
 * temporary folder, the tokens, and JSON calls over HTTPS that trust the test CA.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCerts } from "../../src/certs/make.ts";
import { type Fetch, tlsFetch } from "../../src/http/tls-client.ts";

export const ENROLLMENT_TOKEN = "enrollment-token-for-identity-tests";
export const OPERATOR_TOKEN = "operator-token-for-identity-tests";
export const SERVICE_TOKEN = "service-token-for-identity-tests";

export interface TestCerts {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  signingKeyFile: string;
  publicKeyFile: string;
  /** The control signing key pair: the API and Central's admin sign with the first, Central verifies with the second. */
  controlKeyFile: string;
  controlPublicKeyFile: string;
  fetch: Fetch;
  remove(): void;
}

export async function makeTestCerts(): Promise<TestCerts> {
  const dir = mkdtempSync(join(tmpdir(), "evnet-certs-"));
  await makeCerts({ dir });
  const caFile = join(dir, "ca.pem");
  return {
    dir,
    caFile,
    certFile: join(dir, "server.pem"),
    keyFile: join(dir, "server-key.pem"),
    signingKeyFile: join(dir, "registry-signing-key.pem"),
    publicKeyFile: join(dir, "registry-signing-public.pem"),
    controlKeyFile: join(dir, "control-signing-key.pem"),
    controlPublicKeyFile: join(dir, "control-signing-public.pem"),
    fetch: tlsFetch(caFile),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function newMasterKeyHex(): string {
  return randomBytes(32).toString("hex");
}

export interface JsonCall {
  token?: string;
  body?: unknown;
  /** Sent as is, with a JSON content type unless `contentType` says otherwise. */
  raw?: string;
  contentType?: string;
}

export interface JsonReply {
  status: number;
  body: any;
  text: string;
}

export async function callJson(fetchFn: Fetch, method: string, url: string, init: JsonCall = {}): Promise<JsonReply> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined || init.raw !== undefined) headers["content-type"] = init.contentType ?? "application/json";
  const res = await fetchFn(url, { method, headers, body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)) });
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body, text };
}

export function readText(file: string): string {
  return readFileSync(file, "utf8");
}
