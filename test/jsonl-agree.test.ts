import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonlEntries } from "../src/core/evidence/verify.js";
import { readJsonl } from "../src/runtime/files.js";

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
