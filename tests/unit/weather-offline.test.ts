import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OfflineProvider, setOfflineTemperature } from "../../src/roles/weather/providers/offline.ts";
import { ReadFailure } from "../../src/roles/weather/providers/provider.ts";

const dir = mkdtempSync(join(tmpdir(), "evnet-offline-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fileWith(content: string): string {
  const file = join(dir, `temperatures-${n++}.json`);
  writeFileSync(file, content);
  return file;
}

async function failureOf(promise: Promise<unknown>): Promise<ReadFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ReadFailure) return err;
    throw err;
  }
  throw new Error("expected the read to fail");
}

describe("the offline provider", () => {
  test("reads a city's temperature from the file", async () => {
    const provider = new OfflineProvider(fileWith('{"Madrid": 18.5, "Oslo": -4}'));
    const reading = await provider.read("Oslo");
    expect(reading).toMatchObject({ city: "Oslo", temperatureC: -4, source: "offline" });
    expect(reading.observedAt).toBeInstanceOf(Date);
  });

  test("finds a city whatever its case or spacing", async () => {
    const provider = new OfflineProvider(fileWith('{"San Sebastián": 9}'));
    expect((await provider.read("  san   sebastián ")).temperatureC).toBe(9);
  });

  test("sees an edit at the next read", async () => {
    const file = fileWith('{"Oslo": -4}');
    const provider = new OfflineProvider(file);
    expect((await provider.read("Oslo")).temperatureC).toBe(-4);
    writeFileSync(file, '{"Oslo": 3}');
    expect((await provider.read("Oslo")).temperatureC).toBe(3);
  });

  test("reports a city that is not in the file as not found", async () => {
    const failure = await failureOf(new OfflineProvider(fileWith('{"Madrid": 18}')).read("Atlantis"));
    expect(failure.kind).toBe("city_not_found");
    expect(failure.message).toContain("Atlantis");
  });

  test("reports a file that is not JSON as malformed", async () => {
    expect((await failureOf(new OfflineProvider(fileWith('{"Madrid": 18')).read("Madrid"))).kind).toBe("malformed");
  });

  test("reports a temperature that is not a number as malformed, naming the city", async () => {
    const failure = await failureOf(new OfflineProvider(fileWith('{"Madrid": "warm"}')).read("Madrid"));
    expect(failure.kind).toBe("malformed");
    expect(failure.message).toContain("Madrid");
  });

  test("reports a file that is an array, or missing, as malformed", async () => {
    expect((await failureOf(new OfflineProvider(fileWith("[18]")).read("Madrid"))).kind).toBe("malformed");
    const missing = await failureOf(new OfflineProvider(join(dir, "none.json")).read("Madrid"));
    expect(missing.kind).toBe("malformed");
    expect(missing.message).toContain("does not exist");
  });
});

describe("setting an offline temperature", () => {
  test("updates a city keeping the spelling already in the file", () => {
    const file = fileWith('{"Oslo": -4, "Madrid": 18}');
    setOfflineTemperature(file, "OSLO", 2.5);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ Oslo: 2.5, Madrid: 18 });
  });

  test("adds a new city, and creates the file when there is none", () => {
    const file = join(dir, "new", "temperatures.json");
    setOfflineTemperature(file, " Tromsø ", -11);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ Tromsø: -11 });
  });

  test("refuses a temperature that is not a number", () => {
    expect(() => setOfflineTemperature(fileWith("{}"), "Oslo", Number.NaN)).toThrow();
  });
});
