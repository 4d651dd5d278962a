import { isIP } from "node:net";
import type { Context } from "hono";

/** The peer's address as Bun saw it (set by serve.ts), for audit entries and loopback checks. */
export function clientAddress(c: Context): string | undefined {
  const env = c.env as { remoteAddress?: string } | undefined;
  return env?.remoteAddress;
}

/**
 * Whether an address is a loopback IP address: 127.0.0.0/8, ::1, or an IPv4 loopback address
 * mapped into IPv6. Only an IP address is: a host name such as `127.evil.example` is not.
 */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const mapped = /^::ffff:(.+)$/i.exec(address)?.[1];
  const ip = mapped && isIP(mapped) === 4 ? mapped : address;
  if (isIP(ip) === 4) return ip.split(".")[0] === "127";
  if (isIP(ip) === 6) return /^(0{0,4}:){7}0{0,3}1$|^::1$/.test(ip);
  return false;
}

/** Whether a host a role listens on is loopback: `localhost`, or a loopback IP address. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || isLoopback(host);
}
