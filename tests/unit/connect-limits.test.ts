import { describe, expect, test } from "bun:test";
import { hashPassword } from "../../src/crypto/passwords.ts";
import { Batcher } from "../../src/lib/batcher.ts";
import { BoundedQueue, Busy } from "../../src/lib/bounded-queue.ts";
import { PasswordChecks } from "../../src/roles/ocpp/password-checks.ts";

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe("a bounded queue of costly work", () => {
  test("runs at most its concurrency at once and the rest in turn", async () => {
    const q = new BoundedQueue({ concurrency: 2, maxWaitMs: 10_000, initialEstimateMs: 10 });
    let running = 0;
    let most = 0;
    const work = async () => {
      most = Math.max(most, ++running);
      await later(15, null);
      running--;
    };
    await Promise.all(Array.from({ length: 7 }, () => q.run(work)));
    expect(most).toBe(2);
  });

  test("refuses at once work whose turn would come later than allowed, and serves it once the queue is short again", async () => {
    const q = new BoundedQueue({ concurrency: 1, maxWaitMs: 50, initialEstimateMs: 40 });
    const first = q.run(() => later(60, "first"));
    const second = q.run(() => later(1, "second")); // waits about 40 ms: allowed
    const third = q.run(() => later(1, "third")); // would wait about 80 ms
    // Refused at once: before the work ahead of it has finished.
    expect(await Promise.race([third.catch((err) => err), first.then(() => "first finished")])).toBeInstanceOf(Busy);
    expect(await Promise.all([first, second])).toEqual(["first", "second"]);
    expect(await q.run(() => later(1, "fourth"))).toBe("fourth");
  });

  test("a failing piece of work frees its turn", async () => {
    const q = new BoundedQueue({ concurrency: 1, maxWaitMs: 1_000, initialEstimateMs: 1 });
    await expect(q.run(() => Promise.reject(new Error("no")))).rejects.toThrow("no");
    expect(await q.run(() => later(1, "next"))).toBe("next");
  });
});

describe("a batcher", () => {
  test("sends requests that arrive together in one call, at most maxBatch each, and answers each on its own", async () => {
    const calls: number[][] = [];
    const b = new Batcher<number, number>({
      maxBatch: 3,
      lingerMs: 5,
      maxInFlight: 1,
      async call(requests) {
        calls.push(requests);
        await later(5, null);
        return requests.map((r) => (r === 4 ? new Error("four is refused") : r * 10));
      },
    });
    const answers = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => b.ask(n)));
    expect(answers.map((a) => (a.status === "fulfilled" ? a.value : (a.reason as Error).message))).toEqual([10, 20, 30, "four is refused", 50]);
    expect(calls).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  test("a call that fails fails every request in it, and the next batch is sent", async () => {
    let n = 0;
    const b = new Batcher<string, string>({
      maxBatch: 10,
      lingerMs: 1,
      maxInFlight: 2,
      async call(requests) {
        if (n++ === 0) throw new Error("API down");
        return requests;
      },
    });
    const failed = await Promise.allSettled([b.ask("a"), b.ask("b")]);
    expect(failed.map((f) => f.status)).toEqual(["rejected", "rejected"]);
    expect(await b.ask("c")).toBe("c");
  });
});

describe("the gateway's password checks", () => {
  const password = "AbcdefghJKLMNPQRSTUVWXYZ23456789";
  const bytes = (s: string) => new Uint8Array(Buffer.from(s));

  test("verify with the slow hash once, then recognise the same password; a different one is wrong either way", async () => {
    const checks = new PasswordChecks({ concurrency: 1, maxWaitMs: 10_000 });
    const stored = { hash: await hashPassword(password), lastRevokedAt: null };
    expect(await checks.check("CP1", bytes(`${password}x`), stored)).toBe("wrong");
    expect(await checks.check("CP1", bytes(password), stored)).toBe("verified");
    expect(await checks.check("CP1", bytes(password), stored)).toBe("remembered");
    expect(await checks.check("CP1", bytes(`${password}x`), stored)).toBe("wrong");
    // Another charger with the same hash (as in the benchmark) is verified on its own.
    expect(await checks.check("CP2", bytes(password), stored)).toBe("verified");
  });

  test("a new password (new hash) or a revocation since makes the charger prove its password again", async () => {
    const checks = new PasswordChecks({ concurrency: 1, maxWaitMs: 10_000 });
    const stored = { hash: await hashPassword(password), lastRevokedAt: null };
    expect(await checks.check("CP1", bytes(password), stored)).toBe("verified");
    const revoked = { ...stored, lastRevokedAt: "2026-11-30 12:00:00+00" };
    expect(await checks.check("CP1", bytes(password), revoked)).toBe("verified");
    expect(await checks.check("CP1", bytes(password), revoked)).toBe("remembered");
    const renewed = { hash: await hashPassword("Zz23456789ABCDEFGHJKLMNPQRSTUVWX"), lastRevokedAt: revoked.lastRevokedAt };
    expect(await checks.check("CP1", bytes(password), renewed)).toBe("wrong");
    expect(await checks.check("CP1", bytes("Zz23456789ABCDEFGHJKLMNPQRSTUVWX"), renewed)).toBe("verified");
  });
});
