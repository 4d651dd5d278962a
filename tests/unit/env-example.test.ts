/**
 * `.env.example` is made from the settings tables, the same ones the commands' options and help
 * come from: it must be current, and it must document every variable any command reads.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { cac } from "cac";
import { commandSpec } from "../../src/cli/command.ts";
import { commands } from "../../src/cli/commands.ts";
import { renderEnvExample } from "../../src/cli/env-example.ts";

const file = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
const documented = new Set(file.split("\n").flatMap((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] ?? []));

const cli = cac("evnet");
for (const register of commands) register(cli);

describe(".env.example", () => {
  test("is what the settings tables make (after changing a setting: bun scripts/env-example.ts)", () => {
    expect(file).toBe(renderEnvExample());
  });

  for (const command of cli.commands)
    test(`documents every variable evnet ${command.name} reads`, () => {
      const settings = commandSpec(command)?.settings ?? {};
      expect(Object.keys(settings).filter((name) => !documented.has(name))).toEqual([]);
    });

  test("names no variable that no command reads (a renamed one is gone from it)", () => {
    const read = new Set(cli.commands.flatMap((c) => Object.keys(commandSpec(c)?.settings ?? {})));
    expect([...documented].filter((name) => !read.has(name))).toEqual([]);
  });
});
