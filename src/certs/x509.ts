/**
 * X.509 in pure TypeScript (@peculiar/x509 over WebCrypto ECDSA P-256), so `evnet certs` works
 * from the compiled binary on a machine without openssl: a local CA, and server certificates it
 * signs for the HTTPS roles (registry, API).
 */

import { isIP } from "node:net";
import type * as X509 from "@peculiar/x509";

let loading: Promise<typeof X509> | undefined;
/**
 * @peculiar/x509 (through tsyringe) needs the Reflect metadata API installed before it loads.
 * In the bundled binary a static side-effect import is not guaranteed to run first, so the
 * polyfill and the library are loaded in sequence here.
 */
function x509lib(): Promise<typeof X509> {
  return (loading ??= import("reflect-metadata").then(() => import("@peculiar/x509")));
}

const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;
/** A local CA outlives many server certificates; 10 years. */
const CA_DAYS = 3650;
/** Clients (browsers included) refuse server certificates valid longer than 825 days. */
const SERVER_DAYS = 825;

export interface Pem {
  certPem: string;
  keyPem: string;
}

export interface Authority extends Pem {
  cert: X509.X509Certificate;
  key: CryptoKey;
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive, as RFC 5280 requires
  return Buffer.from(bytes).toString("hex");
}

async function keyPem(key: CryptoKey): Promise<string> {
  const x509 = await x509lib();
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

const validity = (days: number) => {
  const notBefore = new Date(Date.now() - 60_000); // tolerate small clock differences between machines
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
};

export async function createAuthority(commonName = "evnet local CA"): Promise<Authority> {
  const x509 = await x509lib();
  const keys = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}, O=evnet`,
    ...validity(CA_DAYS),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey, certPem: cert.toString("pem"), keyPem: await keyPem(keys.privateKey) };
}

/** Reads a CA written earlier by `createAuthority` (its certificate and PKCS#8 key, PEM). */
export async function loadAuthority(certPem: string, keyPemText: string): Promise<Authority> {
  const x509 = await x509lib();
  const cert = new x509.X509Certificate(certPem);
  const der = x509.PemConverter.decodeFirst(keyPemText);
  const key = await crypto.subtle.importKey("pkcs8", der, { name: EC.name, namedCurve: EC.namedCurve }, true, ["sign"]);
  return { cert, key, certPem, keyPem: keyPemText };
}

/** Splits host names and addresses into subjectAltName entries (IP addresses as iPAddress). */
export function altNames(hosts: string[]): { type: "dns" | "ip"; value: string }[] {
  return [...new Set(hosts)].map((value) => ({ type: isIP(value) ? "ip" : "dns", value }));
}

/** A certificate the CA signs for a fresh key: CN = `commonName`, for `usage` (server or client authentication). */
async function issueLeaf(ca: Authority, commonName: string, usage: "server" | "client", hosts: string[] = []): Promise<Pem> {
  const x509 = await x509lib();
  const keys = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${commonName}, O=evnet`,
    issuer: ca.cert.subject,
    ...validity(SERVER_DAYS),
    signingAlgorithm: EC,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      ...(hosts.length ? [new x509.SubjectAlternativeNameExtension(altNames(hosts))] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await keyPem(keys.privateKey) };
}

export function issueServerCertificate(ca: Authority, hosts: string[], commonName = "evnet server"): Promise<Pem> {
  return issueLeaf(ca, commonName, "server", hosts);
}

/**
 * A client certificate for a charger (OCPP security profile 3): CN = its id, signed by the
 * operator's CA, for TLS client authentication only.
 */
export function issueClientCertificate(ca: Authority, commonName: string): Promise<Pem> {
  return issueLeaf(ca, commonName, "client");
}
