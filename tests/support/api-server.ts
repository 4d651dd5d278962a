/**
 * An API role running in this process against a fresh test database, and a Drizzle handle on
 * that database for seeding rows the way Central would write them.
 */
import { loadConfig } from "../../src/config/env.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { start } from "../../src/roles/api/index.ts";
import { controlKeyEnv } from "./control.ts";
import { createTestDatabase, type TestDatabase, testTopicPrefix } from "./services.ts";

export const TEST_OPERATOR_TOKEN = "operator-token-for-api-tests";
export const TEST_SERVICE_TOKEN = "service-token-for-api-tests";

export interface TestApi {
  url: string;
  database: TestDatabase;
  /** A second connection for seeding and inspecting rows. */
  seed: Database;
  stop(): Promise<void>;
}

/** Starts the API on a free port; `env` overrides its configuration (e.g. KAFKA_BROKERS, REGISTRY_URL). */
export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const database = await createTestDatabase();
  const config = loadConfig(
    apiConfigSchema,
    {},
    {
      DATABASE_URL: database.url,
      EVNET_TOPIC_PREFIX: testTopicPrefix(),
      API_PORT: "0",
      EVNET_OPERATOR_TOKEN: TEST_OPERATOR_TOKEN,
      EVNET_SERVICE_TOKEN: TEST_SERVICE_TOKEN,
      EVNET_MASTER_KEY: "a-master-key-passphrase-for-api-tests-only",
      ...controlKeyEnv(),
      ...env,
    },
  );
  const api = await start(config); // applies the migrations
  const seed = await openDatabase({ url: database.url, maxConnections: 2 });
  return {
    url: api.url,
    database,
    seed,
    async stop() {
      await api.stop();
      await seed.close();
      await database.drop();
    },
  };
}

/** GET a path of the API and parse its JSON body. */
export async function getJson(api: Pick<TestApi, "url">, path: string, init: RequestInit = {}) {
  const res = await fetch(`${api.url}${path}`, init);
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, type: res.headers.get("content-type") ?? "", body };
}
