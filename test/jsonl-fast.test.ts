import { chmod, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { readJsonl } from "../src/runtime/files.js";
import { type JsonlEntry, scanJsonl } from "../src/runtime/jsonl-fast.js";
import { tempDir } from "./helpers/cli.js";

async function scan(file: string, chunkSize?: number): Promise<{ entries: JsonlEntry[]; lines: number }> {
  const entries: JsonlEntry[] = [];
  const lines = await scanJsonl(file, (entry) => entries.push(entry), { chunkSize });
  return { entries, lines };
}

describe("scanJsonl", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await tempDir("tunix-rt-jsonl-fast-");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("yields what readJsonl yields, at every chunk size (lines and UTF-8 split across chunks)", async () => {
    const file = path.join(dir, "a.jsonl");
    const text = [
      '{"a": "héllo wörld ✓ 𝟘𝟙"}',
      "",
      "   ",
      "[1, 2, 3]",
      "{broken",
      '{"crlf": true}\r',
      '"last line without newline ✓"',
    ].join("\n");
    await writeFile(file, text);
    const expected: unknown[] = [];
    for await (const entry of readJsonl(file))
      expected.push(entry.ok ? entry : { line: entry.line, ok: false });
    expect(expected).toHaveLength(5);
    for (const chunkSize of [1, 2, 3, 7, 64, 65536]) {
      const { entries, lines } = await scan(file, chunkSize);
      expect(
        entries.map((e) => (e.ok ? e : { line: e.line, ok: false })),
        `chunk ${chunkSize}`,
      ).toEqual(expected);
      expect(lines).toBe(7);
    }
  });

  it("reports the parse error of a bad line with its line number", async () => {
    const file = path.join(dir, "bad.jsonl");
    await writeFile(file, '{"ok": 1}\n\n{nope}\n');
    const { entries } = await scan(file);
    expect(entries[1]).toMatchObject({ line: 3, ok: false, error: expect.stringMatching(/JSON/) });
  });

  it("skips a byte order mark at the start", async () => {
    const file = path.join(dir, "bom.jsonl");
    await writeFile(file, '\ufeff{"a": 1}\n{"b": 2}\n');
    const { entries } = await scan(file, 3);
    expect(entries).toEqual([
      { line: 1, ok: true, value: { a: 1 } },
      { line: 2, ok: true, value: { b: 2 } },
    ]);
  });

  it("uses the parse function it is given", async () => {
    const file = path.join(dir, "p.jsonl");
    await writeFile(file, "1\n2\n");
    const values: unknown[] = [];
    await scanJsonl(file, (e) => values.push(e.ok && e.value), { parse: (t) => Number(t) * 10 });
    expect(values).toEqual([10, 20]);
  });

  it("reads an empty file as no lines", async () => {
    const file = path.join(dir, "empty.jsonl");
    await writeFile(file, "");
    expect(await scan(file)).toEqual({ entries: [], lines: 0 });
  });

  it("throws InputError naming the file when it cannot be read", async () => {
    const missing = path.join(dir, "absent.jsonl");
    const error = await scan(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(`${missing}: cannot read: no such file or directory`);
    await expect(scan(dir)).rejects.toThrow(/cannot read: is a directory/);
  });

  // Root reads every file whatever its mode: skipped there, and reported as skipped.
  it.skipIf(process.getuid?.() === 0)("throws InputError for a file it may not read", async () => {
    const locked = path.join(dir, "locked.jsonl");
    await writeFile(locked, "{}\n");
    await chmod(locked, 0);
    await expect(scan(locked)).rejects.toThrow(/permission denied/);
  });

  it("lets an error thrown by the visitor through as it is", async () => {
    const file = path.join(dir, "v.jsonl");
    await writeFile(file, "1\n2\n");
    const boom = new Error("boom");
    await expect(
      scanJsonl(file, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });
});
