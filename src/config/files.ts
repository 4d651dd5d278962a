/** Files that settings name (certificates, keys): read with errors that name the setting. */
import { readFileSync } from "node:fs";
import { systemReason } from "../lib/errors.ts";
import { ConfigError, settingLabel } from "./env.ts";

/**
 * Reads the file `setting` names. A missing or unreadable file is a ConfigError naming the
 * setting (and its flag), the file and why, with `hint` on how to get a right one.
 */
export function readSettingFile(setting: string, file: string, hint = "make it with 'evnet certs', or point the setting at yours"): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${settingLabel(setting)}: cannot read ${file}: ${systemReason(err) ?? (err as Error).message}`, { hint, cause: err });
  }
}
