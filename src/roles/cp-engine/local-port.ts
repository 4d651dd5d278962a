/**
 * The engine's side of its local port (protocol.ts): answers health checks and takes the key.
 */
import type { Socket, TCPSocketListener } from "bun";
import type { Logger } from "../../lib/log.ts";
import { validate } from "../../lib/parsed.ts";
import type { Engine } from "./engine.ts";
import { type EngineAnswer, engineRequestSchema } from "./protocol.ts";

const MAX_LINE = 4096;

interface Conn {
  buffer: string;
}

export function listenForMonitor(engine: Engine, host: string, port: number, log: Logger): TCPSocketListener<Conn> {
  const reply = (socket: Socket<Conn>, answer: EngineAnswer) => socket.write(`${JSON.stringify(answer)}\n`);
  return Bun.listen<Conn>({
    hostname: host,
    port,
    socket: {
      open(socket) {
        socket.data = { buffer: "" };
        log.debug("monitor connected", { from: socket.remoteAddress });
      },
      data(socket, chunk) {
        socket.data.buffer += chunk.toString();
        if (socket.data.buffer.length > MAX_LINE * 4) {
          reply(socket, { id: null, ok: false, error: "line too long" });
          socket.end();
          return;
        }
        let nl: number;
        while ((nl = socket.data.buffer.indexOf("\n")) >= 0) {
          const line = socket.data.buffer.slice(0, nl).trim();
          socket.data.buffer = socket.data.buffer.slice(nl + 1);
          if (line) reply(socket, answer(engine, line, log));
        }
      },
      close() {
        log.debug("monitor disconnected");
      },
      error(_socket, err) {
        log.debug("monitor connection error", { err });
      },
    },
  });
}

function answer(engine: Engine, line: string, log: Logger): EngineAnswer {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { id: null, ok: false, error: "not JSON" };
  }
  const parsed = validate(engineRequestSchema, raw);
  const id = typeof (raw as { id?: unknown })?.id === "number" ? (raw as { id: number }).id : null;
  if (!parsed.ok) return { id, ok: false, error: parsed.reason };
  const request = parsed.value;
  if (request.op === "health")
    return {
      id: request.id,
      ok: true,
      cp_id: engine.cpId,
      status: engine.faulted ? "KO" : "OK",
      supplying: engine.sessionId !== undefined,
      session_id: engine.sessionId ?? null,
      energy_kwh: engine.meterKwh() ?? null,
      has_key: engine.keyId !== undefined,
      key_id: engine.keyId ?? null,
    };
  if (request.cp_id !== engine.cpId) {
    log.warn("refused a key meant for another charging point", { for: request.cp_id });
    return { id: request.id, ok: false, error: `this engine is ${engine.cpId}, not ${request.cp_id}` };
  }
  engine.setKey({ keyId: request.key_id, key: new Uint8Array(Buffer.from(request.key, "base64url")) });
  return { id: request.id, ok: true };
}
