/**
 * Roles as real OS processes (`bun src/main.ts <role> ...`), for end-to-end tests: each keeps
 * its output lines so a test can wait for a readiness line or read what an operator would see,
 * and `stopRoles` ends them (SIGINT, then SIGKILL if they hang) in afterAll.
 */
import type { Subprocess } from "bun";

export interface RoleProcess {
  name: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Every line written to stdout and stderr so far. */
  lines: string[];
  /** Resolves with the first line (past or future) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<number | null>;
}

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

export interface SpawnOptions {
  /** The executable to run instead of `bun src/main.ts` (the compiled binary). */
  command?: string[];
  cwd?: string;
}

/**
 * Starts `evnet <args>` as a user at a shell would (stdin not a terminal), with `env` on top of a
 * minimal environment: never the developer's .env (EVNET_ENV_FILE is an empty file).
 */
function spawnEvnet(args: string[], env: Record<string, string | undefined>, options: SpawnOptions): Subprocess<"ignore", "pipe", "pipe"> {
  return Bun.spawn([...(options.command ?? [process.execPath, MAIN]), ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, EVNET_ENV_FILE: "/dev/null", EVNET_LOG_LEVEL: "info", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

export interface EvnetRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `evnet <args>` to its end; its output and exit code. */
export async function runEvnet(args: string[], env: Record<string, string | undefined> = {}, options: SpawnOptions = {}): Promise<EvnetRun> {
  const proc = spawnEvnet(args, env, options);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Starts `evnet <args>` (a role), keeping its lines for the test to wait on. */
export function spawnRole(name: string, args: string[], env: Record<string, string | undefined>, options: SpawnOptions = {}): RoleProcess {
  const proc = spawnEvnet(args, env, options);
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const take = (line: string) => {
    lines.push(line);
    if (process.env.EVNET_TEST_ECHO) console.log(`[${name}] ${line}`);
    for (const w of waiters)
      if (w.pattern.test(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
  };
  void pump(proc.stdout, take);
  void pump(proc.stderr, take);
  return {
    name,
    proc,
    lines,
    waitForLine(pattern, timeoutMs = 30_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const waiter = {
          pattern,
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms (exit code ${proc.exitCode}); last lines:\n${lines.slice(-25).join("\n")}`),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill("SIGINT");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 12_000);
      const code = await proc.exited;
      clearTimeout(killer);
      return code;
    },
  };
}

async function pump(stream: ReadableStream<Uint8Array>, take: (line: string) => void): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = rest.indexOf("\n")) >= 0) {
      take(rest.slice(0, newline));
      rest = rest.slice(newline + 1);
    }
  }
  if (rest) take(rest);
}

/** Stops every role, in reverse order of starting, each by its own process id. */
export async function stopRoles(roles: RoleProcess[]): Promise<void> {
  for (const role of [...roles].reverse()) await role.stop();
}
