/**
 * `tunix-rt verify DIR|ZIP --trusted-root BASE`: the pull-request check's rule from the CLI.
 * The evalset and the sweep config count as BASE has them; a copy beside the evidence that
 * differs is a problem naming the file; what the default rule leaves as a note (no evalset,
 * rows without a prediction) is a problem. Real folders and a real zip, through the CLI.
 */
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "./helpers/cli.js";
import { referenceZip, unpackReference } from "./helpers/example-repo.js";

let work: string;
let base: string;

beforeAll(async () => {
  work = await tempDir("tunix-rt-trusted-");
  base = path.join(work, "base");
  await mkdir(base);
  await unpackReference(base);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** A copy of the reference evidence (folder and repository files) under `name`, edited. */
async function evidence(name: string, edit: (dir: string) => Promise<void> = async () => undefined) {
  const dir = path.join(work, name);
  await mkdir(dir);
  await unpackReference(dir);
  await edit(dir);
  return dir;
}

async function editJsonl(file: string, edit: (row: Record<string, unknown>) => Record<string, unknown>) {
  const rows = (await readFile(file, "utf8")).split("\n").filter(Boolean);
  await writeFile(file, rows.map((l) => `${JSON.stringify(edit(JSON.parse(l)))}\n`).join(""));
}

async function editJson(file: string, edit: (doc: Record<string, unknown>) => void) {
  const doc = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  edit(doc);
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
}

const verify = (dir: string, ...flags: string[]) =>
  runCli(["verify", "submission_runs/example_v1", ...flags], { cwd: dir });

describe("verify --trusted-root BASE", () => {
  it("passes evidence whose evalset and sweep config are BASE's", async () => {
    const dir = await evidence("same");
    const result = await verify(dir, "--trusted-root", base);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain(`(trusted: ${base}): valid`);
  });

  it("fails evidence made against its own edited evalset, naming the evalset, which the default rule passes", async () => {
    const dir = await evidence("own-evalset", async (d) => {
      await editJsonl(path.join(d, "training/evalsets/example_eval.jsonl"), (row) =>
        row.id === "ex-001" ? { ...row, expected_answer: "92" } : row,
      );
      await editJsonl(path.join(d, "submission_runs/example_v1/eval_rows.jsonl"), (row) =>
        row.id === "ex-001" ? { ...row, expected_answer: "92", prediction: "<answer>92</answer>" } : row,
      );
    });
    expect((await verify(dir)).code).toBe(0);
    const result = await verify(dir, "--trusted-root", base);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toContain(
      `training/evalsets/example_eval.jsonl: differs from its copy in the trusted checkout ${base}: the evidence is verified against that copy, and a change to the evalset needs a pull request of its own, reviewed and merged before evidence made with it`,
    );
    expect(
      lines.some((l) =>
        l.startsWith('submission_runs/example_v1/eval_rows.jsonl:1: expected_answer: got "92";'),
      ),
    ).toBe(true);
  });

  it("the same on the submission zip: its members' evalset is not BASE's", async () => {
    const zip = path.join(work, "reference.zip");
    await cp(await referenceZip(), zip);
    expect((await runCli(["verify", zip, "--trusted-root", base], { cwd: work })).code).toBe(0);
    const other = path.join(work, "other-base");
    await mkdir(other);
    await unpackReference(other);
    await editJsonl(path.join(other, "training/evalsets/example_eval.jsonl"), (row) =>
      row.id === "ex-001" ? { ...row, expected_answer: "92" } : row,
    );
    const result = await runCli(["verify", zip, "--trusted-root", other], { cwd: work });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `${zip}/training/evalsets/example_eval.jsonl: differs from its copy in the trusted checkout ${other}`,
    );
  });

  it("an evalset BASE does not have is a problem, where the default rule notes it", async () => {
    const empty = path.join(work, "no-evalset");
    await mkdir(empty);
    const dir = await evidence("absent-evalset", async (d) => {
      await rm(path.join(d, "training/evalsets"), { recursive: true });
    });
    const plain = await verify(dir);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain("note: eval_rows.jsonl was not re-graded");
    const result = await verify(dir, "--trusted-root", empty);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `submission_runs/example_v1/eval_summary.json:3: eval_set: got "training/evalsets/example_eval.jsonl"; it is not in the trusted checkout ${empty}, and under the trusted rule the rows are re-graded against the evalset in the trusted checkout ${empty}: the evidence must name one that is there`,
    );
  });

  it("rows without a prediction are a problem, where the default rule notes them", async () => {
    const dir = await evidence("no-predictions", async (d) => {
      await editJsonl(path.join(d, "submission_runs/example_v1/eval_rows.jsonl"), (row) => {
        const { prediction: _, ...rest } = row;
        return rest;
      });
    });
    const plain = await verify(dir);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain("have no prediction text");
    const result = await verify(dir, "--trusted-root", base);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "eval_rows.jsonl:1: prediction: 120 rows of eval_rows.jsonl have no prediction text",
    );
  });

  it("best_params.json sweep_config must be BASE's config, but for what a run overrides", async () => {
    const dir = await evidence("config", async (d) => {
      await editJson(path.join(d, "submission_runs/example_v1/best_params.json"), (doc) => {
        const config = doc.sweep_config as Record<string, unknown>;
        config.recommend = "best_observed";
        config.seed = 7; // a run may set its seed
      });
    });
    const result = await verify(dir, "--trusted-root", base);
    expect(result.code).toBe(1);
    const about = result.stdout.split("\n").filter((l) => l.includes("sweep_config."));
    expect(about).toEqual([
      `submission_runs/example_v1/best_params.json:${about[0]?.split(":")[1]}: sweep_config.recommend: got "best_observed"; training/example/sweep.yaml in the trusted checkout ${base} has "model"`,
    ]);
  });

  it("a manifest that names no sweep config is a problem", async () => {
    const dir = await evidence("unnamed-config", async (d) => {
      await editJson(path.join(d, "submission_runs/example_v1/run_manifest.json"), (doc) => {
        delete doc.sweep_config_path;
      });
    });
    const result = await verify(dir, "--trusted-root", base);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "run_manifest.json: sweep_config_path: missing; under the trusted rule the sweep config the evidence came from is checked against the one in",
    );
  });

  it("a trusted root that is not there is a usage error, exit 2", async () => {
    const dir = await evidence("no-root");
    const result = await verify(dir, "--trusted-root", path.join(work, "nowhere"));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read the trusted checkout: no such file or directory/);
  });
});
