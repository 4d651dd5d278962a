/**
 * Times as people read them in a terminal: the machine's local time zone, to the second
 * (`2026-05-04 16:03:12`). The API and the bus keep UTC ISO strings; only what is shown changes.
 */
const pad = (n: number) => String(n).padStart(2, "0");

export function localTime(at: Date | string | null | undefined): string {
  if (at === null || at === undefined) return "-";
  const d = typeof at === "string" ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return String(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
