import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { evalsetLoader } from "../src/runtime/evalset.js";
import { tempDir } from "./helpers/cli.js";

const item = (id: string) => `${JSON.stringify({ id, prompt: "1+1?", expected_answer: "2" })}\n`;

describe("evalsetLoader", () => {
  it("reads the evalset once: a later change to the file does not reach the sweep's grading", async () => {
    const file = path.join(await tempDir("tunix-rt-evalset-"), "eval.jsonl");
    await writeFile(file, item("a") + item("b"));
    const load = evalsetLoader(file, "eval.jsonl");
    const first = await load();
    await writeFile(file, item("c"));
    expect(await load()).toBe(first);
    expect(first.map((i) => i.id)).toEqual(["a", "b"]);
  });

  it("does not keep a failed read: the next call reads again", async () => {
    const file = path.join(await tempDir("tunix-rt-evalset-"), "eval.jsonl");
    const load = evalsetLoader(file, "eval.jsonl");
    await expect(load()).rejects.toThrow(/^eval\.jsonl: cannot read: /);
    await writeFile(file, item("a"));
    expect((await load()).map((i) => i.id)).toEqual(["a"]);
    await rm(file);
  });
});
