/**
 * What the interactive menus (@clack/prompts) share: a loop of choices with a status panel,
 * log lines kept out of the prompts' way, and a live view that redraws one line until a key is
 * pressed. Used only when stdin is a TTY; headless runs never load this.
 */
import * as p from "@clack/prompts";
import { isId } from "../domain/ids.ts";
import { type Level, setLogSink } from "../lib/log.ts";

export interface MenuItem {
  value: string;
  label: string;
  hint?: string;
  run: () => Promise<void> | void;
}

export interface MenuSpec {
  title: string;
  /** Shown above the choices each time; keep it to a few lines. */
  status?: () => Promise<string> | string;
  items: () => MenuItem[];
}

/** Keeps log lines in memory while a menu owns the terminal; warnings are shown between prompts. */
export class LogCapture {
  private lines: string[] = [];
  private unseen: string[] = [];
  constructor(private max = 200) {
    setLogSink((line: string, level: Level) => {
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
      if (level === "warn" || level === "error") {
        this.unseen.push(line);
        if (this.unseen.length > 20) this.unseen.shift();
      }
    });
  }

  recent(n = 30): string[] {
    return this.lines.slice(-n);
  }

  /** Warnings and errors since the last call. */
  takeUnseen(): string[] {
    const out = this.unseen;
    this.unseen = [];
    return out;
  }
}

/** Runs the menu until the operator quits (or `signal` aborts); resolves then. */
export async function runMenu(spec: MenuSpec, logs: LogCapture, signal?: AbortSignal): Promise<void> {
  p.intro(spec.title);
  while (!signal?.aborted) {
    for (const line of logs.takeUnseen()) p.log.warn(line);
    if (spec.status) {
      try {
        p.note(await spec.status(), "status");
      } catch (err) {
        p.log.error(`could not read the status: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const items = spec.items();
    const choice = await p.select({
      message: "What do you want to do?",
      options: [
        ...items.map((i) => ({ value: i.value, label: i.label, hint: i.hint })),
        { value: "__log", label: "Show recent log lines" },
        { value: "__quit", label: "Quit" },
      ],
      signal,
    });
    if (p.isCancel(choice) || choice === "__quit") break;
    if (choice === "__log") {
      p.note(logs.recent().join("\n") || "(nothing logged yet)", "recent log");
      continue;
    }
    const item = items.find((i) => i.value === choice);
    try {
      await item?.run();
    } catch (err) {
      p.log.error(err instanceof Error ? err.message : String(err));
    }
  }
  p.outro("bye");
}

export interface AskOptions {
  /** Shown greyed in the empty field: an example, never taken as the answer. */
  example?: string;
  /** The answer already typed in, to accept or edit. */
  initialValue?: string;
  /** Why an answer is not acceptable (undefined: it is); Esc still goes back. */
  validate?: (answer: string) => string | undefined;
}

/** Asks for a line of text; undefined when cancelled (Esc) or left empty. */
export async function ask(message: string, options: AskOptions = {}): Promise<string | undefined> {
  const answer = await askOptional(message, options);
  return answer === "" ? undefined : answer;
}

/** Asks for a line of text that may be left empty (""); undefined only when cancelled (Esc). */
export async function askOptional(message: string, options: AskOptions = {}): Promise<string | undefined> {
  const answer = await p.text({
    message,
    placeholder: options.example && `e.g. ${options.example}`,
    initialValue: options.initialValue,
    validate: options.validate && ((text) => options.validate!((text ?? "").trim())),
  });
  return p.isCancel(answer) ? undefined : answer.trim();
}

/** Asks for a charging point's (or a session's) id: typed, never assumed; Esc goes back. */
export function askId(message: string, example: string): Promise<string | undefined> {
  return ask(message, { example, validate: (id) => (isId(id) ? undefined : "an id: up to 64 letters, digits, '_', '.' or '-' (Esc to go back)") });
}

/**
 * Redraws `render()` on one line every `everyMs` until a key is pressed or `until()` holds;
 * returns the last rendering.
 */
export async function watch(render: () => string, everyMs = 500, until?: () => boolean): Promise<string> {
  const out = process.stdout;
  const stdin = process.stdin;
  let last = "";
  const draw = () => {
    last = render();
    out.write(`\r\x1b[2K${last}`);
  };
  out.write("(press any key to return)\n");
  draw();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      draw();
      if (until?.()) finish();
    }, everyMs);
    const onKey = () => finish();
    function finish() {
      clearInterval(timer);
      stdin.off("data", onKey);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      out.write("\n");
      resolve();
    }
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.resume();
    stdin.once("data", onKey);
  });
  return last;
}

/** A text progress bar: `[#######.......]`. */
export function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}]`;
}

export function interactive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}
