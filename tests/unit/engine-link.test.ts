/**
 * The monitor's side of the engine's local port reads each answer against the shape
 * cp-engine/protocol.ts declares: an answer in another shape, or a refusal, is "no answer" with
 * the reason, never a value the monitor trusts. The engine here is a stand-in answering as told.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newChannelKey } from "../../src/crypto/keys.ts";
import { EngineLink, NoAnswer } from "../../src/roles/cp-monitor/engine-link.ts";

/** What the stand-in engine answers to each operation, given the request's id. */
const answers: Record<string, (id: number) => unknown> = {};
let server: Bun.TCPSocketListener<undefined>;

beforeAll(() => {
  server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, chunk) {
        for (const line of chunk.toString().split("\n").filter(Boolean)) {
          const request = JSON.parse(line) as { id: number; op: string };
          socket.write(`${JSON.stringify(answers[request.op]?.(request.id) ?? { id: request.id, ok: false, error: "unknown op" })}\n`);
        }
      },
    },
  });
});

afterAll(() => server.stop(true));

const link = () => new EngineLink("127.0.0.1", server.port, 2000);
const healthy = (id: number) => ({
  id,
  ok: true,
  cp_id: "CP_1",
  status: "OK",
  supplying: false,
  session_id: null,
  energy_kwh: null,
  has_key: false,
  key_id: null,
});

describe("the monitor's link to its engine", () => {
  test("reads a health answer in the declared shape", async () => {
    answers.health = healthy;
    const l = link();
    expect(await l.health()).toMatchObject({ status: "OK", cp_id: "CP_1", has_key: false });
    l.close();
  });

  test("takes a health answer in another shape for no answer, saying where it differs", async () => {
    answers.health = (id) => ({ ...healthy(id), status: "MAYBE" });
    const l = link();
    const err = await l.health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoAnswer);
    expect((err as Error).message).toStartWith("the engine answered the health check in an unexpected shape (status:");
    l.close();
  });

  test("reports the engine's refusal of a key with its reason", async () => {
    answers.key = (id) => ({ id, ok: false, error: "this engine is CP_2, not CP_1" });
    const l = link();
    await expect(l.handKey("CP_1", newChannelKey())).rejects.toThrow("the engine refused the key: this engine is CP_2, not CP_1");
    l.close();
  });
});
