/** Records split into produce requests a broker takes (src/bus/kafka.ts `requestsOf`). */
import { describe, expect, test } from "bun:test";
import { requestsOf } from "../../src/bus/kafka.ts";

type KafkaRecord = Parameters<typeof requestsOf>[0][number];

const record = (i: number, valueBytes: number, headers?: KafkaRecord["headers"]): KafkaRecord => ({
  topic: "t",
  key: Buffer.from(`k${i}`),
  value: Buffer.alloc(valueBytes, i % 256),
  headers,
});

describe("requestsOf", () => {
  test("keeps a batch that fits in one request as it is", () => {
    const records = Array.from({ length: 100 }, (_, i) => record(i, 200));
    expect(requestsOf(records)).toEqual([records]);
  });

  test("splits a large batch into requests under the budget, every record once and in order", () => {
    const records = Array.from({ length: 6000 }, (_, i) => record(i, 300));
    const parts = requestsOf(records);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.flat()).toEqual(records);
    for (const part of parts) {
      const bytes = part.reduce((sum, r) => sum + 32 + r.key.length + r.value.length, 0);
      expect(bytes).toBeLessThanOrEqual(512 * 1024);
    }
  });

  test("counts headers, and sends a record larger than the budget alone", () => {
    const headers = new Map([[Buffer.from("h"), Buffer.alloc(400)]]);
    const parts = requestsOf([record(0, 500, headers), record(1, 500, headers), record(2, 5000), record(3, 10)], 1200);
    expect(parts.map((p) => p.map((r) => r.key.toString()))).toEqual([["k0"], ["k1"], ["k2"], ["k3"]]);
  });
});
