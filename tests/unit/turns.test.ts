/** TurnTaker: a turn of the event loop once the time is up, the clock read every so many steps. */
import { describe, expect, test } from "bun:test";
import { TurnTaker } from "../../src/lib/turns.ts";

/** A clock the test moves by hand, counting its reads. */
function handClock() {
  const clock = {
    t: 0,
    reads: 0,
    now: () => {
      clock.reads++;
      return clock.t;
    },
  };
  return clock;
}

/** Steps `n` times; the steps (1-based) at which a turn was due. */
function stepsDue(turns: TurnTaker, n: number): { due: number[]; turns: Promise<void>[] } {
  const due: number[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 1; i <= n; i++) {
    const turn = turns.step();
    if (turn) {
      due.push(i);
      pending.push(turn);
    }
  }
  return { due, turns: pending };
}

describe("TurnTaker", () => {
  test("no turn while the time is not up, and the clock read only every checkEvery steps", () => {
    const clock = handClock();
    const turns = new TurnTaker(4, 128, clock.now);
    clock.t = 3.9;
    expect(stepsDue(turns, 1000).due).toEqual([]);
    expect(clock.reads).toBe(1 + Math.floor(1000 / 128)); // the start, then one read every 128 steps
  });

  test("once the time is up, a turn at the next check, and the time counted again from that turn", async () => {
    const clock = handClock();
    const turns = new TurnTaker(4, 128, clock.now);
    expect(stepsDue(turns, 127).due).toEqual([]);
    clock.t = 4;
    const first = stepsDue(turns, 1);
    expect(first.due).toEqual([1]); // step 128 overall
    await first.turns[0];
    // The turn was taken at t = 4: no other is due before t = 8, however many steps.
    clock.t = 7.5;
    expect(stepsDue(turns, 1024).due).toEqual([]); // steps 129–1152
    clock.t = 8;
    expect(stepsDue(turns, 128).due).toEqual([128]); // step 1280, the next read of the clock
  });

  test("awaiting a turn lets in what was waiting on the event loop before the work goes on", async () => {
    const clock = handClock();
    const turns = new TurnTaker(0, 2, clock.now);
    const order: string[] = [];
    setImmediate(() => order.push("other work"));
    let turn = turns.step();
    expect(turn).toBeUndefined(); // step 1: not a step at which the clock is read
    turn = turns.step();
    expect(turn).toBeDefined();
    order.push("before the turn");
    await turn;
    order.push("after the turn");
    expect(order).toEqual(["before the turn", "other work", "after the turn"]);
  });
});
