import { describe, expect, test } from "bun:test";
import { spellErrorCode } from "../../src/roles/ocpp/error-codes.ts";
import { readMeterValues, sessionKwh } from "../../src/roles/ocpp/meter.ts";

const at = "2026-01-01T10:00:00Z";

describe("reading OCPP meter values", () => {
  test("reads a 1.6 register given as a string in Wh, the default unit and measurand", () => {
    expect(readMeterValues([{ timestamp: at, sampledValue: [{ value: "12345" }] }])).toEqual([
      { at: new Date(at), energyWh: 12345, powerW: undefined, context: undefined },
    ]);
  });

  test("converts kWh and kW, and keeps the context", () => {
    const [r] = readMeterValues([
      {
        timestamp: at,
        sampledValue: [
          { value: "7.4", measurand: "Power.Active.Import", unit: "kW" },
          { value: "12.5", unit: "kWh", context: "Transaction.Begin", measurand: "Energy.Active.Import.Register" },
        ],
      },
    ]);
    expect([r?.energyWh, r?.powerW, r?.context]).toEqual([12_500, 7_400, "Transaction.Begin"]);
  });

  test("reads 2.0.1 numbers with a unit and a power-of-ten multiplier", () => {
    const [r] = readMeterValues([{ timestamp: at, sampledValue: [{ value: 1.5, unitOfMeasure: { unit: "kWh", multiplier: 1 } }] }]);
    expect(r?.energyWh).toBe(15_000);
  });

  test("sums the phases when there is no total, and prefers the total when there is one", () => {
    const phases = [
      { value: "100", phase: "L1" },
      { value: "200", phase: "L2" },
      { value: "300", phase: "L3" },
    ];
    expect(readMeterValues([{ timestamp: at, sampledValue: phases }])[0]?.energyWh).toBe(600);
    expect(readMeterValues([{ timestamp: at, sampledValue: [...phases, { value: "650" }] }])[0]?.energyWh).toBe(650);
  });

  test("leaves out what is not a reading: signed data, unknown units, words, bad times", () => {
    expect(
      readMeterValues([
        { timestamp: at, sampledValue: [{ value: "abc" }, { value: "5", unit: "Celsius" }, { value: "9", format: "SignedData" }] },
        { timestamp: "yesterday", sampledValue: [{ value: "5" }] },
      ]),
    ).toEqual([]);
  });

  test("a session's energy is the register less its start, never negative", () => {
    expect(sessionKwh(132_345, 120_500)).toBe(11.845);
    expect(sessionKwh(100, 200)).toBe(0);
  });
});

describe("CallError codes per version", () => {
  test("1.6 has no RpcFrameworkError and spells FormationViolation", () => {
    expect(JSON.parse(spellErrorCode('[4,"-1","RpcFrameworkError","Message must be a JSON structure",{}]', "ocpp1.6"))[2]).toBe("FormationViolation");
    expect(JSON.parse(spellErrorCode('[4,"1","FormatViolation","x",{}]', "ocpp1.6"))[2]).toBe("FormationViolation");
  });

  test("2.0.1 spells OccurrenceConstraintViolation with two r's; other frames are untouched", () => {
    expect(JSON.parse(spellErrorCode('[4,"1","OccurenceConstraintViolation","x",{}]', "ocpp2.0.1"))[2]).toBe("OccurrenceConstraintViolation");
    expect(spellErrorCode('[3,"1",{}]', "ocpp2.0.1")).toBe('[3,"1",{}]');
    expect(spellErrorCode('[4,"1","NotImplemented","x",{}]', "ocpp2.0.1")).toBe('[4,"1","NotImplemented","x",{}]');
  });
});
