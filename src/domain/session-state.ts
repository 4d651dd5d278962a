/**
 * The states of a charging session and of a driver, as Central keeps them: a session is in
 * progress until it is closed with a ticket, and a driver is charging while one of their
 * sessions is in progress.
 */
export const SESSION_STATES = ["IN_PROGRESS", "FINISHED"] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const DRIVER_STATES = ["IDLE", "CHARGING"] as const;
export type DriverState = (typeof DRIVER_STATES)[number];
