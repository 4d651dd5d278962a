/**
 * The settings table's rules: how a flag maps to its value and variable, what counts as a
 * default or a required setting, secrets that can never be flags, and renamed variables.
 */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { rawValue } from "../../src/cli/command.ts";
import { ConfigError, optionalString, port, secretToken } from "../../src/config/env.ts";
import { defaultOf, defineSettings, isRequired, loadSettings, optionKey, withRenamedVariables } from "../../src/config/settings.ts";

describe("a flag", () => {
  test("maps to the key cac gives its value", () => {
    expect(optionKey("--data-dir <dir>")).toBe("dataDir");
    expect(optionKey("--no-menu")).toBe("menu");
    expect(optionKey("--json")).toBe("json");
  });

  test("gives its value as typed, the last one when repeated, nothing after --", () => {
    expect(rawValue(["--id", "007"], "--id <cp>")).toBe("007");
    expect(rawValue(["--price=0.30"], "--price <eur>")).toBe("0.30");
    expect(rawValue(["--id", "A", "--id", "B"], "--id <cp>")).toBe("B");
    expect(rawValue(["--critical=-2.5"], "--critical <celsius>")).toBe("-2.5");
    expect(rawValue(["--", "--id", "X"], "--id <cp>")).toBeUndefined();
  });
});

describe("a setting", () => {
  const table = defineSettings({
    EVNET_SETTINGS_PORT: { flag: "--settings-port <port>", help: "a port", schema: port(8000) },
    EVNET_SETTINGS_NAME: { help: "a name", schema: optionalString(), defaultText: "the host's name" },
    EVNET_SETTINGS_TOKEN: { help: "a token", schema: secretToken(), secret: "value" },
    EVNET_SETTINGS_CA: {
      flag: "--settings-ca <file>",
      help: "a CA",
      schema: optionalString(),
      renamedFrom: { variable: "OLD_TEST_CA", flag: "--old-ca <file>" },
    },
  });

  test("has its schema's default, or the text saying how it is computed", () => {
    expect(defaultOf(table.EVNET_SETTINGS_PORT)).toBe("8000");
    expect(defaultOf(table.EVNET_SETTINGS_NAME)).toBe("the host's name");
    expect(defaultOf(table.EVNET_SETTINGS_CA)).toBeUndefined();
  });

  test("is required when nothing given does not parse", () => {
    expect(isRequired(table.EVNET_SETTINGS_TOKEN)).toBe(true);
    expect(isRequired(table.EVNET_SETTINGS_PORT)).toBe(false);
    expect(isRequired(table.EVNET_SETTINGS_CA)).toBe(false);
  });

  test("read under its old name warns once and takes the value; the new name wins over the old", () => {
    const warnings: string[] = [];
    const warn = (text: string) => warnings.push(text);
    expect(withRenamedVariables(table, { OLD_TEST_CA: "/old.pem" }, warn).EVNET_SETTINGS_CA).toBe("/old.pem");
    expect(withRenamedVariables(table, { OLD_TEST_CA: "/old.pem", EVNET_SETTINGS_CA: "/new.pem" }, warn).EVNET_SETTINGS_CA).toBe("/new.pem");
    expect(warnings[0]).toBe("OLD_TEST_CA is now called EVNET_SETTINGS_CA; the old name still works in this version but will go");
  });

  test("that is wrong is named with its flag; a secret's value is not shown", () => {
    let error: unknown;
    try {
      loadSettings(table, { EVNET_SETTINGS_PORT: "eighty" }, { EVNET_SETTINGS_TOKEN: "short-secret" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('EVNET_SETTINGS_PORT (--settings-port): expected a TCP port number (0-65535) (got "eighty")');
    expect(message).toContain("EVNET_SETTINGS_TOKEN: expected at least 16 characters (got a value, not shown)");
    expect(message).not.toContain("short-secret");
  });

  test("parses from the flags, then the environment", () => {
    const config = loadSettings(
      table,
      { EVNET_SETTINGS_PORT: "9000" },
      { EVNET_SETTINGS_PORT: "1", EVNET_SETTINGS_TOKEN: "0123456789abcdef", EVNET_SETTINGS_NAME: "n" },
    );
    expect(config).toEqual({ EVNET_SETTINGS_PORT: 9000, EVNET_SETTINGS_NAME: "n", EVNET_SETTINGS_TOKEN: "0123456789abcdef", EVNET_SETTINGS_CA: undefined });
    expect(v.is(v.number(), config.EVNET_SETTINGS_PORT)).toBe(true);
  });
});

describe("the roles' defaults", () => {
  test("every client looks for the API where evnet api and evnet up listen by default (plain HTTP on loopback)", async () => {
    const { apiSettings } = await import("../../src/roles/api/config.ts");
    const { driverSettings } = await import("../../src/roles/driver/config.ts");
    const { monitorSettings } = await import("../../src/roles/cp-monitor/config.ts");
    const { weatherSettings } = await import("../../src/roles/weather/config.ts");
    const served = `http://${defaultOf(apiSettings.API_HOST)}:${defaultOf(apiSettings.API_PORT)}`;
    expect(served).toBe("http://127.0.0.1:8000");
    for (const settings of [driverSettings, monitorSettings, weatherSettings]) expect(defaultOf(settings.API_URL)).toBe(served);
  });
});
