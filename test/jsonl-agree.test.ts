import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonlEntries } from "../src/core/evidence/verify.js";
import { BoundedLineSplitter, readJsonl, type SplitLine } from "../src/runtime/files.js";

describe("JSONL in a folder and in a zip", () => {
  it("reads the same lines the same way: a byte-order mark, NaN, blank and bad lines", async () => {
    const text = '\uFEFF{"id": 1, "score": NaN}\n\n{"id": 2, "x": Infinity}\r\nnot json\n\uFEFF{"id": 3}\n';
    const dir = await mkdtemp(path.join(os.tmpdir(), "jsonl-agree-"));
    const file = path.join(dir, "rows.jsonl");
    await writeFile(file, text);
    const streamed = [];
    for await (const entry of readJsonl(file)) streamed.push(entry);
    const inMemory = [...jsonlEntries(text)];
    const shape = (e: { line: number; ok: boolean; value?: unknown }) => ({
      line: e.line,
      ok: e.ok,
      value: e.value,
    });
    expect(inMemory.map(shape)).toEqual(streamed.map(shape));
    // The first line's mark is dropped; one inside the file is not valid JSON.
    expect(inMemory.map((e) => e.ok)).toEqual([true, true, false, false]);
    expect(inMemory[0]?.ok && (inMemory[0].value as { score: number }).score).toBeNaN();
  });
});

describe("the bounded line splitter", () => {
  /** The lines of a whole text, split at once: what any chunking must give. */
  function reference(text: string, maxLine: number): SplitLine[] {
    if (text === "") return [];
    const lines = text.split(/\r\n|\r|\n/);
    if (/[\r\n]$/.test(text)) lines.pop();
    return lines.map((l) => (l.length > maxLine ? { tooLong: true } : { text: l }));
  }

  it("splits any text cut into any chunks (a CRLF across a cut, empty chunks) as the whole text", () => {
    const piece = fc.constantFrom("a", "bc", "é", "\r", "\n", "\r\n", "\n\r", "xyzxyzxyz");
    const text = fc.array(piece, { maxLength: 40 }).map((p) => p.join(""));
    fc.assert(
      fc.property(
        text,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 12 }),
        (t, cuts, maxLine) => {
          const at = [...new Set(cuts.map((c) => c % (t.length + 1)))].sort((a, b) => a - b);
          // Cuts may repeat a place (an empty chunk between them) and fall anywhere.
          const chunks: string[] = [];
          let from = 0;
          for (const c of [...at, ...cuts.slice(0, 2).map(() => at[0] ?? 0)].sort((a, b) => a - b)) {
            chunks.push(t.slice(from, Math.max(from, c)));
            from = Math.max(from, c);
          }
          chunks.push(t.slice(from));
          const splitter = new BoundedLineSplitter(maxLine);
          const got = [...chunks.flatMap((c) => splitter.push(c)), ...splitter.end()];
          expect(got).toEqual(reference(t, maxLine));
        },
      ),
      { seed: 20_261_207, numRuns: 3000 },
    );
  });
});
