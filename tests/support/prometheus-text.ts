/**
 * A parser of Prometheus' text exposition format 0.0.4, written to its specification
 * (prometheus.io/docs/instrumenting/exposition_formats): `# HELP name text`, `# TYPE name type`
 * and sample lines `name{label="value",...} value [timestamp]`, with `\\`, `\"` and `\n` escaped
 * in label values and `\\`, `\n` in help texts. It refuses what the format does not allow (a bad
 * name, an unterminated label value, a value that is not a number, a TYPE after its samples, a
 * sample outside any declared family) instead of guessing. Histogram and summary samples
 * (`_bucket`, `_sum`, `_count`) belong to their family.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function fail(n: number, line: string, why: string): never {
  throw new Error(`line ${n}: ${why}: ${line}`);
}

function unescapeText(text: string, quotes: boolean): string {
  return text.replace(/\\(.)/g, (all, c: string) => (c === "n" ? "\n" : c === "\\" ? "\\" : quotes && c === '"' ? '"' : all));
}

/**
 * A sample's value, as Go's ParseFloat reads it (the format's rule): besides decimal numbers,
 * NaN and infinities in any case (prom-client writes an empty summary's mean as "Nan").
 */
function parseValue(text: string): number {
  if (/^nan$/i.test(text)) return Number.NaN;
  const infinity = /^([-+]?)inf(inity)?$/i.exec(text);
  if (infinity) return infinity[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`not a number: ${text}`);
  return Number(text);
}

function parseLabels(rest: string, n: number, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let s = rest.slice(1); // after "{"
  for (;;) {
    s = s.trimStart();
    if (s.startsWith("}")) return { labels, rest: s.slice(1) };
    const name = LABEL_NAME.exec(s)?.[0] ?? fail(n, line, "bad label name");
    s = s.slice(name.length);
    if (!s.startsWith('="')) fail(n, line, `label ${name} has no quoted value`);
    s = s.slice(2);
    let end = 0;
    while (end < s.length && s[end] !== '"') end += s[end] === "\\" ? 2 : 1;
    if (end >= s.length) fail(n, line, "unterminated label value");
    if (name in labels) fail(n, line, `label ${name} given twice`);
    labels[name] = unescapeText(s.slice(0, end), true);
    s = s.slice(end + 1).trimStart();
    if (s.startsWith(",")) s = s.slice(1);
    else if (!s.startsWith("}")) fail(n, line, "expected , or } after a label");
  }
}

function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(name);
  if (exact) return exact;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  const family = families.get(base);
  return family && (family.type === "histogram" || family.type === "summary") ? family : undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const sampled = new Set<string>();
  text.split("\n").forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!meta) return; // a comment
      const [, kind, name, rest = ""] = meta as unknown as [string, string, string, string | undefined];
      if (!NAME.test(name) || NAME.exec(name)![0] !== name) fail(n, line, "bad metric name");
      const family = families.get(name) ?? { name, type: "untyped" as const, help: "", samples: [] };
      if (kind === "TYPE") {
        if (!TYPES.has(rest.trim())) fail(n, line, "unknown type");
        if (sampled.has(name)) fail(n, line, "TYPE after the family's samples");
        family.type = rest.trim() as Family["type"];
      } else family.help = unescapeText(rest, false);
      families.set(name, family);
      return;
    }
    const name = NAME.exec(line)?.[0] ?? fail(n, line, "bad metric name");
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, n, line));
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === "") fail(n, line, "expected a value and an optional timestamp");
    let value: number;
    try {
      value = parseValue(parts[0]!);
    } catch (err) {
      fail(n, line, (err as Error).message);
    }
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail(n, line, "bad timestamp");
    const family = familyOf(name, families) ?? fail(n, line, "a sample of no declared family");
    sampled.add(family.name);
    family.samples.push({ name, labels, value });
  });
  return families;
}
