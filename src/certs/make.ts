/**
 * `evnet certs`: a local CA and one server certificate (for the registry and the API), written
 * to a folder. An existing CA is kept, so certificates already handed to clients stay valid,
 * unless `force` asks for a new one; the server certificate is issued afresh every time (to add
 * host names, say). Private keys are readable by their owner only.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { isId } from "../domain/ids.ts";
import { AppError, EXIT, KnownError, systemReason } from "../lib/errors.ts";
import { ensureControlSigningKeys, ensureSigningKeys } from "./signing-keys.ts";
import { type Authority, createAuthority, issueClientCertificate, issueServerCertificate, loadAuthority } from "./x509.ts";

export const CA_CERT_FILE = "ca.pem";
export const CA_KEY_FILE = "ca-key.pem";
export const SERVER_CERT_FILE = "server.pem";
export const SERVER_KEY_FILE = "server-key.pem";

/** Names every server certificate answers to, whatever else is asked. */
export const LOCAL_HOSTS = ["localhost", "127.0.0.1", "::1"];

export interface MakeCertsOptions {
  dir: string;
  /** Extra host names or IP addresses the server certificate must be valid for. */
  hosts?: string[];
  /** Make a new CA even if one exists (every client must then get the new ca.pem). */
  force?: boolean;
}

export interface WrittenFile {
  path: string;
  what: string;
  action: "created" | "replaced" | "kept";
  private: boolean;
}

export interface CertsReport {
  hosts: string[];
  files: WrittenFile[];
}

const HOST_NAME = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/;

export function checkHosts(hosts: string[]): string[] {
  const bad = hosts.filter((h) => !isIP(h) && !HOST_NAME.test(h));
  if (bad.length) throw new AppError("bad_request", `not a host name or IP address: ${bad.map((h) => JSON.stringify(h)).join(", ")}`);
  return [...new Set([...LOCAL_HOSTS, ...hosts])];
}

function write(path: string, content: string, secret: boolean): void {
  writeFileSync(path, content, { mode: secret ? 0o600 : 0o644 });
  chmodSync(path, secret ? 0o600 : 0o644); // an existing file keeps its old mode otherwise
}

/** Makes the files; a folder that cannot be written is reported as such, with how to fix it. */
export async function makeCerts(options: MakeCertsOptions): Promise<CertsReport> {
  const hosts = checkHosts(options.hosts ?? []);
  try {
    return await writeCerts(options, hosts);
  } catch (err) {
    const reason = systemReason(err);
    if (!reason) throw err;
    const where = (err as NodeJS.ErrnoException).path ?? options.dir;
    throw new KnownError(`cannot write the certificates to ${options.dir}: ${reason}${where === options.dir ? "" : ` (${where})`}`, {
      hint: "choose a folder you can write to with --dir, or fix its permissions",
      cause: err,
      exitCode: EXIT.cannotCreate,
    });
  }
}

async function writeCerts(options: MakeCertsOptions, hosts: string[]): Promise<CertsReport> {
  mkdirSync(options.dir, { recursive: true });
  const path = (name: string) => join(options.dir, name);
  const files: WrittenFile[] = [];
  const record = (name: string, what: string, action: WrittenFile["action"], secret: boolean) =>
    files.push({ path: path(name), what, action, private: secret });

  const caExists = existsSync(path(CA_CERT_FILE));
  const caKeyExists = existsSync(path(CA_KEY_FILE));
  let ca: Authority;
  if (caExists && caKeyExists && !options.force) {
    ca = await loadAuthority(readFileSync(path(CA_CERT_FILE), "utf8"), readFileSync(path(CA_KEY_FILE), "utf8"));
    record(CA_CERT_FILE, "CA certificate", "kept", false);
    record(CA_KEY_FILE, "CA private key", "kept", true);
  } else {
    if ((caExists || caKeyExists) && !options.force)
      throw new AppError(
        "conflict",
        `${options.dir} has only half of a CA (${caExists ? CA_CERT_FILE : CA_KEY_FILE}); restore the other file, or run 'evnet certs --force' to make a new CA`,
      );
    ca = await createAuthority();
    const action = caExists ? "replaced" : "created";
    write(path(CA_CERT_FILE), ca.certPem, false);
    write(path(CA_KEY_FILE), ca.keyPem, true);
    record(CA_CERT_FILE, "CA certificate", action, false);
    record(CA_KEY_FILE, "CA private key", action, true);
  }

  const serverAction = existsSync(path(SERVER_CERT_FILE)) ? "replaced" : "created";
  const server = await issueServerCertificate(ca, hosts);
  write(path(SERVER_CERT_FILE), server.certPem, false);
  write(path(SERVER_KEY_FILE), server.keyPem, true);
  record(SERVER_CERT_FILE, "server certificate", serverAction, false);
  record(SERVER_KEY_FILE, "server private key", serverAction, true);

  const signing = await ensureSigningKeys(options.dir);
  const signingAction = signing.created ? "created" : "kept";
  files.push({ path: signing.privateKeyFile, what: "registry signing key", action: signingAction, private: true });
  files.push({ path: signing.publicKeyFile, what: "registry signing public key", action: signingAction, private: false });

  const control = await ensureControlSigningKeys(options.dir);
  const controlAction = control.created ? "created" : "kept";
  files.push({ path: control.privateKeyFile, what: "control signing key", action: controlAction, private: true });
  files.push({ path: control.publicKeyFile, what: "control signing public key", action: controlAction, private: false });
  return { hosts, files };
}

/** Where a charger's client certificate goes: `<dir>/chargers/<id>.pem` and `<id>-key.pem`. */
export function chargerCertificateFiles(dir: string, cpId: string): { cert: string; key: string } {
  return { cert: join(dir, "chargers", `${cpId}.pem`), key: join(dir, "chargers", `${cpId}-key.pem`) };
}

/**
 * A charger's client certificate for OCPP security profile 3 (CN = its id), signed by the CA
 * in `dir` (made by `evnet certs` before). Install it, its key and ca.pem on the charger.
 */
export async function makeChargerCertificate(dir: string, cpId: string): Promise<WrittenFile[]> {
  if (!isId(cpId)) throw new AppError("bad_request", `not a charger id: ${JSON.stringify(cpId)}`);
  if (!existsSync(join(dir, CA_CERT_FILE)) || !existsSync(join(dir, CA_KEY_FILE)))
    throw new AppError("not_found", `${dir} has no CA yet: run 'evnet certs' first (chargers' certificates are signed by it)`);
  const ca = await loadAuthority(readFileSync(join(dir, CA_CERT_FILE), "utf8"), readFileSync(join(dir, CA_KEY_FILE), "utf8"));
  const files = chargerCertificateFiles(dir, cpId);
  mkdirSync(join(dir, "chargers"), { recursive: true });
  const action = existsSync(files.cert) ? "replaced" : "created";
  const issued = await issueClientCertificate(ca, cpId);
  write(files.cert, issued.certPem, false);
  write(files.key, issued.keyPem, true);
  return [
    { path: files.cert, what: `${cpId} client certificate`, action, private: false },
    { path: files.key, what: `${cpId} client private key`, action, private: true },
  ];
}
