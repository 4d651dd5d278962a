import type { Context } from "hono";

/** The peer's address as Bun saw it (set by serve.ts), for audit entries and loopback checks. */
export function clientAddress(c: Context): string | undefined {
  const env = c.env as { remoteAddress?: string } | undefined;
  return env?.remoteAddress;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}
