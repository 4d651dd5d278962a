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
  /**
   * Every set, oldest first (key and time), looked at from the front to forget: an item whose key
   * was set again since is passed over. Kept apart from the map because a map whose oldest
   * entries were deleted makes each walk from its front pass over them again (measured under
   * Bun: 10,000 keys set again cost 6–8 µs each instead of 0.3).
   */
  private setKeys: string[] = [];
  private setAts: number[] = [];
  private head = 0;

  constructor(private readonly keepMs: number) {}

  /** The value set for `key` within the last `keepMs` of `now`, if any. */
  get(key: string, now = Date.now()): V | undefined {
    const e = this.entries.get(key);
    return e && now - e.at <= this.keepMs ? e.value : undefined;
  }

  /** Sets `key` as done at `now`, and forgets what is older than `keepMs`. */
  set(key: string, value: V, now = Date.now()): void {
    this.entries.set(key, { value, at: now });
    this.setKeys.push(key);
    this.setAts.push(now);
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
    this.setKeys = [];
    this.setAts = [];
    this.head = 0;
  }

  private forgetOld(now: number): void {
    // Oldest first. A clock set back leaves the order less than exact: what is older than a
    // younger entry ahead of it waits for that one to go, and is forgotten with it.
    while (this.head < this.setKeys.length) {
      const at = this.setAts[this.head]!;
      if (now - at <= this.keepMs) break;
      const key = this.setKeys[this.head]!;
      if (this.entries.get(key)?.at === at) this.entries.delete(key);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.setKeys.length) {
      this.setKeys = this.setKeys.slice(this.head);
      this.setAts = this.setAts.slice(this.head);
      this.head = 0;
    }
  }
}
