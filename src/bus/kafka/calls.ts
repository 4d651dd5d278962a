/** Small helpers around @platformatic/kafka calls: deadlines, quiet closing, readable errors. */

/** Rejects with `onTimeout()` when `promise` has not settled within `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a client, giving up when the broker does not answer (the process may be exiting). */
export async function closeWithin(close: () => Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([close().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The client's errors nest (MultipleErrors of NetworkErrors...): flatten them into one line. */
export function describeKafkaError(err: unknown): string {
  const parts: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!e || depth > 8) return;
    if (e instanceof Error) {
      const code = (e as { apiId?: string }).apiId ?? (e as { code?: string }).code;
      const text = code && !e.message.includes(code) ? `${e.message} [${code}]` : e.message;
      if (!parts.includes(text)) parts.push(text);
      if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, depth + 1);
      else visit(e.cause, depth + 1);
    } else parts.push(String(e));
  };
  visit(err, 0);
  // Retries and "cannot connect to any broker" wrap the cause an operator can act on (refused
  // credentials, a missing ACL, an untrusted certificate): name it even when it sits deep down.
  const decisive = parts.find((p) => DECISIVE.test(p));
  if (decisive && !parts.slice(0, 4).includes(decisive)) return [...parts.slice(0, 2), decisive].join(": ");
  return parts.slice(0, 4).join(": ") || "unknown error";
}

const DECISIVE = /authentication failed|AUTHORIZATION_FAILED|certificate|requires TLS|handshake/i;
