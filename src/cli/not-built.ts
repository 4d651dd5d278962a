import { AppError } from "../lib/errors.ts";

/** A role that does not exist yet says so and exits non-zero instead of pretending. */
export function notBuilt(role: string): never {
  throw new AppError("not_implemented", `'evnet ${role}' is not built yet in this version`);
}
