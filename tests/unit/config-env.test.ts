import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import {
  bool,
  brokerList,
  ConfigError,
  environment,
  integer,
  loadConfig,
  parseDotenv,
  port,
  postgresUrl,
  resetEnvironmentCache,
  secretToken,
} from "../../src/config/env.ts";

describe("parseDotenv", () => {
  test("reads KEY=value lines and skips blank lines and comments", () => {
    expect(parseDotenv("# a comment\n\nA=1\n  B = two  \n")).toEqual({ A: "1", B: "two" });
  });

  test("strips matching quotes and keeps what is inside them verbatim", () => {
    expect(parseDotenv(`A="hello # not a comment"\nB='x y'\nC="mismatched'`)).toEqual({
      A: "hello # not a comment",
      B: "x y",
      C: `"mismatched'`,
    });
  });

  test("drops a trailing comment after an unquoted value, and keeps = signs inside values", () => {
    expect(parseDotenv("A=value # explained\nURL=postgres://u:p@h/db?x=1")).toEqual({ A: "value", URL: "postgres://u:p@h/db?x=1" });
  });

  test("accepts `export` prefixes and Windows line endings, and ignores lines that are not assignments", () => {
    expect(parseDotenv("export A=1\r\nnot an assignment\r\n1BAD=2\r\nB=\r\n")).toEqual({ A: "1", B: "" });
  });
});

