/**
 * The top-level error boundary. A KnownError (a setting, a service that is down, a refusal...)
 * prints as one plain line with its hint and ends with its exit code; a mistake on the command
 * line ends with 2; an error from the operating system that no code anticipated prints plainly
 * too. Only what is left, a bug, is printed with its stack.
 */
import { EXIT, KnownError } from "../lib/errors.ts";

/** The command line is wrong: an unknown command or option, a missing value. */
export class UsageError extends KnownError {
  override name = "UsageError";
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: EXIT.usage });
  }
}

/** The known error itself, or the one it was caused by. */
function knownIn(err: unknown): KnownError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (e instanceof KnownError) return e;
  return undefined;
}

interface SystemError extends Error {
  code: string;
  syscall: string;
  path?: string;
}

function isSystemError(err: unknown): err is SystemError {
  const e = err as Partial<SystemError>;
  return err instanceof Error && typeof e.code === "string" && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === "string";
}

/** One line for the user; `command` names the subcommand that failed, when there is one. */
export function reportError(err: unknown, command?: string): number {
  const who = command ? `evnet ${command}` : "evnet";
  const known = knownIn(err);
  if (known) {
    console.error(`${who}: ${known.message}`);
    return known.exitCode;
  }
  if (err instanceof Error && err.name === "CACError") {
    const message = err.message.replace(/`/g, "").replace(/^./, (c) => c.toLowerCase());
    console.error(`${who}: ${message}; see '${who} --help'`);
    return EXIT.usage;
  }
  if (isSystemError(err)) {
    console.error(`${who}: ${err.message}${err.path && !err.message.includes(err.path) ? ` (${err.path})` : ""}`);
    return EXIT.os;
  }
  console.error(`${who}: unexpected error (a bug in evnet; please report it with the command you ran):`, err);
  return EXIT.failure;
}
