/**
 * Every number recomputable, every derived file drawn again: edits that only the derived
 * files or other trials' scores could tell, made after real sweeps of the example trainer
 * under each rule the recommendation knows (best_observed, model, and repeats_mean after a
 * re-evaluation). Each edit fails `tunix-rt verify` on the folder, and on the zip with its
 * MANIFEST.json recomputed (so MANIFEST cannot be what catches it).
 */
import { createHash } from "node:crypto";
import { cp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArchivePlan } from "../src/core/evidence/archive.js";
import { zipBytes } from "../src/runtime/archive-write.js";
import { readZipFile } from "../src/runtime/zip-read.js";
import { runCli } from "./helpers/cli.js";
import { exampleRepo } from "./helpers/example-repo.js";

/** The three rules and the sweep config that gets each. */
const rules = {
  best_observed: (t: string) => t.replace("num_samples: 8", "num_samples: 6\nrecommend: best_observed"),
  model: (t: string) => t.replace("num_samples: 8", "num_samples: 6\nrecommend: model"),
  repeats_mean: (t: string) =>
    t.replace(
      "num_samples: 8",
      "num_samples: 6\nreevaluate: {top_k: 1, repeats: 1}\nrecommend: best_observed",
    ),
} as const;
type Rule = keyof typeof rules;

const evidence = "submission_runs/example_v1";
const swept = new Map<Rule, { repo: string; zip: string }>();

beforeAll(async () => {
  for (const rule of Object.keys(rules) as Rule[]) {
    const repo = await exampleRepo({ git: true, sweepYaml: rules[rule] });
    const run = await runCli(["sweep", "--config", "training/sweep.yaml"], { cwd: repo });
    expect(run.code, run.stderr).toBe(0);
    const best = JSON.parse(await readFile(path.join(repo, evidence, "best_params.json"), "utf8"));
    expect(best.recommendation.rule).toBe(rule);
    const zip = run.stdout.match(/^zip: (.*)$/m)?.[1] as string;
    swept.set(rule, { repo, zip: path.join(repo, zip) });
  }
}, 120_000);

afterAll(async () => {
  for (const { repo } of swept.values()) await rm(repo, { recursive: true, force: true });
});

/** An edit of the evidence: the files it changes, given their text, by name in the folder. */
type Edit = (files: Map<string, string>, bestId: string) => void;

const lines = (text: string) => text.split("\n").filter(Boolean);
const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");

/** A scored trial that is not the best. */
function otherTrial(files: Map<string, string>, bestId: string): Record<string, unknown> {
  const trials = lines(files.get("trials.jsonl") as string).map((l) => JSON.parse(l));
  return trials.find((t) => t.trial_id !== bestId && t.status === "completed" && t.repeat_of === undefined);
}

const edits: Record<string, { edit: Edit; expect: RegExp; also?: RegExp }> = {
  "a non-best trial's score and params in trials.jsonl": {
    edit: (files, bestId) => {
      const other = otherTrial(files, bestId);
      const trials = lines(files.get("trials.jsonl") as string).map((l) => JSON.parse(l));
      const t = trials.find((x) => x.trial_id === other.trial_id);
      t.primary_score = Math.max(0, (t.primary_score as number) - 0.05);
      t.params.learning_rate = 0.0123;
      files.set("trials.jsonl", jsonl(trials));
    },
    expect: /trials\.jsonl:\d+: primary_score: got .*; grades\.jsonl line \d+ gives/,
    // The params: not what the trial's command ran.
    also: /trials\.jsonl:\d+: params: .* is not what t\d+ ran: argument \d+ ran "[^"]+"; the record's learning_rate gives "0\.0123"/,
  },
  "one row of a non-best trial (its grade in grades.jsonl)": {
    edit: (files, bestId) => {
      const other = otherTrial(files, bestId);
      const grades = lines(files.get("grades.jsonl") as string).map((l) => JSON.parse(l));
      const g = grades.find((x) => x.trial_id === other.trial_id);
      const i = (g.grades as string).indexOf("0");
      g.grades = `${g.grades.slice(0, i)}1${g.grades.slice(i + 1)}`;
      files.set("grades.jsonl", jsonl(grades));
    },
    expect: /trials\.jsonl:\d+: primary_score: got .*; grades\.jsonl line \d+ gives/,
  },
  "leaderboard.md": {
    edit: (files) => {
      files.set("leaderboard.md", (files.get("leaderboard.md") as string).replace("| 2 |", "| 1 |"));
    },
    expect: /leaderboard\.md:\d+: is not the file drawn again from trials\.jsonl and the sweep config/,
  },
  "one chart": {
    edit: (files) => {
      files.set("charts/history.svg", (files.get("charts/history.svg") as string).replace('r="4"', 'r="9"'));
    },
    expect: /charts\/history\.svg:1: is not the file drawn again/,
  },
};

