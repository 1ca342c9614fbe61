/**
 * The committed bundles, run the way the runner runs a JavaScript action: `node dist/<x>.js`
 * in the workspace, inputs as `INPUT_*` variables, outputs read back from GITHUB_OUTPUT,
 * the job summary from GITHUB_STEP_SUMMARY, annotations from the log. The steps chain as in
 * sweep.yml: plan -> trials -> aggregate -> verify -> package.
 */
import { cp, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/cli.js";
import { unpackReference } from "../helpers/example-repo.js";
import { makeWorkspace, repoRoot, runBundle, runProcess } from "./helpers.js";

const sweep = "dist/sweep.js";
const score = "dist/score.js";
const verify = "dist/verify-evidence.js";
const pack = "dist/package.js";
const umbrella = "dist/tunix-rt.js";

let workspace: string;

beforeAll(async () => {
  workspace = await makeWorkspace();
});

afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

/**
 * The example's reference evidence, unpacked into the workspace under another run_version,
 * with its promoted config (made that run_version's, at a path of its own, which the
 * manifest names); the evalset it was graded on is in the workspace already.
 */
async function evidenceFolder(runVersion: string): Promise<string> {
  const unpacked = await tempDir("tunix-rt-reference-");
  await unpackReference(unpacked);
  const dir = path.join(workspace, "submission_runs", runVersion);
  await cp(path.join(unpacked, "submission_runs/example_v1"), dir, { recursive: true });
  const configPath = `training/configs/${runVersion}.yaml`;
  for (const name of ["run_manifest.json", "eval_summary.json"]) {
    const file = path.join(dir, name);
    const doc = JSON.parse(await readFile(file, "utf8"));
    if (name === "run_manifest.json") {
      const config = await readFile(path.join(unpacked, doc.config_path), "utf8");
      await mkdir(path.join(workspace, "training/configs"), { recursive: true });
      await writeFile(
        path.join(workspace, configPath),
        config.replace(/^run_version: .*$/m, `run_version: ${runVersion}`),
      );
      doc.config_path = configPath;
    }
    doc.run_version = runVersion;
    await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return `submission_runs/${runVersion}`;
}

describe("verify-evidence, as the runner runs it", () => {
  it("passes a good evidence folder", async () => {
    const dir = await evidenceFolder("good_v1");
    const step = await runBundle(verify, { path: dir, profile: "default" }, { workspace });
    expect(step.code, step.stdout + step.stderr).toBe(0);
    expect(step.outputs).toEqual({
      valid: "true",
      problems: "0",
      verdict: "valid",
      description: `the evidence verifies: ${dir}`,
      folders: dir,
    });
    expect(step.errors).toEqual([]);
    expect(step.summary).toContain(`Evidence is valid: \`${dir}\``);
  });

  it("fails a broken one with an annotation per problem, on its file and line, and lists them all", async () => {
    const dir = await evidenceFolder("broken_v1");
    const rowsFile = path.join(workspace, dir, "eval_rows.jsonl");
    const rows = (await readFile(rowsFile, "utf8")).split("\n");
    rows[1] = "{not json";
    await writeFile(rowsFile, rows.join("\n"));
    const manifestFile = path.join(workspace, dir, "run_manifest.json");
    const manifest = JSON.parse(await readFile(manifestFile, "utf8"));
    delete manifest.model_id;
    await writeFile(manifestFile, JSON.stringify(manifest));

    const step = await runBundle(verify, { path: dir }, { workspace });
    expect(step.code).toBe(1);
    expect(step.outputs.valid).toBe("false");
    const problems = Number(step.outputs.problems);
    expect(problems).toBeGreaterThanOrEqual(2);
    const onRows = step.errors.find((e) => e.properties.file === `${dir}/eval_rows.jsonl`);
    expect(onRows?.properties.line).toBe("2");
    expect(onRows?.properties.title).toBe("tunix-rt verify");
    const onManifest = step.errors.find((e) => e.properties.file === `${dir}/run_manifest.json`);
    expect(onManifest?.message).toBe("model_id: missing; expected a string");
    expect(onManifest?.properties.line).toBeUndefined();
    // The last error is the step's own failure; every problem before it is annotated.
    expect(step.errors.filter((e) => e.properties.file).length).toBe(problems);
    expect(step.errors.at(-1)?.message).toMatch(/does not verify/);
    // Every problem is in the summary's table (GitHub shows only the first annotations).
    const tableRows = step.summary.split("\n").filter((l) => l.startsWith(`| ${dir}/`));
    expect(tableRows.length).toBe(problems);
  });

  it("fails with one clear line when the folder does not exist, and still checks the others", async () => {
    const dir = await evidenceFolder("after_missing_v1");
    const step = await runBundle(verify, { path: `submission_runs/nope ${dir}` }, { workspace });
    expect(step.code).toBe(1);
    expect(step.errors[0]).toEqual({
      properties: { title: "tunix-rt verify", file: "submission_runs/nope" },
      message: "cannot read: no such file or directory",
    });
    expect(step.errors.at(-1)?.message).toBe(
      "submission_runs/nope: the evidence does not verify (1 problem; each is annotated and listed in the job summary)",
    );
    // The folder after it was verified all the same.
    expect(step.summary).toContain(`Evidence is valid: \`${dir}\``);
    expect(step.stdout).not.toMatch(/\n\s+at /);
  });
});

describe("the pipeline, step by step, as the runner runs it", () => {
  let plan: Record<string, string>;
  let matrix: { include: Array<{ trial_id: string; sweep_id: string }> };

  it("plans: the matrix and what the trial jobs need, in outputs and the summary", async () => {
    const step = await runBundle(sweep, { mode: "plan", "num-samples": "3", config: "" }, { workspace });
    expect(step.code, step.stdout + step.stderr).toBe(0);
    plan = step.outputs;
    matrix = JSON.parse(plan.matrix as string);
    expect(matrix.include.map((t) => t.trial_id)).toEqual(["t0000", "t0001", "t0002"]);
    expect(plan.count).toBe("3");
    expect(plan["max-parallel"]).toBe("2");
    expect(plan["run-version"]).toBe("actions_v1");
    expect(plan["sweep-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(plan["timeout-minutes"]).toBe("32");
    expect(plan.sampler).toBe("random");
    expect(step.summary).toContain("| t0002 |");
  });

  it("rejects a bad input before doing anything, naming it", async () => {
    const step = await runBundle(sweep, { mode: "plan", "num-samples": "lots" }, { workspace });
    expect(step.code).toBe(1);
    expect(step.errors.at(-1)?.message).toBe(
      'tunix-rt/sweep: with.num-samples: got "lots"; expected a whole number from 1 to 100000',
    );
    expect(step.outputs).toEqual({});
  });

  it("runs each trial: trainer, grading, trial.json, outputs", async () => {
    for (const entry of matrix.include) {
      const step = await runBundle(
        sweep,
        { mode: "trial", trial: JSON.stringify(entry), upload: "false" },
        { workspace },
      );
      expect(step.code, step.stdout + step.stderr).toBe(0);
      expect(step.outputs.status).toBe("completed");
      expect(step.outputs["trial-dir"]).toBe(`runs/${entry.sweep_id}/${entry.trial_id}`);
      expect(Number(step.outputs["primary-score"])).toBeGreaterThanOrEqual(0);
      expect(step.outputs["artifact-name"]).toBe("");
      expect(step.summary).toContain(`tunix-rt trial ${entry.trial_id}: completed`);
      const record = JSON.parse(
        await readFile(path.join(workspace, step.outputs["trial-dir"] as string, "trial.json"), "utf8"),
      );
      expect(record.status).toBe("completed");
    }
  });

  it("aggregates the trials into evidence that verifies (no download, no pull request)", async () => {
    const step = await runBundle(
      score,
      {
        mode: "aggregate",
        "sweep-id": plan["sweep-id"] as string,
        matrix: plan.matrix as string,
        "run-version": plan["run-version"] as string,
        download: "false",
        "create-pr": "false",
        token: "",
      },
      { workspace },
    );
    expect(step.code, step.stdout + step.stderr).toBe(0);
    expect(step.outputs.valid).toBe("true");
    expect(step.outputs["run-dir"]).toBe("submission_runs/actions_v1");
    expect(step.outputs.trials).toBe("3");
    expect(step.outputs["best-trial"]).toMatch(/^t000[0-2]$/);
    expect(step.outputs["pr-url"]).toBe("");
    expect(step.summary).toContain(`**Best trial: ${step.outputs["best-trial"]}**`);
    expect(step.summary).toContain("Evidence is valid");
    const manifest = JSON.parse(
      await readFile(path.join(workspace, "submission_runs/actions_v1/run_manifest.json"), "utf8"),
    );
    expect(manifest.tuning_job_id).toBe(plan["sweep-id"]);
    const cli = await runProcess(
      [process.execPath, path.join(repoRoot, "bin/tunix-rt.js"), "verify", "submission_runs/actions_v1"],
      {
        cwd: workspace,
        env: process.env,
      },
    );
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
  });

  it("packages the evidence (no release)", async () => {
    const step = await runBundle(
      pack,
      { "run-dir": "submission_runs/actions_v1", "max-size": "102400" },
      { workspace },
    );
    expect(step.code, step.stdout + step.stderr).toBe(0);
    expect(step.outputs["zip-path"]).toMatch(
      /^submission\/tunix_rt_actions_v1_\d{4}-\d{2}-\d{2}_nogit\.zip$/,
    );
    expect(step.outputs["asset-url"]).toBe("");
    expect((await stat(path.join(workspace, step.outputs["zip-path"] as string))).size).toBeGreaterThan(0);
  });

  it("the umbrella action runs the same step through `command`", async () => {
    const step = await runBundle(
      umbrella,
      { command: "verify", path: "submission_runs/actions_v1" },
      { workspace },
    );
    expect(step.code, step.stdout + step.stderr).toBe(0);
    expect(step.outputs).toMatchObject({ valid: "true", problems: "0", verdict: "valid" });
    const missing = await runBundle(umbrella, { command: "" }, { workspace });
    expect(missing.code).toBe(1);
    expect(missing.errors.at(-1)?.message).toBe(
      "tunix-rt: with.command: missing; expected one of plan, trial, score, aggregate, publish, verify, package",
    );
  });
});

describe("a trial that fails, and the trainer's secrets", () => {
  const failing = `${"trainer:\n  command: [node, -e, \"console.log('hf ' + process.env.HF_TOKEN); console.log('extra ' + process.env.EXTRA_SECRET); console.log('input token ' + (process.env.INPUT_TOKEN ?? 'absent')); console.log('shape ghp_' + 'a'.repeat(36)); const t = process.env.HF_TOKEN; process.stdout.write('split ' + t.slice(0, 6)); setTimeout(() => process.exit(console.log(t.slice(6)) ?? 3), 200)\"]\n  timeout_minutes: 1\n"}`;

  it("records it, sets its outputs, then fails the step with the reason; secrets never leave", async () => {
    const base = await readFile(path.join(workspace, "training/sweep.yaml"), "utf8");
    await writeFile(path.join(workspace, "training/fail.yaml"), base.replace(/trainer:[\s\S]*$/, failing));
    const entry = {
      sweep_id: "00000000-0000-4000-8000-000000000001",
      trial_id: "t0000",
      seed: 1,
      params: { learning_rate: 0.05, per_device_batch_size: 4, weight_decay: 0.01, warmup_steps: 0 },
    };
    const step = await runBundle(
      sweep,
      {
        mode: "trial",
        config: "training/fail.yaml",
        trial: JSON.stringify(entry),
        upload: "false",
        "secret-env": "EXTRA_SECRET=extra-secret-value-42\n# a comment\n",
        token: "ghs_inputtokenvalue0123456789abcdefghijkl",
      },
      { workspace, env: { HF_TOKEN: "hf-secret-value-0123" } },
    );
    expect(step.code, step.stdout + step.stderr).toBe(1);
    expect(step.outputs.status, step.stdout + step.stderr).toBe("failed");
    expect(step.errors.at(-1)?.message).toBe(
      "trial t0000 failed: trainer exited with code 3 (see output.log)",
    );
    // Both values are masked for the rest of the job, and the trainer's output is not parsed for commands.
    expect(step.stdout).toContain("::add-mask::hf-secret-value-0123");
    expect(step.stdout).toContain("::add-mask::extra-secret-value-42");
    expect(step.stdout).toMatch(/::stop-commands::[0-9a-f-]{36}/);
    const log = await readFile(path.join(workspace, "runs", entry.sweep_id, "t0000", "output.log"), "utf8");
    expect(log).toContain("hf ***");
    expect(log).toContain("extra ***");
    expect(log).toContain("shape ***");
    // The action's own inputs (the token among them) are not the trainer's business.
    expect(log).toContain("input token absent");
    expect(log).not.toMatch(/secret-value|ghp_a/);
    // The job log's echo is redacted by whole lines: a secret printed in two writes is hidden too.
    const echoed = step.stdout.replace(/^::add-mask::.*$/gm, "");
    expect(echoed).toContain("split ***");
    expect(echoed).toContain("hf ***");
    expect(echoed).not.toMatch(/secret-value|ghp_a|hf-sec/);
  });

  it("grades a folder the user's own steps trained into (score, mode trial)", async () => {
    const items = (await readFile(path.join(workspace, "training/evalsets/example_eval.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; expected_answer: string });
    const dir = path.join(workspace, "own/t0004");
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, "predictions.jsonl"),
      items
        .map((it, i) =>
          JSON.stringify({
            id: it.id,
            prediction: i % 2 ? "wrong" : `<answer>${it.expected_answer}</answer>`,
          }),
        )
        .join("\n"),
    );
    const entry = {
      sweep_id: "00000000-0000-4000-8000-000000000002",
      trial_id: "t0004",
      seed: 4,
      params: { learning_rate: 0.05, per_device_batch_size: 4, weight_decay: 0.01, warmup_steps: 0 },
    };
    const step = await runBundle(
      score,
      {
        mode: "trial",
        trial: JSON.stringify(entry),
        "trial-dir": "own/t0004",
        upload: "false",
        outcome: "success",
      },
      { workspace },
    );
    expect(step.code, step.stdout + step.stderr).toBe(0);
    expect(step.outputs.status).toBe("completed");
    expect(Number(step.outputs["primary-score"])).toBeCloseTo(0.5, 6);
    const record = JSON.parse(await readFile(path.join(dir, "trial.json"), "utf8"));
    expect(record).toMatchObject({
      trial_id: "t0004",
      sweep_id: entry.sweep_id,
      status: "completed",
      rows: items.length,
    });

    const failed = await runBundle(
      score,
      {
        mode: "trial",
        trial: JSON.stringify(entry),
        "trial-dir": "own/t0004",
        upload: "false",
        outcome: "failure",
      },
      { workspace },
    );
    expect(failed.code).toBe(1);
    expect(failed.outputs.status).toBe("failed");
    expect(failed.errors.at(-1)?.message).toBe(
      "trial t0004 failed: the training step's outcome was failure; its folder was not graded",
    );
  });
});
