/**
 * Real W&B sweep files from public repositories (test/fixtures/wandb-corpus, each naming its
 * source in INDEX.md with W&B's own verdict on it: valid, invalid, or not a plain sweep).
 * Every file W&B accepts must import; every file W&B refuses must be refused with a message
 * naming a field of it, or read with a note saying what W&B would refuse; nothing else. The
 * counts are printed, the held-out files apart.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../src/runtime/config-file.js";
import { repoRoot } from "./helpers/cli.js";

const dir = path.join(repoRoot, "test/fixtures/wandb-corpus");
const index = readFileSync(path.join(dir, "INDEX.md"), "utf8");

interface Outcome {
  file: string;
  verdict: "valid" | "invalid" | "other";
  heldOut: boolean;
  imported: boolean;
  notes: string[];
  error?: string;
}

function outcomes(): Outcome[] {
  return readdirSync(dir)
    .filter((f) => /^\d\d-/.test(f))
    .sort()
    .map((file) => {
      const row = index.split("\n").find((l) => l.includes(`\`${file}\``));
      if (!row) throw new Error(`${file}: not in INDEX.md`);
      const cells = row.split(" | ");
      const said = cells[3] ?? "";
      const verdict = said.startsWith("valid") ? "valid" : said.startsWith("invalid") ? "invalid" : "other";
      const base = { file, verdict, heldOut: /held-out/.test(cells[4] ?? "") } as const;
      try {
        const { notes } = parseConfigText(readFileSync(path.join(dir, file), "utf8"), file);
        return { ...base, imported: true, notes };
      } catch (error) {
        return { ...base, imported: false, notes: [], error: (error as Error).message.split("\n")[0] };
      }
    });
}

describe("60 real W&B sweep files", () => {
  const all = outcomes();

  it("imports every file W&B accepts (target: 90% of them), each translation with its notes", () => {
    for (const heldOut of [false, true]) {
      const set = all.filter((o) => o.heldOut === heldOut);
      const count = (v: Outcome["verdict"], imported: boolean) =>
        set.filter((o) => o.verdict === v && o.imported === imported).length;
      console.log(
        `${heldOut ? "held-out" : "development"} (${set.length} files): valid ${count("valid", true)} imported / ${count("valid", false)} refused; invalid ${count("invalid", false)} refused / ${count("invalid", true)} read with a note; not a plain sweep ${count("other", false)} refused / ${count("other", true)} read`,
      );
    }
    const valid = all.filter((o) => o.verdict === "valid");
    const refused = valid.filter((o) => !o.imported).map((o) => `${o.file}: ${o.error}`);
    expect(refused).toEqual([]);
    expect(valid.length).toBeGreaterThan(30);
  });

  it("refuses a file W&B refuses with a message naming the field, or reads it saying what W&B would refuse", () => {
    for (const o of all.filter((x) => x.verdict === "invalid")) {
      if (o.imported)
        expect(o.notes.join("\n"), o.file).toMatch(
          /W&B's loader \(PyYAML\) reads them as text and refuses the file/,
        );
      else expect(o.error, o.file).toMatch(new RegExp(`^${o.file.replace(/\./g, "\\.")}: [a-z_][\\w.-]*: `));
    }
  });

  it("names what a file that is no plain W&B sweep is, or reads the sweep it holds under sweep:", () => {
    for (const o of all.filter((x) => x.verdict === "other")) {
      if (o.imported)
        expect(o.notes.join("\n"), o.file).toMatch(/sweep: the W&B sweep under this key is read/);
      else expect(o.error, o.file).toMatch(/: (tune|scheduler|hydra\.sweeper|config|method|search_space): /);
    }
  });
});
