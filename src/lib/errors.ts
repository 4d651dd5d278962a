/**
 * Errors the system knows about. Every one of them extends `KnownError`, so the CLI's error
 * boundary (src/cli/errors.ts) prints any of them as one plain line, with a hint how to fix it
 * where there is one, and ends with its exit code. `AppError` carries a stable code the HTTP
 * edge maps to a status. Anything that is not a KnownError is a bug and is reported as such.
 */

/** Exit codes, after BSD's sysexits.h, so scripts and service managers can tell failures apart. */
export const EXIT = {
  failure: 1,
  /** The command line was wrong (unknown option, missing argument). */
  usage: 2,
  /** A file or database to read is not there. */
  noInput: 66,
  /** A service it needs is down or busy: database, Kafka, a port, a data folder in use. */
  unavailable: 69,
  /** The operating system refused something no code foresaw. */
  os: 71,
  /** A file or folder could not be created or written. */
  cannotCreate: 73,
  /** A setting is wrong or missing. */
  config: 78,
} as const;

export interface KnownErrorOptions {
  /** How to fix it, when there is a known way: printed after the message. */
  hint?: string;
  cause?: unknown;
  exitCode?: number;
}

/** What went wrong, then how to fix it: the message carries both, as the user reads them. */
export class KnownError extends Error {
  override name = "KnownError";
  readonly hint?: string;
  readonly exitCode: number;
  constructor(message: string, options: KnownErrorOptions = {}) {
    const hint = options.hint ? `${message.includes("\n") ? "\n  " : "; "}${options.hint}` : "";
    super(`${message}${hint}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT.failure;
  }
}

export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "too_many_requests"
  | "unavailable"
  | "not_implemented"
  | "internal";

const exitCodeOf: Partial<Record<ErrorCode, number>> = {
  bad_request: EXIT.usage,
  validation_failed: EXIT.usage,
  unavailable: EXIT.unavailable,
  not_implemented: EXIT.unavailable,
};

export class AppError extends KnownError {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options: Omit<KnownErrorOptions, "exitCode"> = {},
  ) {
    super(message, { ...options, exitCode: exitCodeOf[code] ?? EXIT.failure });
  }
}

export const statusOf: Record<ErrorCode, 400 | 401 | 403 | 404 | 409 | 422 | 429 | 500 | 501 | 503> = {
  bad_request: 400,
  validation_failed: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_many_requests: 429,
  unavailable: 503,
  not_implemented: 501,
  internal: 500,
};

const SYSTEM_REASONS: Record<string, string> = {
  ENOENT: "there is no such file or folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder, not a file",
  ENOSPC: "the disk is full",
  EEXIST: "it already exists",
};

/** In words, why the operating system refused a file operation; undefined when it is not one. */
export function systemReason(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code ? SYSTEM_REASONS[code] : undefined;
}
