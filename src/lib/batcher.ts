/**
 * Gathers requests that arrive close together into one call: a batch leaves when it is full or
 * `lingerMs` after its first request, with at most `maxInFlight` calls out at once (the rest
 * wait for one to come back, and leave together). `call` answers each request of a batch, in
 * order, with its value or its own error; a call that fails fails every request in it.
 */
export interface BatcherOptions<Q, A> {
  maxBatch: number;
  lingerMs: number;
  maxInFlight: number;
  call(requests: Q[]): Promise<(A | Error)[]>;
}

interface Pending<Q, A> {
  request: Q;
  resolve(answer: A): void;
  reject(err: Error): void;
}

export class Batcher<Q, A> {
  private pending: Pending<Q, A>[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private inFlight = 0;

  constructor(private readonly o: BatcherOptions<Q, A>) {}

  ask(request: Q): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      if (this.pending.length >= this.o.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.o.lingerMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0 && this.inFlight < this.o.maxInFlight) void this.send(this.pending.splice(0, this.o.maxBatch));
  }

  private async send(batch: Pending<Q, A>[]): Promise<void> {
    this.inFlight++;
    try {
      const answers = await this.o.call(batch.map((p) => p.request));
      batch.forEach((p, i) => {
        const answer = answers[i];
        if (answer === undefined) p.reject(new Error("no answer for this request in its batch"));
        else if (answer instanceof Error) p.reject(answer);
        else p.resolve(answer);
      });
    } catch (err) {
      for (const p of batch) p.reject(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.inFlight--;
      if (this.pending.length > 0) this.flush();
    }
  }
}
