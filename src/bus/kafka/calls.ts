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
    if (!e || depth > 4) return;
    if (e instanceof Error) {
      const code = (e as { apiId?: string }).apiId ?? (e as { code?: string }).code;
      const text = code && !e.message.includes(code) ? `${e.message} [${code}]` : e.message;
      if (!parts.includes(text)) parts.push(text);
      if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, depth + 1);
      else visit(e.cause, depth + 1);
    } else parts.push(String(e));
  };
  visit(err, 0);
  return parts.slice(0, 4).join(": ") || "unknown error";
}
