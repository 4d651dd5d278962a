/**
 * Errors the system knows about carry a stable code; the HTTP edge maps codes to statuses and
 * the CLI prints them plainly. Anything else is a bug and is reported as such.
 */
export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "unavailable"
  | "not_implemented"
  | "internal";

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const statusOf: Record<ErrorCode, 400 | 401 | 403 | 404 | 409 | 422 | 500 | 501 | 503> = {
  bad_request: 400,
  validation_failed: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  not_implemented: 501,
  internal: 500,
};
