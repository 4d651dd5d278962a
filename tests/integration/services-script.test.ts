/**
 * scripts/services.sh keeps everything a state folder runs inside that folder: two state folders
 * get two PostgreSQL clusters, a location recorded by an older version (or carried along by a
 * copied repository) is never followed, and a server on the port that the folder did not start
 * is refused instead of being reused and reconfigured. One of the folders sits under a folder
 * only its owner may enter, as a clone under /root does.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "../support/network-processes.ts";

const SCRIPT = new URL("../../scripts/services.sh", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "evnet-services-"));
const first = join(root, "first");
const second = join(root, "closed", "second");
mkdirSync(first, { recursive: true });
mkdirSync(second, { recursive: true });
chmodSync(join(root, "closed"), 0o700);

interface Run {
  code: number;
  out: string;
  err: string;
}

async function services(dir: string, port: number, command: string): Promise<Run> {
  const proc = Bun.spawn(["bash", SCRIPT, command], {
    env: { ...process.env, EVNET_SERVICES_DIR: dir, EVNET_PG_PORT: String(port) } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

async function dataDirectoryAt(port: number): Promise<string> {
  const sql = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
  try {
    return (await sql`show data_directory`)[0]!.data_directory as string;
  } finally {
    await sql.end();
  }
}

const ports = { first: await freePort(), second: await freePort() };

afterAll(async () => {
  await services(second, ports.second, "pg-down");
  await services(first, ports.first, "pg-down");
  rmSync(root, { recursive: true, force: true });
}, 120_000);

describe("scripts/services.sh state folders", () => {
  test("two state folders run two clusters, each inside its own folder", async () => {
    const a = await services(first, ports.first, "pg-up");
    expect(a.code).toBe(0);
    const [url, socket, ...more] = a.out.trim().split("\n");
    expect(url).toBe(`DATABASE_URL=postgres://evnet:evnet@127.0.0.1:${ports.first}/evnet`);
    expect(socket).toMatch(/^DATABASE_SOCKET_DIR=\/tmp\/evnet-pg-[0-9a-f]{12}$/);
    expect(more).toEqual([]);

    // What a copy of the first checkout carries along: the location an older version recorded.
    writeFileSync(join(second, "postgres.location"), `${join(first, "postgres")}\n`);
    const b = await services(second, ports.second, "pg-up");
    expect(b.code).toBe(0);
    expect(b.err).toContain("ignoring");
    // Each folder's server has a socket of its own, in a folder of its own.
    const socketOf = (run: Run) => /^DATABASE_SOCKET_DIR=(.+)$/m.exec(run.out)![1]!;
    expect(socketOf(b)).not.toBe(socketOf(a));
    expect(existsSync(join(socketOf(a), `.s.PGSQL.${ports.first}`))).toBe(true);
    expect(existsSync(join(socketOf(b), `.s.PGSQL.${ports.second}`))).toBe(true);

    expect(await dataDirectoryAt(ports.first)).toBe(join(first, "postgres", "data"));
    expect(await dataDirectoryAt(ports.second)).toBe(join(second, "postgres", "data"));
    // The first cluster was not reconfigured by the second folder's start.
    expect(readFileSync(join(first, "postgres", "data", "evnet.conf"), "utf8")).toContain(`port = ${ports.first}`);
    expect(existsSync(join(second, "postgres", "data", "PG_VERSION"))).toBe(true);
  }, 120_000);

  test("a server on the port that the folder did not start is refused, not reused", async () => {
    const taken = await services(second, ports.first, "pg-up");
    expect(taken.code).not.toBe(0);
    expect(taken.err).toContain(`127.0.0.1:${ports.first} answers, but not with the cluster of ${second}`);
    const status = await services(second, ports.first, "status");
    expect(status.code).toBe(1);
    expect(status.err).toContain("not the cluster of");
    // Both clusters still serve their own ports.
    expect(await dataDirectoryAt(ports.first)).toBe(join(first, "postgres", "data"));
    expect(await dataDirectoryAt(ports.second)).toBe(join(second, "postgres", "data"));
  }, 60_000);

  test("pg-down stops only the folder's own cluster", async () => {
    const socketDir = /^DATABASE_SOCKET_DIR=(.+)$/m.exec((await services(second, ports.second, "pg-up")).out)![1]!;
    const down = await services(second, ports.second, "pg-down");
    expect(down.code).toBe(0);
    expect(existsSync(join(second, "postgres", "data", "postmaster.pid"))).toBe(false);
    expect(existsSync(socketDir)).toBe(false); // its socket and the folder went with it
    expect(await dataDirectoryAt(ports.first)).toBe(join(first, "postgres", "data"));
  }, 60_000);
});
