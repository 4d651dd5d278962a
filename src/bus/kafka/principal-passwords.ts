/**
 * The passwords of the principals `evnet kafka-acls` creates: one file per principal,
 * `<secrets dir>/<username>.password`, owner-only. A file that exists is kept (running the
 * command again changes no password); a missing one is made. Each role's machine gets its own
 * file only (KAFKA_SASL_PASSWORD_FILE).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newPrincipalPassword } from "../../crypto/scram.ts";

export interface PrincipalPassword {
  username: string;
  file: string;
  password: string;
  created: boolean;
}

export function passwordFile(dir: string, username: string): string {
  return join(dir, `${username}.password`);
}

export function ensurePrincipalPasswords(dir: string, usernames: string[]): PrincipalPassword[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return usernames.map((username) => {
    const file = passwordFile(dir, username);
    if (existsSync(file)) return { username, file, password: readFileSync(file, "utf8").replace(/\r?\n$/, ""), created: false };
    const password = newPrincipalPassword();
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return { username, file, password, created: true };
  });
}
