/** Handles `evnet up` passes to each role so that all of them share one database and one in-process bus. */
import type { Bus } from "../bus/bus.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../lib/log.ts";

export interface Shared {
  database?: Database;
  bus?: Bus;
  log?: Logger;
}