describe("loadConfig", () => {
  const schema = v.object({ EVNET_TEST_PORT: port(8000), EVNET_TEST_FLAG: bool(false), EVNET_TEST_NAME: v.optional(v.string(), "default") });

  test("takes a flag over the environment, and the environment over the .env file", () => {
    const dir = mkdtempSync(join(tmpdir(), "evnet-env-"));
    const saved = { file: process.env.EVNET_ENV_FILE, port: process.env.EVNET_TEST_PORT, name: process.env.EVNET_TEST_NAME };
    try {
      writeFileSync(join(dir, ".env"), "EVNET_TEST_PORT=1111\nEVNET_TEST_NAME=from-file\nEVNET_TEST_FLAG=yes\n");
      process.env.EVNET_ENV_FILE = join(dir, ".env");
      process.env.EVNET_TEST_PORT = "2222";
      process.env.EVNET_TEST_NAME = "from-env";
      resetEnvironmentCache();
      expect(loadConfig(schema, { EVNET_TEST_PORT: 3333 })).toEqual({ EVNET_TEST_PORT: 3333, EVNET_TEST_FLAG: true, EVNET_TEST_NAME: "from-env" });
      expect(loadConfig(schema)).toEqual({ EVNET_TEST_PORT: 2222, EVNET_TEST_FLAG: true, EVNET_TEST_NAME: "from-env" });
      delete process.env.EVNET_TEST_PORT;
      resetEnvironmentCache();
      expect(loadConfig(schema).EVNET_TEST_PORT).toBe(1111);
    } finally {
      for (const [name, value] of [
        ["EVNET_ENV_FILE", saved.file],
        ["EVNET_TEST_PORT", saved.port],
        ["EVNET_TEST_NAME", saved.name],
      ] as const)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      resetEnvironmentCache();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("treats an empty value (flag or variable) as unset, so the default applies", () => {
    expect(loadConfig(schema, { EVNET_TEST_NAME: "" }, { EVNET_TEST_PORT: undefined })).toEqual({
      EVNET_TEST_PORT: 8000,
      EVNET_TEST_FLAG: false,
      EVNET_TEST_NAME: "default",
    });
  });

  test("names every bad variable, says what was expected and what it got", () => {
    let error: unknown;
    try {
      loadConfig(schema, {}, { EVNET_TEST_PORT: "eighty", EVNET_TEST_FLAG: "maybe" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('EVNET_TEST_PORT: expected a TCP port number (0-65535) (got "eighty")');
    expect(message).toContain('EVNET_TEST_FLAG: expected true or false (got "maybe")');
  });

  test("shows a URL it refuses without its password", () => {
    const url = "postgres://evnet:hunter2-secret@localhost:5432/evnet?host=db.example.org";
    let error: unknown;
    try {
      loadConfig(v.object({ EVNET_TEST_URL: postgresUrl() }), {}, { EVNET_TEST_URL: url });
    } catch (e) {
      error = e;
    }
    const message = (error as ConfigError).message;
    expect(message).toContain('(got "postgres://evnet:***@localhost:5432/evnet?host=db.example.org")');
    expect(message).not.toContain("hunter2");
  });

  test("says a required secret is missing and where to set it", () => {
    expect(() => loadConfig(v.object({ EVNET_TEST_TOKEN: secretToken() }), {}, {})).toThrow(
      /EVNET_TEST_TOKEN: is required \(set it in the environment or \.env\) \(got nothing\)/,
    );
  });

  test("an empty variable in the environment unsets what .env says", () => {
    const dir = mkdtempSync(join(tmpdir(), "evnet-env-"));
    const saved = process.env.EVNET_ENV_FILE;
    try {
      writeFileSync(join(dir, ".env"), "EVNET_TEST_NAME=from-file\n");
      process.env.EVNET_ENV_FILE = join(dir, ".env");
      process.env.EVNET_TEST_NAME = "";
      resetEnvironmentCache();
      expect(environment().EVNET_TEST_NAME).toBeUndefined();
      expect(loadConfig(schema).EVNET_TEST_NAME).toBe("default");
    } finally {
      process.env.EVNET_ENV_FILE = saved;
      delete process.env.EVNET_TEST_NAME;
      resetEnvironmentCache();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("field schemas", () => {
  const parse = <S extends v.GenericSchema>(schema: S, input: string | undefined) => v.safeParse(schema, input);

  test("port takes 0-65535 only", () => {
    expect(parse(port(1), "65535").output).toBe(65535);
    expect(parse(port(1), "65536").success).toBe(false);
    expect(parse(port(1), "-1").success).toBe(false);
    expect(parse(port(1), undefined).output).toBe(1);
  });

  test("integer enforces its minimum", () => {
    expect(parse(integer(10, 1), "3").output).toBe(3);
    expect(parse(integer(10, 1), "0").success).toBe(false);
    expect(parse(integer(10, 1), "2.5").success).toBe(false);
  });

  test("bool reads true/false, 1/0 and yes/no", () => {
    expect(["true", "1", "yes"].map((s) => parse(bool(false), s).output)).toEqual([true, true, true]);
    expect(["false", "0", "no"].map((s) => parse(bool(true), s).output)).toEqual([false, false, false]);
  });

  test("brokerList splits host:port lists and refuses anything else", () => {
    expect(parse(brokerList(), " a:9092, 10.0.0.2:9093 ").output).toEqual(["a:9092", "10.0.0.2:9093"]);
    expect(parse(brokerList(), "a").success).toBe(false);
    expect(parse(brokerList(), "a:9092,b").success).toBe(false);
  });

  test("postgresUrl takes postgres:// and postgresql:// URLs only", () => {
    expect(parse(postgresUrl(), "postgresql://u@h/db").success).toBe(true);
    expect(parse(postgresUrl(), "mysql://u@h/db").success).toBe(false);
  });

  test("postgresUrl takes a host parameter only as a socket's folder (libpq's form)", () => {
    expect(parse(postgresUrl(), "postgres://u:p@localhost:5432/db?host=/var/run/postgresql").success).toBe(true);
    expect(parse(postgresUrl(), "postgres://u:p@localhost:5432/db?host=%2Fvar%2Frun%2Fpostgresql").success).toBe(true);
    const named = parse(postgresUrl(), "postgres://u:p@localhost:5432/db?host=db.example.org");
    expect(named.success).toBe(false);
    expect(named.issues?.[0]?.message).toContain("folder of PostgreSQL's socket");
    expect(parse(postgresUrl(), "postgres://u:p@localhost:5432/db?host=").success).toBe(false);
    expect(parse(postgresUrl(), "postgres://u:p@localhost:5432/db?random_page_cost=4").success).toBe(true);
  });
});
