import { describe, expect, test } from "bun:test";
import { parsePrometheusText } from "../support/prometheus-text.ts";

const gauge = (value: string) => `# TYPE g gauge\ng ${value}\n`;
const sampleOf = (value: string) => parsePrometheusText(gauge(value)).get("g")!.samples[0]!.value;

describe("the Prometheus text parser's sample values", () => {
  test("NaN and infinities in any case, as Go's ParseFloat reads them (prom-client writes 'Nan')", () => {
    for (const nan of ["NaN", "Nan", "nan", "NAN"]) expect(sampleOf(nan)).toBeNaN();
    for (const inf of ["+Inf", "Inf", "inf", "+Infinity", "INF"]) expect(sampleOf(inf)).toBe(Number.POSITIVE_INFINITY);
    for (const inf of ["-Inf", "-inf", "-Infinity"]) expect(sampleOf(inf)).toBe(Number.NEGATIVE_INFINITY);
    expect(sampleOf("-1.5e3")).toBe(-1500);
  });

  test("anything else that is not a number is refused", () => {
    for (const bad of ["Nann", "infin", "++Inf", "1,5", "abc", "0x10"]) expect(() => sampleOf(bad)).toThrow(/not a number/);
  });
});
