/**
 * What was done for each key lately, forgotten once it is older than `keepMs`: for memos such
 * as "this session's progress left at t" or "this session was probed at t", where an entry that
 * old no longer changes any decision (the caller treats a missing entry as an old one). Entries
 * are kept in the order they were last set, so forgetting the old ones costs only those removed:
 * the memo holds what the last `keepMs` touched, however many sessions came and went before.
 *
 * (Bounding such memos by count instead kept every ended session's entry until the count was
 * reached: at 10,000 chargers some 16 sessions end a second, and Central's live heap grew by
 * their ids for tens of minutes.)
 */
export class RecentMap<V> {
  private entries = new Map<string, { value: V; at: number }>();

  constructor(private readonly keepMs: number) {}

  /** The value set for `key` within the last `keepMs` of `now`, if any. */
  get(key: string, now = Date.now()): V | undefined {
    const e = this.entries.get(key);
    return e && now - e.at <= this.keepMs ? e.value : undefined;
  }

  /** Sets `key` as done at `now`, and forgets what is older than `keepMs`. */
  set(key: string, value: V, now = Date.now()): void {
    this.entries.delete(key);
    this.entries.set(key, { value, at: now });
    this.forgetOld(now);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Entries held (some may be old but not yet forgotten: the next `set` forgets them). */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private forgetOld(now: number): void {
    // Oldest first. A clock set back leaves the order less than exact: what is older than a
    // younger entry ahead of it waits for that one to go, and is forgotten with it.
    for (const [key, e] of this.entries) {
      if (now - e.at <= this.keepMs) return;
      this.entries.delete(key);
    }
  }
}
