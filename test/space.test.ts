import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ParamSpec } from "../src/core/config/config.js";
import {
  cleanNumber,
  decimalPlaces,
  fromUnit,
  isInSpace,
  paramsFromUnits,
  paramsInSpace,
  paramsKey,
  searchSpaceOf,
  toUnit,
} from "../src/core/config/space.js";

const specs: ParamSpec[] = [
  { type: "uniform", min: -1, max: 2 },
  { type: "loguniform", min: 1e-6, max: 10 },
  { type: "randint", min: -2, max: 7 },
  { type: "quniform", min: 0.05, max: 0.95, q: 0.1 },
  { type: "quniform", min: 0, max: 1, q: 0.25 },
  { type: "qloguniform", min: 8, max: 1024, q: 8 },
  { type: "choice", values: ["a", 2, false] },
];
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("fromUnit / toUnit / isInSpace", () => {
  it("maps every unit value into the space", () => {
    for (const spec of specs) {
      fc.assert(fc.property(unit, (u) => isInSpace(spec, fromUnit(spec, u))));
    }
  });

  it("gives values back through the inverse", () => {
    for (const spec of specs) {
      fc.assert(
        fc.property(unit, (u) => {
          const value = fromUnit(spec, u);
          const back = toUnit(spec, value);
          expect(back).toBeGreaterThanOrEqual(0);
          expect(back).toBeLessThan(1);
          const again = fromUnit(spec, back as number);
          if (typeof value === "number" && (spec.type === "uniform" || spec.type === "loguniform")) {
            expect(Math.abs((again as number) - value)).toBeLessThanOrEqual(Math.abs(value) * 1e-9);
          } else {
            expect(again).toBe(value);
          }
        }),
      );
    }
  });

  it("maps the ends as documented", () => {
    expect(fromUnit({ type: "uniform", min: 0, max: 0.1 }, 0)).toBe(0);
    expect(fromUnit({ type: "loguniform", min: 1e-5, max: 1e-4 }, 0)).toBe(1e-5);
    expect(fromUnit({ type: "loguniform", min: 1e-5, max: 1e-4 }, 0.5)).toBe(0.0000316227766);
    expect(fromUnit({ type: "randint", min: 1, max: 3 }, 0)).toBe(1);
    expect(fromUnit({ type: "randint", min: 1, max: 3 }, 0.999999)).toBe(3);
    expect(fromUnit({ type: "randint", min: 1, max: 3 }, 1)).toBe(3);
    expect(fromUnit({ type: "choice", values: [1, 2, 4] }, 0.34)).toBe(2);
    expect(fromUnit({ type: "choice", values: [1, 2, 4] }, 0.9999)).toBe(4);
    // Rounded to the nearest multiple, clamped to the multiples within [min, max].
    expect(fromUnit({ type: "quniform", min: 0.05, max: 0.95, q: 0.1 }, 0)).toBe(0.1);
    expect(fromUnit({ type: "quniform", min: 0.05, max: 0.95, q: 0.1 }, 0.9999)).toBe(0.9);
    expect(fromUnit({ type: "qloguniform", min: 8, max: 1024, q: 8 }, 0)).toBe(8);
  });

  it("writes q multiples cleanly (no 0.30000000000000004)", () => {
    const spec: ParamSpec = { type: "quniform", min: 0, max: 1, q: 0.1 };
    expect(fromUnit(spec, 0.3)).toBe(0.3);
    expect(String(fromUnit(spec, 0.3))).toBe("0.3");
    expect(String(fromUnit({ type: "quniform", min: 0, max: 1, q: 0.07 }, 0.21))).toBe("0.21");
    fc.assert(fc.property(unit, (u) => decimalPlaces(fromUnit(spec, u) as number) <= 1));
  });

  it("rounds continuous values to 10 significant digits", () => {
    expect(cleanNumber(0.07500000000000001)).toBe(0.075);
    expect(cleanNumber(1.23456789012345e-5)).toBe(0.0000123456789);
    expect(cleanNumber(0)).toBe(0);
    fc.assert(
      fc.property(unit, (u) => {
        const v = fromUnit({ type: "uniform", min: 0, max: 0.1 }, u) as number;
        return Number(v.toPrecision(10)) === v;
      }),
    );
  });

  it("counts decimal places as JavaScript writes numbers", () => {
    expect(decimalPlaces(0.05)).toBe(2);
    expect(decimalPlaces(3)).toBe(0);
    expect(decimalPlaces(2.5e-7)).toBe(8);
    expect(decimalPlaces(1e-7)).toBe(7);
    expect(decimalPlaces(1e21)).toBe(0);
  });

  it("tells values in the space from the rest", () => {
    expect(isInSpace({ type: "uniform", min: 0, max: 1 }, 1)).toBe(true);
    expect(isInSpace({ type: "uniform", min: 0, max: 1 }, 1.0001)).toBe(false);
    expect(isInSpace({ type: "uniform", min: 0, max: 1 }, "0.5")).toBe(false);
    expect(isInSpace({ type: "uniform", min: 0, max: 1 }, Number.NaN)).toBe(false);
    expect(isInSpace({ type: "randint", min: 0, max: 3 }, 1.5)).toBe(false);
    expect(isInSpace({ type: "quniform", min: 0, max: 1, q: 0.1 }, 0.30000000000000004)).toBe(true);
    expect(isInSpace({ type: "quniform", min: 0, max: 1, q: 0.1 }, 0.35)).toBe(false);
    expect(isInSpace({ type: "choice", values: [1, "1"] }, "1")).toBe(true);
    expect(isInSpace({ type: "choice", values: [1, 2] }, true)).toBe(false);
    expect(toUnit({ type: "choice", values: [1, 2] }, 3)).toBeUndefined();
  });
});

describe("params", () => {
  const space = searchSpaceOf({
    b: { type: "choice", values: [1, 2] },
    a: { type: "uniform", min: 0, max: 1 },
  });

  it("keeps the config's key order", () => {
    expect(space.map((p) => p.name)).toEqual(["b", "a"]);
    expect(Object.keys(paramsFromUnits(space, [0.9, 0.5]))).toEqual(["b", "a"]);
    expect(paramsFromUnits(space, [0.9, 0.5])).toEqual({ b: 2, a: 0.5 });
  });

  it("keys params by value, ignoring key order and extra keys", () => {
    expect(paramsKey(space, { a: 0.5, b: 2, extra: 1 })).toBe(paramsKey(space, { b: 2, a: 0.5 }));
    expect(paramsKey(space, { b: 2 })).not.toBe(paramsKey(space, { b: 2, a: null }));
    expect(paramsInSpace(space, { b: 2, a: 0.5, c: "x" })).toBe(true);
    expect(paramsInSpace(space, { b: 3, a: 0.5 })).toBe(false);
    expect(paramsInSpace(space, { b: 2 })).toBe(false);
  });
});
