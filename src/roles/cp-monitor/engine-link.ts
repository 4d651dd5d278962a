/**
 * The monitor's side of the engine's local port (../cp-engine/protocol.ts): one connection,
 * opened on demand and again after it breaks; each request waits for the answer with its id,
 * up to a timeout. A refused connection, a closed one or a timeout are all "no answer".
 */
import type { Socket } from "bun";
import type * as v from "valibot";
import type { ChannelKey } from "../../crypto/keys.ts";
import { KnownError } from "../../lib/errors.ts";
import { validate } from "../../lib/parsed.ts";
import { errorAnswerSchema, type HealthAnswer, healthAnswerSchema, keyAnswerSchema } from "../cp-engine/protocol.ts";

export class NoAnswer extends KnownError {
  override name = "NoAnswer";
}

interface Waiting {
  resolve(answer: unknown): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class EngineLink {
  private socket?: Socket<undefined>;
  private connecting?: Promise<Socket<undefined>>;
  private buffer = "";
  private nextId = 1;
  private waiting = new Map<number, Waiting>();
  /** Bumped on every new connection, so the monitor knows to hand the key over again. */
  connection = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    private timeoutMs: number,
  ) {}

  static parse(address: string, timeoutMs: number): EngineLink {
    const i = address.lastIndexOf(":");
    return new EngineLink(address.slice(0, i), Number(address.slice(i + 1)), timeoutMs);
  }

  health(): Promise<HealthAnswer> {
    return this.ask("the health check", { op: "health" }, healthAnswerSchema);
  }

  async handKey(cpId: string, key: ChannelKey): Promise<void> {
    await this.ask("the key", { op: "key", cp_id: cpId, key_id: key.keyId, key: Buffer.from(key.key).toString("base64url") }, keyAnswerSchema);
  }

  /** Sends a request and reads its answer as `shape` declares it; a refusal or another shape is no answer. */
  private async ask<S extends v.GenericSchema>(what: string, body: Record<string, unknown>, shape: S): Promise<v.InferOutput<S>> {
    const answer = await this.request(body);
    const refused = validate(errorAnswerSchema, answer);
    if (refused.ok) throw new NoAnswer(`the engine refused ${what}: ${refused.value.error}`);
    const read = validate(shape, answer);
    if (!read.ok) throw new NoAnswer(`the engine answered ${what} in an unexpected shape (${read.reason})`);
    return read.value;
  }

  close(): void {
    this.socket?.end();
    this.dropConnection(new NoAnswer("closed"));
  }

  private async request(body: Record<string, unknown>): Promise<unknown> {
    const socket = await this.connect();
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new NoAnswer(`no answer within ${this.timeoutMs} ms`));
        // A hung engine: start over with a fresh connection next time.
        this.socket?.end();
        this.dropConnection(new NoAnswer("timed out"));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      socket.write(`${JSON.stringify({ id, ...body })}\n`);
    });
  }

  private connect(): Promise<Socket<undefined>> {
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting ??= Bun.connect({
      hostname: this.host,
      port: this.port,
      socket: {
        data: (_s, chunk) => this.onData(chunk.toString()),
        close: () => this.dropConnection(new NoAnswer("the engine closed the connection")),
        error: (_s, err) => this.dropConnection(new NoAnswer(err.message)),
      },
    })
      .then((s) => {
        this.socket = s;
        this.buffer = "";
        this.connection++;
        return s;
      })
      .catch((err: unknown) => {
        throw new NoAnswer(`cannot connect to the engine at ${this.host}:${this.port}: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let answer: unknown;
      try {
        answer = JSON.parse(line);
      } catch {
        continue;
      }
      const id = (answer as { id?: unknown } | null)?.id;
      const w = typeof id === "number" ? this.waiting.get(id) : undefined;
      if (!w || typeof id !== "number") continue;
      clearTimeout(w.timer);
      this.waiting.delete(id);
      w.resolve(answer);
    }
  }

  private dropConnection(err: Error): void {
    this.socket = undefined;
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(err);
      this.waiting.delete(id);
    }
  }
}
