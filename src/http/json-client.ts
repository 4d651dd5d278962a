/**
 * How evnet's roles call each other's JSON endpoints (the driver and the weather office call the
 * API, the CP monitor calls the Registry and the API): send, read the reply's JSON, read a
 * refusal's `{ error: { code, message } }`, and check a reply against the shape the service
 * declares (src/roles/api/shapes.ts, src/roles/registry/shapes.ts) instead of trusting it. Each
 * client turns these outcomes into its own errors, because each acts differently on them.
 */
import type * as v from "valibot";
import { type Parsed, validate } from "../lib/parsed.ts";
import { type ErrorBody, errorBodySchema } from "./error-body.ts";
import { explainFetchFailure, type Fetch } from "./tls-client.ts";

export interface JsonRequest {
  method?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as `Authorization: Bearer`. */
  token?: string;
  timeoutMs: number;
}

export interface JsonReply {
  status: number;
  ok: boolean;
  /** The parsed JSON, or undefined when the body was empty or not JSON. */
  body: unknown;
  text: string;
  /** The service's own error, when it answered one. */
  error?: ErrorBody["error"];
}

/** No answer at all: no connection, a failed TLS handshake, a timeout. `why` says which, `hint` how to fix it when known. */
export class NoReply extends Error {
  override name = "NoReply";
  constructor(
    readonly url: string,
    readonly why: string,
    readonly hint: string | undefined,
    cause: unknown,
  ) {
    super(`no answer from ${url}: ${why}`, { cause });
  }
}

export async function callJson(fetch: Fetch, url: string, request: JsonRequest): Promise<JsonReply> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: request.method ?? "GET",
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    const { why, hint } = explainFetchFailure(err, url);
    throw new NoReply(url, why, hint, err);
  }
  const body = parseJson(text);
  const said = res.ok ? undefined : validate(errorBodySchema, body);
  return { status: res.status, ok: res.ok, body, text, ...(said?.ok ? { error: said.value.error } : {}) };
}

/** The reply's body as the service declares it; the reason names the first field that does not match. */
export function readReply<S extends v.GenericSchema>(schema: S, reply: JsonReply): Parsed<v.InferOutput<S>> {
  return validate(schema, reply.body, "(body)");
}

/** What a refusal said, in one line: the service's message, else the start of its body. */
export function refusalText(reply: JsonReply): string {
  return reply.error?.message ?? (reply.text.slice(0, 200) || "no reason given");
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
