import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addToLocationsFile, parseLocationsFile, removeFromLocationsFile, WatchList } from "../../src/roles/weather/watch-list.ts";

const dir = mkdtempSync(join(tmpdir(), "evnet-locations-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the watch list", () => {
  test("watches each city once, whichever sources name it and however they spell it", () => {
    const watch = new WatchList();
    watch.set("cp", ["Madrid", "madrid ", "Oslo"]);
    watch.set("operator", ["OSLO"]);
    watch.set("file", ["Helsinki"]);
    expect(watch.cities()).toEqual([
      { city: "Madrid", sources: ["cp"] },
      { city: "Oslo", sources: ["cp", "operator"] },
      { city: "Helsinki", sources: ["file"] },
    ]);
  });

  test("leaves out, and returns, names that cannot be a city: control characters or over 100 characters", () => {
    const watch = new WatchList();
    const refused = watch.set("file", ["Oslo", "Ber\u0000gen", "x".repeat(101), "San\tSebastián"]);
    expect(refused).toEqual(["Ber\u0000gen", "x".repeat(101)]);
    expect(watch.cities().map((c) => c.city)).toEqual(["Oslo", "San Sebastián"]);
  });

  test("adds a city from the menu unless it is watched already", () => {
    const watch = new WatchList();
    watch.set("cp", ["Madrid"]);
    expect(watch.addFromMenu("MADRID")).toBe(false);
    expect(watch.addFromMenu("Tromsø")).toBe(true);
    expect(watch.cities().map((c) => c.city)).toEqual(["Madrid", "Tromsø"]);
  });

  test("removes only what the menu added", () => {
    const watch = new WatchList();
    watch.set("cp", ["Madrid"]);
    watch.addFromMenu("Tromsø");
    expect(watch.removeFromMenu("madrid")).toBe(false);
    expect(watch.removeFromMenu("tromsø")).toBe(true);
    expect(watch.cities().map((c) => c.city)).toEqual(["Madrid"]);
  });

  test("drops a CP's city when the CP is gone", () => {
    const watch = new WatchList();
    watch.set("cp", ["Madrid", "Oslo"]);
    watch.set("cp", ["Madrid"]);
    expect(watch.has("Oslo")).toBe(false);
  });
});

describe("a locations file", () => {
  test("has one city per line, with comments and blank lines ignored", () => {
    expect(parseLocationsFile("# watched cities\nOslo\n\n  Helsinki  # the capital\r\n#Madrid\n")).toEqual(["Oslo", "Helsinki"]);
  });

  test("gets a city appended once, and loses it again without touching the rest", () => {
    const file = join(dir, "locations.txt");
    writeFileSync(file, "# mine\nOslo");
    expect(addToLocationsFile(file, "Helsinki")).toBe(true);
    expect(addToLocationsFile(file, "helsinki")).toBe(false);
    expect(readFileSync(file, "utf8")).toBe("# mine\nOslo\nHelsinki\n");
    expect(removeFromLocationsFile(file, "OSLO")).toBe(true);
    expect(parseLocationsFile(readFileSync(file, "utf8"))).toEqual(["Helsinki"]);
    expect(readFileSync(file, "utf8")).toContain("# mine");
    expect(removeFromLocationsFile(file, "Oslo")).toBe(false);
  });

  test("is created with a header when a city is added and there was none", () => {
    const file = join(dir, "fresh.txt");
    addToLocationsFile(file, "Oslo");
    expect(parseLocationsFile(readFileSync(file, "utf8"))).toEqual(["Oslo"]);
  });
});
