/**
 * A charger written from the OCPP-J specification alone, for testing the gateway without its
 * code or library: Bun's own WebSocket client, frames built by hand ([2, id, action, payload]
 * out, [3, id, payload] / [4, id, code, description, details] back), one call of ours at a
 * time, and answers to the gateway's calls from a table of handlers. Handshakes that must fail
 * are made on a raw socket, so the test sees the HTTP status the gateway answered.
 */
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";

export type Frame = [2, string, string, Record<string, unknown>] | [3, string, Record<string, any>] | [4, string, string, string, Record<string, unknown>];

export interface RawOptions {
  protocols: string[];
  /** Basic auth: user = the charger id. */
  password?: string;
  tls?: { ca: string; cert?: string; key?: string };
}

export type Answerer = (payload: Record<string, any>) => Record<string, unknown>;

export class RawCharger {
  readonly frames: Frame[] = [];
  readonly callsFromGateway: { action: string; payload: Record<string, any> }[] = [];
  readonly answers = new Map<string, Answerer>();
  private waiting = new Map<string, (frame: Frame) => void>();
  private nextId = 1;
  closedWith?: { code: number; reason: string };

  private constructor(
    readonly ws: WebSocket,
    readonly id: string,
  ) {
    ws.onmessage = (m) => this.receive(String(m.data));
    ws.onclose = (e) => (this.closedWith = { code: e.code, reason: e.reason });
  }

  static connect(url: string, id: string, o: RawOptions): Promise<RawCharger> {
    const headers: Record<string, string> = {};
    if (o.password !== undefined) headers.authorization = `Basic ${Buffer.from(`${id}:${o.password}`).toString("base64")}`;
    const ws = new WebSocket(`${url}/${encodeURIComponent(id)}`, { protocols: o.protocols, headers, tls: o.tls } as unknown as string[]);
    const charger = new RawCharger(ws, id);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(charger);
      ws.onerror = () => reject(new Error(`${id}: the WebSocket handshake failed`));
    });
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  private receive(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      return;
    }
    this.frames.push(frame);
    if (frame[0] === 2) {
      const [, msgId, action, payload] = frame;
      this.callsFromGateway.push({ action, payload });
      const answer = this.answers.get(action);
      this.sendRaw(JSON.stringify(answer ? [3, msgId, answer(payload)] : [4, msgId, "NotImplemented", `no ${action} here`, {}]));
      return;
    }
    this.waiting.get(frame[1])?.(frame);
    this.waiting.delete(frame[1]);
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** Sends a CALL and waits for its CALLRESULT or CALLERROR frame. */
  callFrame(action: string, payload: unknown, msgId = `m${this.nextId++}`, timeoutMs = 15_000): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.id}: no answer to ${action} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(msgId, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.sendRaw(JSON.stringify([2, msgId, action, payload]));
    });
  }

  /** Sends a CALL and returns the result payload; fails on a CALLERROR. */
  async call(action: string, payload: unknown): Promise<Record<string, any>> {
    const f = await this.callFrame(action, payload);
    if (f[0] !== 3) throw new Error(`${this.id}: ${action} answered ${JSON.stringify(f)}`);
    return f[2];
  }

  /** Waits for the gateway to call `action` (answered by `answers`), counting from `after`; `matches` picks among such calls. */
  async waitForCall(
    action: string,
    after = 0,
    matches: (payload: Record<string, any>) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.callsFromGateway.slice(after).find((c) => c.action === action && matches(c.payload));
      if (found) return found.payload;
      if (Date.now() > deadline) throw new Error(`${this.id}: the gateway did not call ${action} within ${timeoutMs} ms`);
      await Bun.sleep(50);
    }
  }

  close(): void {
    this.ws.close(1000, "bye");
  }
}

/**
 * Opens a WebSocket handshake by hand and returns the HTTP status the server answered (101
 * when it accepted), with the subprotocol it picked.
 */
export function handshakeStatus(
  url: string,
  id: string,
  o: Partial<RawOptions> & { path?: string; keepOpen?: boolean },
): Promise<{ status: number; protocol?: string; socket?: { destroy(): void } }> {
  const u = new URL(url);
  const secure = u.protocol === "wss:";
  const lines = [
    `GET ${o.path ?? `${u.pathname}/${encodeURIComponent(id)}`} HTTP/1.1`,
    `Host: ${u.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64")}`,
    "Sec-WebSocket-Version: 13",
  ];
  if (o.protocols?.length) lines.push(`Sec-WebSocket-Protocol: ${o.protocols.join(", ")}`);
  if (o.password !== undefined) lines.push(`Authorization: Basic ${Buffer.from(`${id}:${o.password}`).toString("base64")}`);
  const request = `${lines.join("\r\n")}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const port = Number(u.port);
    const socket = secure
      ? tlsConnect({
          host: u.hostname,
          port,
          ca: o.tls?.ca,
          cert: o.tls?.cert,
          key: o.tls?.key,
          servername: u.hostname === "127.0.0.1" ? undefined : u.hostname,
        })
      : netConnect({ host: u.hostname, port });
    let text = "";
    let settled = false;
    socket.once(secure ? "secureConnect" : "connect", () => socket.write(request));
    socket.on("data", (d) => {
      text += d.toString();
      if (!text.includes("\r\n\r\n") || settled) return;
      settled = true;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const protocol = /sec-websocket-protocol: *(\S+)/i.exec(text)?.[1];
      if (o.keepOpen) return resolve({ status, protocol, socket }); // a charger gone silent: it never answers a ping
      socket.destroy();
      resolve({ status, protocol });
    });
    socket.on("error", reject);
    setTimeout(() => reject(new Error("no handshake answer within 10 s")), 10_000).unref();
  });
}
