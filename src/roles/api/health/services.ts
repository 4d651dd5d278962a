/**
 * The health of each service of the network, as the dashboard shows it. Checks run at most once
 * per `maxAgeMs` however many clients ask (the live stream asks every tick), and a check in
 * progress is shared.
 */
import type { Bus } from "../../../bus/bus.ts";
import type { Db } from "../../../db/client.ts";
import type { ServicesHealth } from "../shapes.ts";
import { apiHealth, databaseHealth, heartbeatHealth, kafkaHealth, type RegistryTarget, registryHealth } from "./probes.ts";

export interface ServicesHealthDeps {
  db: Db;
  bus: Bus;
  probeTopic: string;
  registry: RegistryTarget;
  startedAt: Date;
}

/** Services that report by heartbeat; others that beat (drivers, monitors) are listed after them. */
const HEARTBEAT_SERVICES = ["central", "weather"];

export async function checkServices(d: ServicesHealthDeps): Promise<ServicesHealth> {
  const [database, kafka, registry, beating] = await Promise.all([
    databaseHealth(d.db),
    kafkaHealth(d.bus, d.probeTopic),
    registryHealth(d.registry),
    heartbeatHealth(d.db, HEARTBEAT_SERVICES),
  ]);
  const services = [apiHealth(d.startedAt), database, kafka, registry, ...beating];
  return {
    status: services.every((s) => s.status === "up") ? "ok" : "degraded",
    checked_at: new Date().toISOString(),
    services,
  };
}

export interface ServicesHealthCache {
  /** A report at most `maxAgeMs` old, waiting for the checks when there is none. */
  get(): Promise<ServicesHealth>;
  /**
   * The newest report without waiting (a stale one starts a check in the background), so a slow
   * probe — a Registry that times out — never holds up the live stream.
   */
  latest(): Promise<ServicesHealth>;
}

export function cachedServicesHealth(d: ServicesHealthDeps, maxAgeMs = 2000): ServicesHealthCache {
  let last: { at: number; value: ServicesHealth } | undefined;
  let pending: Promise<ServicesHealth> | undefined;
  const refresh = () =>
    (pending ??= checkServices(d)
      .then((value) => {
        last = { at: Date.now(), value };
        return value;
      })
      .finally(() => {
        pending = undefined;
      }));
  return {
    get() {
      if (last && Date.now() - last.at < maxAgeMs) return Promise.resolve(last.value);
      return refresh();
    },
    latest() {
      if (!last) return refresh();
      if (Date.now() - last.at >= maxAgeMs) void refresh();
      return Promise.resolve(last.value);
    },
  };
}
