/**
 * One simulated supply: a constant power from the moment it starts, metered like a real meter
 * (energy accumulates with the time that actually passed, so a late tick does not lose energy).
 * Pure apart from the clock it is given.
 */
import { costOf, type EndReason, energyOver, meterKwh } from "../../domain/billing.ts";

export interface Reading {
  sessionId: string;
  powerKw: number;
  energyKwh: number;
  costEur: number;
  elapsedS: number;
}

export class Supply {
  private energy = 0;
  private lastAt: number;

  constructor(
    readonly sessionId: string,
    readonly driverId: string,
    readonly pricePerKwh: number,
    readonly powerKw: number,
    readonly startedAt: number,
    /** The session's stop token (from Central's start command): the driver's stop proofs are made with it. */
    readonly stopToken?: string,
  ) {
    this.lastAt = startedAt;
  }

  /** Accumulates the energy delivered up to `now` and returns the totals so far. */
  read(now: number): Reading {
    if (now > this.lastAt) {
      this.energy += energyOver(this.powerKw, now - this.lastAt);
      this.lastAt = now;
    }
    const energyKwh = meterKwh(this.energy);
    return {
      sessionId: this.sessionId,
      powerKw: this.powerKw,
      energyKwh,
      costEur: costOf(energyKwh, this.pricePerKwh),
      elapsedS: Math.round((now - this.startedAt) / 100) / 10,
    };
  }

  /** Whether the maximum duration is reached at `now`. */
  overtime(now: number, maxDurationS: number): boolean {
    return now - this.startedAt >= maxDurationS * 1000;
  }
}

export interface FinishedSupply extends Reading {
  reason: EndReason;
  startedAt: number;
  endedAt: number;
}
