/**
 * `evnet certs` makes a CA and a server certificate that evnet's HTTPS servers use and its
 * clients verify — with the CA, never with verification switched off.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { makeCerts } from "../../src/certs/make.ts";
import { ConfigError } from "../../src/config/env.ts";
import { type HttpServer, serve } from "../../src/http/serve.ts";
import { readCaFile, tlsFetch } from "../../src/http/tls-client.ts";
import { AppError } from "../../src/lib/errors.ts";

const scratch = mkdtempSync(join(tmpdir(), "evnet-certs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(scratch, `certs-${++n}`);

/** Bun's fetch rejects an untrusted server with an error whose code names the TLS failure. */
const CERTIFICATE_ERROR =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_\w+)$/;
const certificateErrorCode = (error: unknown) => String((error as { code?: unknown } | undefined)?.code);

describe("a server using the certificates evnet certs made", () => {
  const dir = freshDir();
  let server: HttpServer;
  beforeAll(async () => {
    await makeCerts({ dir, hosts: ["evnet.test"] });
    const app = new Hono().get("/ping", (c) => c.json({ pong: true }));
    server = serve(app, { hostname: "127.0.0.1", port: 0, tls: { certFile: join(dir, "server.pem"), keyFile: join(dir, "server-key.pem") } });
  });
  afterAll(() => server.stop());

  test("is trusted by a client that verifies against the CA, by IP address and by name", async () => {
    const fetchWithCa = tlsFetch(join(dir, "ca.pem"));
    expect(server.url.startsWith("https://")).toBe(true);
    expect(await (await fetchWithCa(`${server.url}/ping`)).json()).toEqual({ pong: true });
    expect((await fetchWithCa(`https://localhost:${server.port}/ping`)).status).toBe(200);
  });

  test("is refused by a client that does not know the CA", async () => {
    const error = await fetch(`${server.url}/ping`).catch((e: unknown) => e);
    expect(certificateErrorCode(error)).toMatch(CERTIFICATE_ERROR);
  });

  test("is refused by a client that trusts another CA", async () => {
    const otherDir = freshDir();
    await makeCerts({ dir: otherDir });
    const error = await tlsFetch(join(otherDir, "ca.pem"))(`${server.url}/ping`).catch((e: unknown) => e);
    expect(certificateErrorCode(error)).toMatch(CERTIFICATE_ERROR);
  });
});

describe("evnet certs", () => {
  test("writes private keys readable by their owner only", async () => {
    const dir = freshDir();
    const report = await makeCerts({ dir });
    for (const file of report.files)
      expect({ file: file.path, mode: statSync(file.path).mode & 0o777 }).toEqual({ file: file.path, mode: file.private ? 0o600 : 0o644 });
    expect(report.files.filter((f) => f.private).map((f) => f.path)).toEqual(expect.arrayContaining([join(dir, "ca-key.pem"), join(dir, "server-key.pem")]));
  });

  test("makes a server certificate for the local names plus the hosts asked for", async () => {
    const report = await makeCerts({ dir: freshDir(), hosts: ["central.lan", "10.1.2.3", "localhost"] });
    expect(report.hosts).toEqual(["localhost", "127.0.0.1", "::1", "central.lan", "10.1.2.3"]);
  });

  test("keeps an existing CA and issues a new server certificate under it", async () => {
    const dir = freshDir();
    await makeCerts({ dir });
    const ca = readFileSync(join(dir, "ca.pem"), "utf8");
    const serverCert = readFileSync(join(dir, "server.pem"), "utf8");
    const again = await makeCerts({ dir, hosts: ["added.lan"] });
    expect(readFileSync(join(dir, "ca.pem"), "utf8")).toBe(ca);
    expect(readFileSync(join(dir, "server.pem"), "utf8")).not.toBe(serverCert);
    expect(again.files.find((f) => f.path.endsWith("ca.pem"))?.action).toBe("kept");
    expect(again.files.find((f) => f.path.endsWith("server.pem"))?.action).toBe("replaced");

    // The re-issued certificate is still trusted through the kept CA.
    const server = serve(
      new Hono().get("/", (c) => c.text("ok")),
      {
        hostname: "127.0.0.1",
        port: 0,
        tls: { certFile: join(dir, "server.pem"), keyFile: join(dir, "server-key.pem") },
      },
    );
    try {
      expect(await (await tlsFetch(join(dir, "ca.pem"))(server.url)).text()).toBe("ok");
    } finally {
      await server.stop();
    }
  });

  test("replaces the CA only when forced", async () => {
    const dir = freshDir();
    await makeCerts({ dir });
    const ca = readFileSync(join(dir, "ca.pem"), "utf8");
    const forced = await makeCerts({ dir, force: true });
    expect(readFileSync(join(dir, "ca.pem"), "utf8")).not.toBe(ca);
    expect(forced.files.find((f) => f.path.endsWith("ca.pem"))?.action).toBe("replaced");
  });

  test("refuses to go on with half a CA instead of silently replacing it", async () => {
    const dir = freshDir();
    await makeCerts({ dir });
    unlinkSync(join(dir, "ca-key.pem"));
    const error = await makeCerts({ dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toContain("--force");
  });

  test("refuses a host that is neither a name nor an address", async () => {
    const error = await makeCerts({ dir: freshDir(), hosts: ["bad host"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toContain('"bad host"');
  });
});

describe("the TLS client helper", () => {
  test("names the setting when the CA file is missing or is not a certificate", () => {
    expect(() => readCaFile(join(scratch, "missing.pem"), "EVNET_CA_FILE")).toThrow(ConfigError);
    expect(() => readCaFile(join(scratch, "missing.pem"), "EVNET_CA_FILE")).toThrow(/EVNET_CA_FILE: cannot read the CA certificate .*ENOENT/);
    const dir = freshDir();
    return makeCerts({ dir }).then(() => {
      expect(() => readCaFile(join(dir, "server-key.pem"), "API_CA_FILE")).toThrow(/API_CA_FILE: .* is not a PEM certificate/);
    });
  });
});
