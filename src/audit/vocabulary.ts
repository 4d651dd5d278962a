/** What an audit entry may say of its kind, its actor and its outcome: the columns' values, declared once. */
export type AuditEventType =
  | "registration"
  | "deregistration"
  | "authentication"
  | "key"
  | "revocation"
  | "state_change"
  | "session"
  | "request"
  | "security"
  | "weather"
  | "operator"
  | "error";

export const ACTOR_TYPES = ["cp", "driver", "operator", "system", "service"] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export const OUTCOMES = ["success", "failure", "error"] as const;
export type Outcome = (typeof OUTCOMES)[number];
