import type { CAC } from "cac";
import { register as api } from "./cmd/api.ts";
import { register as busCheck } from "./cmd/bus-check.ts";
import { register as central } from "./cmd/central.ts";
import { register as certs } from "./cmd/certs.ts";
import { register as cpEngine } from "./cmd/cp-engine.ts";
import { register as cpMonitor } from "./cmd/cp-monitor.ts";
import { register as driver } from "./cmd/driver.ts";
import { register as kafkaAcls } from "./cmd/kafka-acls.ts";
import { register as migrate } from "./cmd/migrate.ts";
import { register as ocpp } from "./cmd/ocpp.ts";
import { register as ocppCharger } from "./cmd/ocpp-charger.ts";
import { register as registry } from "./cmd/registry.ts";
import { register as up } from "./cmd/up.ts";
import { register as weather } from "./cmd/weather.ts";

/** Every subcommand, in the order `evnet --help` lists them. */
export const commands: ((cli: CAC) => void)[] = [
  up,
  central,
  registry,
  api,
  weather,
  cpEngine,
  cpMonitor,
  ocpp,
  ocppCharger,
  driver,
  migrate,
  certs,
  busCheck,
  kafkaAcls,
];
