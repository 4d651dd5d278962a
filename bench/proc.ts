/**
 * What the kernel says about a process (Linux /proc): CPU time used and memory, so the
 * benchmark can tell how much of the 2 cores Central took and how much memory it held.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux x86). */
const TICKS_PER_SECOND = 100;

/** A stat line's fields after the command name, from the state on (the name may hold spaces and parentheses). */
function fieldsOf(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** User and kernel CPU seconds in a stat line's fields (as `fieldsOf` gives them). */
function timesOf(fields: string[]): { user: number; kernel: number } {
  return { user: Number(fields[11]) / TICKS_PER_SECOND, kernel: Number(fields[12]) / TICKS_PER_SECOND };
}

/** The fields of /proc/<pid>/stat after the command name, from its state on; undefined once it is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    return fieldsOf(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) the process has used so far; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const fields = statFields(pid);
  if (!fields) return undefined;
  const { user, kernel } = timesOf(fields);
  return user + kernel;
}

/** What a process's threads have used so far: CPU seconds by thread name, and how much of them in the kernel. */
export interface ThreadCpu {
  /** CPU seconds (user + system) summed over the threads of each name; the process's first thread is "main". */
  byThread: Record<string, number>;
  /** The part of all of them spent in the kernel (system time), in seconds. */
  system: number;
}

/**
 * CPU seconds of each of a process's threads so far, summed by thread name (Linux
 * /proc/<pid>/task): which of its threads the time went to (its JavaScript thread, its workers,
 * the engine's compilers and collector). A thread that exited before the read is not counted.
 * Undefined once the process is gone.
 */
export function threadCpuSeconds(pid: number): ThreadCpu | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const byThread: Record<string, number> = {};
  let system = 0;
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // it exited meanwhile
    }
    const name = tid === String(pid) ? "main" : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const { user, kernel } = timesOf(fieldsOf(stat));
    byThread[name] = (byThread[name] ?? 0) + user + kernel;
    system += kernel;
  }
  return { byThread, system };
}

/** The process's niceness (its main thread's); undefined once it is gone. */
export function niceOf(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields && Number(fields[16]);
}

/** Resident memory now (VmRSS) and at its peak (VmHWM), in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

/** Processes whose command name (comm) is `name`, e.g. every PostgreSQL backend. */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) pids.push(Number(entry));
    } catch {
      // it exited meanwhile
    }
  }
  return pids;
}

/** The pid in a pid file (the Kafka broker's), if that process runs. */
export function pidFromFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return cpuSeconds(pid) === undefined ? undefined : pid;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine so far (all cores), from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1, 9).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy: busy / TICKS_PER_SECOND, total: (busy + idle! + iowait!) / TICKS_PER_SECOND };
}

/**
 * CPU used by a group of processes between two readings. Processes are named by a function
 * so that PostgreSQL backends that start during the window are counted too (their time before
 * the first reading is not known: a new backend counts from 0, a slight overcount).
 */
export class CpuMeter {
  private start = new Map<number, number>();
  private startedAt = 0;

  constructor(private pids: () => number[]) {}

  begin(): void {
    this.startedAt = performance.now();
    this.start.clear();
    for (const pid of this.pids()) {
      const s = cpuSeconds(pid);
      if (s !== undefined) this.start.set(pid, s);
    }
  }

  /** Cores used on average since `begin` (1.0 = one core fully busy). */
  end(): number {
    const seconds = (performance.now() - this.startedAt) / 1000;
    let used = 0;
    for (const pid of this.pids()) {
      const now = cpuSeconds(pid);
      if (now !== undefined) used += now - (this.start.get(pid) ?? 0);
    }
    return seconds > 0 ? used / seconds : 0;
  }
}
