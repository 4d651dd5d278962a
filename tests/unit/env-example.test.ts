/**
 * `.env.example` documents every variable a role reads: a variable added to a role's config
 * schema without a line there fails this test.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { centralConfigSchema } from "../../src/roles/central/config.ts";
import { engineConfigSchema } from "../../src/roles/cp-engine/config.ts";
import { monitorConfigSchema } from "../../src/roles/cp-monitor/config.ts";
import { driverConfigSchema } from "../../src/roles/driver/config.ts";
import { gatewayConfigSchema } from "../../src/roles/ocpp/config.ts";
import { chargerConfigSchema } from "../../src/roles/ocpp-charger/config.ts";
import { registryConfigSchema } from "../../src/roles/registry/config.ts";
import { upConfigSchema } from "../../src/roles/up/config.ts";
import { weatherConfigSchema } from "../../src/roles/weather/config.ts";

const schemas = {
  api: apiConfigSchema,
  central: centralConfigSchema,
  "cp-engine": engineConfigSchema,
  "cp-monitor": monitorConfigSchema,
  driver: driverConfigSchema,
  ocpp: gatewayConfigSchema,
  "ocpp-charger": chargerConfigSchema,
  registry: registryConfigSchema,
  up: upConfigSchema,
  weather: weatherConfigSchema,
};

const documented = new Set(
  readFileSync(new URL("../../.env.example", import.meta.url), "utf8")
    .split("\n")
    .map((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => Boolean(name)),
);

describe(".env.example", () => {
  for (const [role, schema] of Object.entries(schemas))
    test(`documents every variable evnet ${role} reads`, () => {
      const missing = Object.keys(schema.entries).filter((name) => !documented.has(name));
      expect(missing).toEqual([]);
    });
});
