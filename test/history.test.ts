import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { readHistory } from "../src/runtime/history.js";
import { tempDir } from "./helpers/cli.js";

const line = (record: Record<string, unknown>) => `${JSON.stringify(record)}\n`;
const ok = (i: number, extra: Record<string, unknown> = {}) => ({
  trial_id: `t${String(i).padStart(4, "0")}`,
  params: { lr: 0.001 * (i + 1), bs: 2 },
  status: "completed",
  primary_score: 0.5,
  ...extra,
});

async function historyFile(text: string, name = "history.jsonl") {
  const dir = await tempDir("tunix-rt-history-");
  await writeFile(path.join(dir, name), text);
  return { dir, name };
}

async function problemOf(text: string): Promise<string> {
  const { dir, name } = await historyFile(text);
  try {
    await readHistory(name, { cwd: dir });
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected readHistory to fail");
}

describe("readHistory", () => {
  it("reads JSONL records, skipping blank lines and keeping extra fields", async () => {
    const text = `${line(ok(0, { sweep_id: "s", exit_code: 0 }))}\n   \n${line(ok(1, { status: "failed", primary_score: null }))}${line(ok(2, { status: "running", primary_score: null, budget: 3 }))}`;
    const { dir, name } = await historyFile(text);
    const records = await readHistory(name, { cwd: dir });
    expect(records.map((r) => r.trial_id)).toEqual(["t0000", "t0001", "t0002"]);
    expect(records[0]?.exit_code).toBe(0);
    expect(records[2]?.budget).toBe(3);
  });

  it("reads a JSON array of records, and an empty file as no trials", async () => {
    const array = await historyFile(JSON.stringify([ok(0), ok(1)], null, 2), "history.json");
    expect((await readHistory(array.name, { cwd: array.dir })).length).toBe(2);
    const empty = await historyFile("\n\n");
    expect(await readHistory(empty.name, { cwd: empty.dir })).toEqual([]);
  });

  it("names the file, line, field, bad value and what was expected", async () => {
    expect(await problemOf(`${line(ok(0))}{"trial_id": 1`)).toMatch(/^history\.jsonl:2: not valid JSON: /);
    expect(await problemOf(line(ok(0, { status: "done" })))).toBe(
      'history.jsonl:1: status: got "done"; expected one of completed, failed, timeout, pruned, running',
    );
    expect(await problemOf(`${line(ok(0))}${line(ok(1, { primary_score: "0.5" }))}`)).toBe(
      'history.jsonl:2: primary_score: got "0.5"; expected a number or null',
    );
    expect(await problemOf(line({ ...ok(0), primary_score: undefined }))).toBe(
      "history.jsonl:1: primary_score: missing; expected a number or null",
    );
    expect(await problemOf(line(ok(0, { trial_id: "" })))).toBe(
      'history.jsonl:1: trial_id: got ""; expected a non-empty string',
    );
    expect(await problemOf(line(ok(0, { params: [1] })))).toBe(
      "history.jsonl:1: params: got [1]; expected an object of parameter values",
    );
    expect(await problemOf(line(ok(0, { params: { lr: { x: 1 } } })))).toBe(
      'history.jsonl:1: params.lr: got {"x":1}; expected a number, string, boolean or null',
    );
    expect(await problemOf("[1]")).toBe(
      "history.jsonl: [0]: got 1; expected a trial record object {trial_id, params, status, primary_score}",
    );
    expect(await problemOf(`${line(ok(0))}${line(ok(1))}${line(ok(0))}`)).toBe(
      'history.jsonl:3: trial_id: got "t0000" again (first at line 1); expected each trial once',
    );
    expect(await problemOf(`${line(ok(0, { status: 1 }))}${line(ok(1, { status: 2 }))}`)).toMatch(
      / \(and 1 more problem\)$/,
    );
  });

  it("says when the file cannot be read", async () => {
    const dir = await tempDir("tunix-rt-history-");
    await expect(readHistory("missing.jsonl", { cwd: dir })).rejects.toThrow(
      "missing.jsonl: cannot read history: no such file or directory",
    );
    await expect(readHistory(".", { cwd: dir })).rejects.toThrow(InputError);
  });

  it("reads 10,000 records", async () => {
    const text = Array.from({ length: 10_000 }, (_, i) => line(ok(i))).join("");
    const { dir, name } = await historyFile(text);
    const records = await readHistory(name, { cwd: dir });
    expect(records.length).toBe(10_000);
    expect(records[9999]?.trial_id).toBe("t9999");
  });
});
