/**
 * `npx evnet` links package.json's bin and makes its target executable. The target is committed
 * executable (with its interpreter line), so running it leaves a clean checkout clean.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import pkg from "../../package.json";

const root = new URL("../..", import.meta.url).pathname;
const bin = pkg.bin.evnet;
const git = (...args: string[]) => Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
const inGit = git("rev-parse", "--is-inside-work-tree").stdout.toString().trim() === "true";

describe("the evnet executable in a checkout", () => {
  test("starts with its interpreter line and is executable on disk", () => {
    expect(readFileSync(`${root}/${bin}`, "utf8")).toStartWith("#!/usr/bin/env bun\n");
    expect(statSync(`${root}/${bin}`).mode & 0o111).toBe(0o111);
  });

  test.if(inGit)("is committed executable, so npx's chmod changes nothing", () => {
    expect(git("ls-files", "--stage", bin).stdout.toString()).toStartWith("100755 ");
  });

  test.if(inGit)(
    "npx evnet --version runs it and leaves it unchanged",
    () => {
      const before = git("status", "--porcelain", "--", bin).stdout.toString();
      const run = Bun.spawnSync(["npx", "--no-install", "evnet", "--version"], { cwd: root, stdout: "pipe", stderr: "pipe", env: { ...process.env } });
      expect(run.stdout.toString()).toStartWith(`evnet/${pkg.version} `);
      expect(git("status", "--porcelain", "--", bin).stdout.toString()).toBe(before);
    },
    60_000,
  );
});
