/**
 * Writes `.env.example` from the settings tables (src/cli/env-example.ts). Run it after adding
 * or changing a setting: `bun scripts/env-example.ts`; tests/unit/env-example.test.ts fails until then.
 */
import { writeFileSync } from "node:fs";
import { renderEnvExample } from "../src/cli/env-example.ts";

const file = new URL("../.env.example", import.meta.url).pathname;
writeFileSync(file, renderEnvExample());
console.log(`wrote ${file}`);
