/**
 * The gateway's endpoint, ws(s)://HOST:PORT/ocpp/<charger id>. With a certificate it serves TLS
 * through a `node:tls` server that hands each socket to a plain `node:http` server: under Bun
 * only that way does the handshake see the charger's client certificate (profile 3). Every
 * handshake is decided by `admit`; a refused one gets its HTTP status and is audited. An
 * accepted charger's channel key is in hand before the upgrade completes (the one it held here
 * before, or a fresh one from the API), so a charger that is connected can always be spoken for.
 * When password checks are backed up (a reconnection storm), a handshake that would wait too
 * long is answered 503 at once: the charger comes back later, as chargers do.
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from "node:tls";
import { RPCServer } from "ocpp-rpc";
import type RPCServerClient from "ocpp-rpc/lib/server-client";
import type { CpChannel } from "../../cp/channel.ts";
import { printable } from "../../domain/ids.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { Busy } from "../../lib/bounded-queue.ts";
import { type Admitted, admit, type HandshakeFacts, SUBPROTOCOLS } from "./admission.ts";
import { forgetConnectionsOf } from "./connections.ts";
import type { GatewayContext } from "./context.ts";
import { spellErrorCodesFor } from "./error-codes.ts";
import { ChargerLink } from "./link.ts";
import { speak16 } from "./v16.ts";
import { speak201 } from "./v201.ts";

export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Accepted {
  admission: Admitted;
  channel: CpChannel;
  /** The charger's key was still the one this gateway held: no new key was issued. */
  reused: boolean;
}

function certificateOf(socket: TLSSocket): HandshakeFacts["certificate"] {
  const peer = socket.getPeerCertificate?.();
  if (!peer || Object.keys(peer).length === 0) return undefined;
  const cn = peer.subject?.CN;
  return { trusted: socket.authorized === true, commonName: Array.isArray(cn) ? cn[0] : cn };
}

export async function listen(ctx: GatewayContext): Promise<Listening> {
  const { config, log } = ctx;
  const rpc = new RPCServer({
    protocols: [...SUBPROTOCOLS],
    strictMode: true,
    pingIntervalMs: config.OCPP_PING_INTERVAL * 1000,
    callTimeoutMs: config.OCPP_CALL_TIMEOUT * 1000,
    callConcurrency: 1,
    maxBadMessages: 20,
  });

  rpc.auth(async (accept, reject, hs) => {
    const socket = hs.request.socket as TLSSocket;
    const tls = socket.encrypted === true;
    const facts: HandshakeFacts = {
      cpId: hs.identity,
      offered: hs.protocols,
      password: hs.password,
      tls,
      certificate: tls ? certificateOf(socket) : undefined,
    };
    const refuse = async (status: number, reason: string) => {
      const claimed = printable(hs.identity);
      log.warn("refused a charger's connection", { cp_id: claimed, status, reason, from: hs.remoteAddress });
      await ctx.auditor.record({
        eventType: "authentication",
        actorType: "cp",
        actorId: claimed,
        resource: cpResource(claimed),
        action: "ocpp_connect",
        outcome: "failure",
        reason,
        sourceAddress: hs.remoteAddress,
        details: { gateway: ctx.instance, subprotocols: [...hs.protocols].slice(0, 5), tls },
      });
      reject(status, reason);
    };
    try {
      if (hs.endpoint !== "/ocpp") return await refuse(404, `connect to /ocpp/<charger id>, not ${hs.endpoint.slice(0, 100)}/<id>`);
      const admission = await admit(ctx.db, ctx.passwords, facts);
      if (!admission.ok) return await refuse(admission.status, admission.reason);
      const { channel, reused } = await ctx.keys.channelFor(hs.identity, admission.activeKeyId, admission.proof, hs.remoteAddress);
      if (reused) void auditReuse(ctx, hs.identity, admission, channel.keyId, hs.remoteAddress);
      accept({ admission, channel, reused } satisfies Accepted, admission.subprotocol);
    } catch (err) {
      if (err instanceof Busy) {
        log.warn("too many chargers connecting at once: asked one to come back later", {
          cp_id: printable(hs.identity),
          wait_ms: Math.round(err.expectedWaitMs),
        });
        return reject(503, "too many chargers are connecting at once; try again in a little while");
      }
      log.error("could not admit a charger", { cp_id: printable(hs.identity), err });
      reject(503, "the central system cannot admit chargers right now; try again");
    }
  });

  rpc.on("client", (client: RPCServerClient) => adopt(ctx, client));

  const http = createHttpServer((_req, res) => {
    res.statusCode = 426;
    res.setHeader("content-type", "text/plain");
    res.end("evnet OCPP gateway: open a WebSocket to /ocpp/<charger id> with subprotocol ocpp1.6 or ocpp2.0.1\n");
  });
  http.on("upgrade", rpc.handleUpgrade);
  let server: HttpServer | TlsServer = http;
  if (config.OCPP_TLS_CERT && config.OCPP_TLS_KEY) {
    const clientCa = config.OCPP_CLIENT_CA ?? config.EVNET_CA_FILE;
    server = createTlsServer(
      {
        cert: readFileSync(config.OCPP_TLS_CERT),
        key: readFileSync(config.OCPP_TLS_KEY),
        minVersion: "TLSv1.2",
        // A certificate is asked for, not required: profile 2 chargers have none. `admit` decides.
        ...(clientCa ? { ca: readFileSync(clientCa), requestCert: true, rejectUnauthorized: false } : {}),
      },
      (socket) => http.emit("connection", socket),
    );
  }
  await forgetConnectionsOf(ctx.db, ctx.instance);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.OCPP_PORT, config.OCPP_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.OCPP_HOST.includes(":") ? `[${config.OCPP_HOST}]` : config.OCPP_HOST;
  const url = `${server === http ? "ws" : "wss"}://${host}:${port}/ocpp`;
  return {
    url,
    port,
    async close() {
      await rpc.close({ code: 1001, reason: "gateway stopping", force: true }).catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const link of ctx.links.values()) await ctx.connections.closed(link.cpId, link.connection).catch(() => undefined);
      ctx.links.clear();
    },
  };
}

