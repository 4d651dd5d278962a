/**
 * One JSON call from a client role to an evnet service over HTTPS (a monitor to the Registry or
 * the API, a driver's app to the API): what failed is told apart, a service that cannot be
 * reached (with a hint how to fix it, when the failure says) from one that refused, with its
 * error code and reason.
 */
import { explainFetchFailure, type Fetch } from "./tls-client.ts";

export interface ServiceReply {
  status: number;
  body: any;
}

export class ServiceUnreachable extends Error {
  override name = "ServiceUnreachable";
  constructor(
    message: string,
    /** How to fix it, when the failure says (a plain-HTTP server asked for HTTPS, an untrusted CA...). */
    readonly hint: string | undefined,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

export class ServiceRefused extends Error {
  override name = "ServiceRefused";
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    /** For 401s: the reason the service gave (expired, superseded...). */
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export async function callService(
  fetchFn: Fetch,
  service: string,
  method: string,
  url: string,
  options: { body?: unknown; token?: string } = {},
): Promise<ServiceReply> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await fetchFn(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const { why, hint } = explainFetchFailure(err, url);
    throw new ServiceUnreachable(`cannot reach the ${service} at ${new URL(url).origin}: ${why}`, hint, err);
  }
  const text = await res.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (res.status >= 400) {
    const error = parsed?.error as { code?: string; message?: string; details?: { reason?: string } } | undefined;
    throw new ServiceRefused(
      res.status,
      error?.code,
      error?.details?.reason,
      `the ${service} refused (${res.status}): ${error?.message ?? (text.slice(0, 200) || "no reason given")}`,
    );
  }
  return { status: res.status, body: parsed };
}
