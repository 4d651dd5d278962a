import { customType } from "drizzle-orm/pg-core";

/** Raw bytes (bytea): a message as it travels, which may be anything, a NUL or invalid UTF-8 included. */
export const bytes = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  toDriver: (value) => Buffer.from(value),
  fromDriver: (value) => new Uint8Array(value),
});