/**
 * A charger connected again under the key this gateway held for it: the API issued nothing, so
 * the gateway audits the authentication itself.
 */
function auditReuse(ctx: GatewayContext, cpId: string, admission: Admitted, keyId: string, from?: string): Promise<void> {
  return ctx.auditor.record({
    eventType: "authentication",
    actorType: "cp",
    actorId: cpId,
    resource: cpResource(cpId),
    action: "authenticate",
    outcome: "success",
    sourceAddress: from,
    details: { via: "ocpp gateway", gateway: ctx.instance, proof: admission.proof, password: admission.passwordCheck ?? null, key_id: keyId, key: "kept" },
  });
}

/** An admitted charger's socket: it replaces any older one of the same charger here, and speaks its version. */
function adopt(ctx: GatewayContext, client: RPCServerClient): void {
  const { admission, channel, reused } = client.session as Accepted;
  const cpId = client.handshake.identity;
  const previous = ctx.links.get(cpId);
  if (previous) {
    ctx.log.info("a new connection replaces the charger's older one", { cp_id: cpId });
    previous.close(1000, "replaced by a newer connection of this charger");
  }
  // Handlers first, in this turn: the charger's BootNotification may already be on its way.
  spellErrorCodesFor(client, admission.subprotocol);
  const link = new ChargerLink({ ctx, client, cpId, subprotocol: admission.subprotocol, channel, pricePerKwh: admission.price });
  if (admission.subprotocol === "ocpp1.6") speak16(link);
  else speak201(link);
  ctx.links.set(cpId, link);
  const recorded = ctx.connections.opened(cpId, admission.subprotocol, client.handshake.remoteAddress).then(
    (seq) => (link.connection = seq),
    (err) => {
      ctx.log.warn("could not record a charger's connection", { cp_id: cpId, err });
      return link.connection;
    },
  );
  client.on("close", ({ code, reason }: { code: number; reason: string | Buffer }) => {
    link.closedByPeer();
    if (ctx.links.get(cpId) === link) ctx.links.delete(cpId);
    void ctx.connections.closed(cpId, recorded).catch(() => undefined);
    ctx.log.info("charger disconnected", { cp_id: cpId, code, reason: String(reason).slice(0, 100) });
  });
  client.on("badMessage", ({ error }: { error: Error }) => ctx.log.warn("a malformed message from a charger", { cp_id: cpId, error: error.message }));
  client.on("strictValidationFailure", ({ method, outbound, error }: { method: string; outbound: boolean; error: Error }) =>
    ctx.log.warn("a message failed the OCPP schema", { cp_id: cpId, method, outbound, error: error.message }),
  );
  link.start();
  ctx.log.info("charger connected", {
    cp_id: cpId,
    subprotocol: admission.subprotocol,
    proof: admission.proof,
    password: admission.passwordCheck,
    key_id: channel.keyId,
    key: reused ? "kept" : "new",
  });
}
