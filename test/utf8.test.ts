/**
 * The UTF-8 check against a reference decoder (WHATWG TextDecoder, fatal): whatever the bytes
 * and however they are cut into chunks, the check finds a fault exactly when the decoder
 * refuses them, and the fault's offset is where the longest valid prefix ends.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeUtf8Fault, Utf8Checker, utf8Fault } from "../src/core/utf8.js";

const seed = Number(process.env.FC_SEED ?? 20_261_207);
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const decodes = (bytes: Uint8Array) => {
  try {
    decoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

/** Bytes that are often UTF-8 and often nearly so: encoded text with bytes cut, swapped or inserted. */
const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc
    .tuple(
      fc.string({ unit: "grapheme", maxLength: 20 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.boolean(),
    )
    .map(([text, edits, cut]) => {
      const bytes = Array.from(new TextEncoder().encode(text.replace(/x/g, "\r\n")));
      for (const [at, value] of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
      if (cut && bytes.length > 0) bytes.pop();
      return Uint8Array.from(bytes);
    }),
);

/** Line breaks as universal newlines count them: "\n", "\r\n" or a lone "\r". */
const linesBefore = (bytes: Uint8Array, end: number) =>
  new TextDecoder("latin1").decode(bytes.subarray(0, end)).split(/\r\n|\r|\n/).length;

describe("Utf8Checker", () => {
  it("agrees with a fatal TextDecoder on every input, in any chunks, and names the first bad byte", () => {
    fc.assert(
      fc.property(bytesArb, fc.array(fc.nat(), { maxLength: 4 }), (bytes, cuts) => {
        const fault = utf8Fault(bytes);
        expect(fault === undefined).toBe(decodes(bytes));
        // The same bytes pushed in chunks give the same answer.
        const checker = new Utf8Checker();
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        let from = 0;
        let chunked: ReturnType<typeof utf8Fault>;
        for (const to of [...points, bytes.length]) {
          chunked ??= checker.push(bytes.subarray(from, to));
          from = to;
        }
        chunked ??= checker.end();
        expect(chunked).toEqual(fault);
        if (!fault) return;
        // Everything before the fault decodes; the byte named is the one there, on its line.
        expect(decodes(bytes.subarray(0, fault.offset))).toBe(true);
        expect(fault.byte).toBe(bytes[fault.offset]);
        expect(fault.line).toBe(linesBefore(bytes, fault.offset));
      }),
      { seed, numRuns: 3000 },
    );
  });

  it("refuses overlong forms, surrogates and code points past U+10FFFF, and names them in words", () => {
    for (const bad of [
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xff],
    ]) {
      const bytes = Uint8Array.from([0x61, 0x0a, ...bad]);
      const fault = utf8Fault(bytes);
      expect(fault, bad.join(",")).toMatchObject({ offset: 2, line: 2, byte: bad[0] });
      expect(decodes(bytes)).toBe(false);
    }
    const latin1 = Uint8Array.from([...new TextEncoder().encode('{"p": "caf'), 0xe9, 0x22, 0x7d]);
    const fault = utf8Fault(latin1);
    expect(fault && describeUtf8Fault(fault)).toBe(
      "is not UTF-8 text: byte 0xe9 at byte offset 10 (a sequence cut short); save the file as UTF-8",
    );
    expect(utf8Fault(Uint8Array.from([0x61, 0xe2, 0x82]))?.what).toBe(
      "a sequence cut short by the end of the file",
    );
  });
});
