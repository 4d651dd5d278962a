/** A server-sent-events client for tests: reads events from a fetch body as they arrive. */
export interface SseEvent {
  event: string;
  data: string;
  receivedAt: number;
}

export interface SseClient {
  events: SseEvent[];
  /** Resolves with the first event (from now on, or already received after `fromIndex`) that matches. */
  next(match: (e: SseEvent) => boolean, timeoutMs?: number, fromIndex?: number): Promise<SseEvent>;
  close(): void;
}

export async function openSse(url: string): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal, headers: { accept: "text/event-stream" } });
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split("\n");
          const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
          const data = lines
            .filter((l) => l.startsWith("data: "))
            .map((l) => l.slice(6))
            .join("\n");
          if (!lines.some((l) => l.startsWith("data: "))) continue; // retry: / comments
          events.push({ event, data, receivedAt: Date.now() });
          for (const wake of waiters) wake();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    events,
    next(match, timeoutMs = 10_000, fromIndex = events.length) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(fromIndex).find(match);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching server-sent event within ${timeoutMs} ms (got ${events.map((e) => e.event).join(", ") || "none"})`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => controller.abort(),
  };
}
