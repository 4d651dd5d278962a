/**
 * The one error boundary: every error kind evnet knows shares one base, so the CLI prints any
 * of them as one line with its hint and exits with its code; only a bug gets "unexpected error".
 */
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { BusError } from "../../src/bus/bus.ts";
import { reportError, UsageError } from "../../src/cli/errors.ts";
import { ConfigError } from "../../src/config/env.ts";
import { CredentialError, SigningKeyError } from "../../src/crypto/credentials.ts";
import { EnvelopeError } from "../../src/crypto/envelope.ts";
import { KeyError } from "../../src/crypto/keys.ts";
import { DatabaseUnavailable, NoDatabaseHere } from "../../src/db/client.ts";
import { DataFolderInUse } from "../../src/db/data-folder.ts";
import { PortInUse } from "../../src/http/serve.ts";
import { AppError, KnownError } from "../../src/lib/errors.ts";
import { NoActiveKeyError } from "../../src/roles/central/channel.ts";
import { NoAnswer } from "../../src/roles/cp-monitor/engine-link.ts";
import { IdentityError, RefusedError } from "../../src/roles/cp-monitor/enrollment.ts";
import { ApiUnavailable } from "../../src/roles/driver/api.ts";
import { NoAnswerError } from "../../src/roles/driver/client.ts";
import { CentralRejected, CentralUnreachable } from "../../src/roles/weather/central-client.ts";
import { ReadFailure } from "../../src/roles/weather/providers/provider.ts";

const printed: string[] = [];
const spy = spyOn(console, "error").mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(" ")));
afterEach(() => {
  printed.length = 0;
});

describe("the CLI's error boundary", () => {
  test("every known error kind shares one base", () => {
    const known = [
      new ConfigError("x"),
      new AppError("bad_request", "x"),
      new BusError("unavailable", "x"),
      new IdentityError("x"),
      new RefusedError(401, "unauthorized", "expired", "x"),
      new KeyError("x"),
      new SigningKeyError("x"),
      new CredentialError("expired", "x"),
      new EnvelopeError("tampered", "x"),
      new NoAnswerError("x"),
      new NoActiveKeyError({ type: "cp", id: "CP_1" }),
      new CentralUnreachable("x"),
      new CentralRejected(400, "x"),
      new ReadFailure("network", "x"),
      new NoAnswer("x"),
      new ApiUnavailable("x"),
      new DatabaseUnavailable("postgres://h/db", Object.assign(new Error("refused"), { code: "ECONNREFUSED" })),
      new NoDatabaseHere(".evnet"),
      new DataFolderInUse("/d", { pid: 1, host: "h", command: "evnet up", since: new Date().toISOString() }),
      new PortInUse("127.0.0.1", 8000, "API_PORT"),
      new UsageError("x"),
    ];
    for (const err of known) expect(err).toBeInstanceOf(KnownError);
  });

  test("prints a known error as one line, what then how, and returns its exit code", () => {
    expect(reportError(new PortInUse("127.0.0.1", 8000), "api")).toBe(69);
    expect(printed).toEqual([
      "evnet api: cannot listen on 127.0.0.1:8000: the port is already in use; is evnet already running there? Stop it, or choose another port",
    ]);
    expect(reportError(new ConfigError("invalid configuration:\n  API_PORT: expected a port"), "api")).toBe(78);
    expect(reportError(new AppError("bad_request", "expected a CP id"), "central")).toBe(2);
    expect(reportError(new BusError("unavailable", "Kafka at h:1 failed"))).toBe(69);
    expect(reportError(new NoDatabaseHere(".evnet"), "central")).toBe(66);
  });

  test("finds a known error behind another one", () => {
    expect(reportError(new Error("wrapped", { cause: new ConfigError("EVNET_CA_FILE: cannot read") }), "driver")).toBe(78);
    expect(printed).toEqual(["evnet driver: EVNET_CA_FILE: cannot read"]);
  });

  test("prints a refusal of the operating system plainly", () => {
    const err = Object.assign(new Error("EACCES: permission denied, open '/etc/evnet/x'"), { code: "EACCES", syscall: "open", path: "/etc/evnet/x" });
    expect(reportError(err, "weather")).toBe(71);
    expect(printed).toEqual(["evnet weather: EACCES: permission denied, open '/etc/evnet/x'"]);
  });

  test("keeps 'unexpected error' and the stack for a bug", () => {
    expect(reportError(new TypeError("undefined is not a function"), "central")).toBe(1);
    expect(printed[0]).toStartWith("evnet central: unexpected error (a bug in evnet; please report it with the command you ran):");
    spy.mockClear();
  });
});
