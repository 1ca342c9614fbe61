/**
 * GitHub's job summary limit is 1 MiB per step in bytes (the runner compares the size of the
 * step's GITHUB_STEP_SUMMARY file with 1024 * 1024): summaries are clipped by UTF-8 bytes,
 * never in the middle of a character, with the "clipped" line inside the limit, and a step
 * that appends several summaries never goes over the limit in all.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeSummary } from "../../src/actions/shared/step.js";
import type { Problem } from "../../src/core/errors.js";
import { clipToBytes, maxSummaryBytes, verifySummary } from "../../src/github/summary.js";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");
/** Whether the text decodes back from its bytes unchanged (no broken character, no U+FFFD, no lone surrogate). */
const wellFormed = (s: string) =>
  !s.includes("\uFFFD") &&
  Buffer.from(s, "utf8").toString("utf8") === s &&
  !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));

describe("clipToBytes", () => {
  it("keeps a text within the limit as it is", () => {
    expect(clipToBytes("héllo 😀", 100)).toBe("héllo 😀");
    expect(clipToBytes("ab", 2)).toBe("ab");
  });

  it("never splits a 2-, 3- or 4-byte character, at any limit, and ends with the note inside the limit", () => {
    const note = "\n(clipped)\n";
    const text = "é漢😀a".repeat(40); // 2 + 3 + 4 + 1 bytes per round
    for (let limit = bytes(note); limit < bytes(text); limit++) {
      const clipped = clipToBytes(text, limit, note);
      expect(bytes(clipped), `limit ${limit}`).toBeLessThanOrEqual(limit);
      expect(clipped.endsWith(note)).toBe(true);
      expect(wellFormed(clipped), `limit ${limit}`).toBe(true);
      const kept = clipped.slice(0, -note.length);
      expect(text.startsWith(kept)).toBe(true);
      // As much as fits: the next character would not have.
      const next = text.slice(kept.length).codePointAt(0) as number;
      expect(bytes(kept) + bytes(String.fromCodePoint(next)) + bytes(note)).toBeGreaterThan(limit);
    }
  });

  it("a limit smaller than the note gives nothing rather than a broken note", () => {
    expect(clipToBytes("x".repeat(50), 3, "\n(clipped)\n")).toBe("");
  });
});

describe("summaries over 1 MiB of multi-byte text", () => {
  it("are clipped to 1 MiB in bytes, not in characters, saying so within the limit", () => {
    // 12,000 problems of 100 three-byte characters: about 3.6 MB, under a million characters
    // per 1 MiB of bytes, so a clip by characters would leave it about 3 MB.
    const huge: Problem[] = Array.from({ length: 12_000 }, (_, i) => ({
      file: "f",
      line: i,
      path: "p",
      message: "漢".repeat(100),
    }));
    const md = verifySummary(huge, { dir: "d", valid: false });
    expect(bytes(md)).toBeLessThanOrEqual(maxSummaryBytes);
    expect(bytes(md)).toBeGreaterThan(maxSummaryBytes - 4);
    expect(md).toMatch(/\(summary clipped: GitHub takes at most 1 MiB per step\)\n$/);
    expect(wellFormed(md)).toBe(true);
  });

  it("maxSummaryBytes is GitHub's 1 MiB", () => {
    expect(maxSummaryBytes).toBe(1_048_576);
  });
});

describe("writeSummary: one step's summaries together stay within 1 MiB", () => {
  let dir: string;
  let file: string;
  const saved = process.env.GITHUB_STEP_SUMMARY;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tunix-rt-summary-"));
    file = path.join(dir, "step_summary");
    await writeFile(file, "");
    process.env.GITHUB_STEP_SUMMARY = file;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it("a second summary gets only the room the first left, clipped on a character boundary", async () => {
    const first = `${"é".repeat(300_000)}\n`; // 600,001 bytes
    await writeSummary(first);
    await writeSummary("😀".repeat(200_000)); // 800,000 bytes: more than is left
    const size = (await stat(file)).size;
    expect(size).toBeLessThanOrEqual(maxSummaryBytes);
    const text = await readFile(file, "utf8");
    expect(wellFormed(text)).toBe(true);
    expect(text.startsWith(first)).toBe(true);
    expect(text).toContain("(summary clipped: GitHub takes at most 1 MiB per step)");
  });

  it("writes nothing more once the step's summary is full", async () => {
    await writeFile(file, "x".repeat(maxSummaryBytes - 5));
    await writeSummary("more text than fits");
    expect((await stat(file)).size).toBe(maxSummaryBytes - 5);
  });
});
