/**
 * The client's consumer, with the group coordinator's "you are out of date" answers read as Kafka's
 * own Java consumer reads them.
 *
 * @platformatic/kafka (2.12) rejoins the group whenever a heartbeat or an offset commit is answered
 * REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID, even when the request was sent
 * under a generation the member has left since. A busy member always has a commit on its way: one
 * sent while it was joining is answered (after the join, since the broker answers a connection's
 * requests in order) with ILLEGAL_GENERATION, and the member joins again. When that member is the
 * group's leader, its join starts a new rebalance, during which the next commit meets the same
 * fate: two Centrals draining a backlog rebalanced about once a second for as long as the drain
 * lasted, each time pausing both (docs/benchmarks.md, ninth round).
 *
 * The rules here are the Java client's (AbstractCoordinator and ConsumerCoordinator): an answer to
 * a request of an older generation says nothing about the current one and asks for nothing (a
 * heartbeat's is dropped, a commit's fails as {@link StaleCommitError}); a commit answered
 * REBALANCE_IN_PROGRESS fails the same way and leaves the joining to the heartbeat, which is told
 * the same within a heartbeat interval. Anything else is the client's to handle, as before.
 */
import { type API, type Callback, Consumer, findErrorBy, GenericError, kGetApi } from "@platformatic/kafka";

/**
 * An offset commit the group could not take at this moment (a rebalance): the member may send it
 * again once it has rejoined. Not retried by the client itself (canRetry false), so it reaches the
 * caller as it is.
 */
export class StaleCommitError extends GenericError {
  constructor(reason: string) {
    // The client's codes are a closed set; this is the one for a caller's own conditions.
    super("PLT_KFK_USER", `offset commit not taken: ${reason}`, { canRetry: false });
    this.name = "StaleCommitError";
  }
}

type ApiCallback = (error: Error | null, response?: unknown) => void;

/** The position of the generation in the Heartbeat and OffsetCommit calls: (connection, groupId, generationId, ...). */
const GENERATION_ARG = 2;

export class GroupConsumer extends Consumer<Buffer, Buffer, Buffer, Buffer> {
  override [kGetApi]<RequestArguments extends Array<unknown>, ResponseType>(name: string, callback: Callback<API<RequestArguments, ResponseType>>): void {
    if (name !== "Heartbeat" && name !== "OffsetCommit") {
      super[kGetApi](name, callback);
      return;
    }
    super[kGetApi]<RequestArguments, ResponseType>(name, (error, api) => {
      if (error || !api) {
        callback(error);
        return;
      }
      const call = api as unknown as (...args: unknown[]) => unknown;
      const wrapped = Object.assign((...args: unknown[]) => {
        const done = args.pop() as ApiCallback;
        const sentGeneration = args[GENERATION_ARG];
        return call(...args, (err: Error | null, response?: unknown) => {
          const verdict = err ? this.readGroupError(name, err, sentGeneration) : "pass";
          if (verdict === "drop") done(null, response);
          else if (verdict === "pass") done(err, response);
          else done(new StaleCommitError(verdict), response);
        });
      }, api);
      callback(null, wrapped as unknown as API<RequestArguments, ResponseType>);
    });
  }

  /** "pass": the client handles the error; "drop": a stale heartbeat's answer, ignored; else why the commit was not taken. */
  private readGroupError(name: string, error: Error, sentGeneration: unknown): "pass" | "drop" | string {
    if (!findErrorBy(error, "needsRejoin", true)) return "pass";
    const stale = typeof sentGeneration === "number" && sentGeneration !== this.generationId;
    if (name === "Heartbeat") return stale ? "drop" : "pass";
    if (stale) return `sent under generation ${sentGeneration}, the member is at ${this.generationId} now`;
    if (findErrorBy(error, "rebalanceInProgress", true)) return "the group is rebalancing";
    return "pass";
  }
}
