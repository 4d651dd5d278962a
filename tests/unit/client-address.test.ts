/** Which peers and hosts count as this machine: loopback IP addresses only, never a name that looks like one. */
import { describe, expect, test } from "bun:test";
import { isLoopback, isLoopbackHost } from "../../src/http/client-address.ts";

describe("a loopback address", () => {
  test("is 127.0.0.0/8, ::1, or an IPv4 loopback address mapped into IPv6", () => {
    for (const address of ["127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) expect(isLoopback(address)).toBe(true);
  });

  test("is not a host name that starts like one, another address, or nothing", () => {
    for (const address of ["127.evil.example", "127.0.0.1.evil.example", "localhost.evil", "10.0.0.1", "::ffff:10.0.0.1", "::2", "128.0.0.1", "", undefined])
      expect(isLoopback(address)).toBe(false);
  });

  test("as a host to listen on, is localhost or a loopback IP address", () => {
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("127.evil.example")).toBe(false);
    expect(isLoopbackHost("0.0.0.0")).toBe(false);
  });
});
