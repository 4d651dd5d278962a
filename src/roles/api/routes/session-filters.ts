/** The filters of the session history, shared by `GET /sessions` and `GET /sessions.csv`. */
import * as v from "valibot";
import { SESSION_STATES } from "../../../domain/session-state.ts";
import type { SessionFilter } from "../views/sessions.ts";
import { endReasonFilter, idFilter, textFilter, timeFilter } from "./console-query.ts";

export const sessionFilterQuery = {
  status: v.optional(v.picklist(SESSION_STATES, `status must be ${SESSION_STATES.join(" or ")}`)),
  cp_id: idFilter("cp_id"),
  driver_id: idFilter("driver_id"),
  city: textFilter("city"),
  from: timeFilter("from"),
  to: timeFilter("to"),
  end_reason: endReasonFilter,
};

type SessionFilterInput = v.InferOutput<v.ObjectSchema<typeof sessionFilterQuery, undefined>>;

export function sessionFilterOf(q: SessionFilterInput): Omit<SessionFilter, "limit" | "offset"> {
  return { status: q.status, cpId: q.cp_id, driverId: q.driver_id, city: q.city, from: q.from, to: q.to, endReason: q.end_reason };
}