/** The evidence folder's files that an edit may touch, by name. */
const touched = ["trials.jsonl", "grades.jsonl", "leaderboard.md", "charts/history.svg"];

// Concurrent: each case edits a copy of its own (the sweeps run once, in beforeAll).
describe.concurrent("tampering that only recomputation can catch", () => {
  for (const rule of Object.keys(rules) as Rule[]) {
    for (const [index, [what, { edit, expect: expected, also }]] of Object.entries(edits).entries()) {
      it(`${rule}: ${what} fails verify, on the folder and on the zip`, async () => {
        const { repo, zip } = swept.get(rule) as { repo: string; zip: string };
        const bestId = JSON.parse(
          await readFile(path.join(repo, evidence, "best_params.json"), "utf8"),
        ).trial_id;
        // The folder: a copy, edited.
        const copy = path.join(repo, "submission_runs", `tampered_${rule}_${index}`);
        await rm(copy, { recursive: true, force: true });
        await cp(path.join(repo, evidence), copy, { recursive: true });
        const files = new Map<string, string>();
        for (const name of touched) files.set(name, await readFile(path.join(copy, name), "utf8"));
        edit(files, bestId);
        for (const [name, text] of files) await writeFile(path.join(copy, name), text);
        // The folder's name is not the run_version, so that problem is expected too; the edit's must be there.
        const folder = await runCli(["verify", copy], { cwd: repo });
        expect(folder.code).toBe(1);
        expect(folder.stdout).toMatch(expected);
        if (also) expect(folder.stdout).toMatch(also);
        // The untouched folder verifies, so the edit is what fails.
        expect((await runCli(["verify", evidence], { cwd: repo })).code).toBe(0);

        // The zip: the same edit, MANIFEST.json recomputed.
        const members = await readZipFile(zip);
        const byName = new Map(
          members.filter((m) => m.kind === "file").map((m) => [m.name, m.data] as const),
        );
        const inZip = new Map<string, string>();
        for (const name of touched)
          inZip.set(name, (byName.get(`${evidence}/${name}`) as Buffer).toString("utf8"));
        edit(inZip, bestId);
        for (const [name, text] of inZip) byName.set(`${evidence}/${name}`, Buffer.from(text));
        const manifest = JSON.parse((byName.get("MANIFEST.json") as Buffer).toString("utf8"));
        for (const f of manifest.files) {
          const data = byName.get(f.path) as Buffer;
          f.size = data.length;
          f.sha256 = createHash("sha256").update(data).digest("hex");
        }
        byName.set("MANIFEST.json", Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
        const plan = {
          members: [...byName].map(([name, data]) => ({ name, data })),
        } as unknown as ArchivePlan;
        const edited = path.join(repo, `tampered-${rule}-${index}.zip`);
        await writeFile(edited, await zipBytes(plan));
        const zipped = await runCli(["verify", edited], { cwd: repo });
        expect(zipped.code).toBe(1);
        expect(zipped.stdout).toMatch(expected);
        if (also) expect(zipped.stdout).toMatch(also);
        expect(zipped.stdout).not.toContain("MANIFEST.json");
      }, 60_000);
    }
  }
});
