/** Showing text that came from outside: nothing invisible reaches a log line or a terminal. */

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** The text with every control character (C0, DEL, C1) written as \uXXXX. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
