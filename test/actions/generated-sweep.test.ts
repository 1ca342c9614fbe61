/**
 * The sweep workflow init writes for a user, run job after job as GitHub runs it
 * (./workflow-runner.ts): its `uses: tunix-rt/tunix-rt/actions/<name>@<sha>` steps mapped
 * onto this checkout's bundles, every expression through GitHub's engine, the trials of each
 * wave as matrix jobs, the artifacts through the runner's artifact service (the stand-in).
 * The plans, the trials (the example trainer) and the aggregate run for real, and the
 * evidence it writes verifies.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wavesNeeded } from "../../src/core/search/fidelity.js";
import { userWorkflows } from "../../src/core/workflows/user.js";
import { loadConfig } from "../../src/runtime/config-file.js";
import { ResultsStandIn } from "../github/stand-in/results.js";
import { runCli } from "../helpers/cli.js";
import { TestSigstore } from "../helpers/sigstore.js";
import { makeWorkspace } from "./helpers.js";
import { runWorkflow } from "./workflow-runner.js";

let workspace: string;
let results: ResultsStandIn;
let sigstore: TestSigstore;

beforeAll(async () => {
  workspace = await makeWorkspace("tunix-rt-generated-sweep-");
  results = await ResultsStandIn.start();
  sigstore = await TestSigstore.create(path.join(workspace, "..", `${path.basename(workspace)}-sigstore`));
});

afterAll(async () => {
  await results.close();
  await rm(workspace, { recursive: true, force: true });
  await rm(sigstore.dir, { recursive: true, force: true });
});

/**
 * actions/attest-build-provenance as the test's signer: the checksums file's subjects signed
 * as octo/sweeps's tunix-rt-sweep.yml (the stand-in runner's repository), the bundle written
 * where the action writes it, its path the bundle-path output.
 */
async function attestStandIn(inputs: Record<string, string>): Promise<Record<string, string>> {
  const checksums = await readFile(inputs["subject-checksums"] as string, "utf8");
  const subjects = checksums
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [sha256, name] = line.split(/ [ *]/);
      return { name: name as string, sha256: sha256 as string };
    });
  const bundle = await sigstore.sign(subjects, {
    repository: "octo/sweeps",
    workflow: ".github/workflows/tunix-rt-sweep.yml",
  });
  const file = path.join(sigstore.dir, "attestation.json");
  await writeFile(file, bundle);
  return { "bundle-path": file };
}

describe("the generated sweep workflow, run in order with this checkout's bundles", () => {
  it("plans each wave, trains each trial as a matrix job, aggregates, and the evidence verifies", async () => {
    const { config } = await loadConfig("training/sweep.yaml", { cwd: workspace });
    const waves = wavesNeeded(config);
    // The test sweep: 3 trials, 2 at a time, no waves key: ceil(3 / 2) = 2 waves.
    expect(waves).toBe(2);
    const [sweep] = userWorkflows(
      { config: "training/sweep.yaml", runner_labels: ["self-hosted", "gpu"], setup_command: "" },
      {
        actions: {
          kind: "pinned",
          repository: "tunix-rt/tunix-rt",
          commit: "c".repeat(40),
          version: "0.1.0",
        },
        waves,
      },
    );
    const run = await runWorkflow(sweep?.text as string, {
      workspace,
      inputs: { "create-pr": false },
      results,
      run: "6f1a2b3c-0000-4000-8000-000000000001",
      attest: attestStandIn,
    });
    const result = (job: string) => run.jobs.get(job)?.result;
    expect(["plan-1", "trials-1", "plan-2", "trials-2", "aggregate"].map(result)).toEqual(
      Array(5).fill("success"),
    );
    for (const step of run.steps)
      expect(step.result.code, `${step.job} ${step.step}: ${step.result.stdout}${step.result.stderr}`).toBe(
        0,
      );
    // Two trials in wave 1 (the round of 2 runners), the last one in wave 2, each a job.
    const trials = run.steps.filter((s) => s.job.startsWith("trials-"));
    expect(trials.map((s) => [s.job, s.matrix?.trial_id])).toEqual([
      ["trials-1", "t0000"],
      ["trials-1", "t0001"],
      ["trials-2", "t0002"],
    ]);
    expect(trials.map((s) => s.result.outputs.status)).toEqual(["completed", "completed", "completed"]);
    // Wave 2 was planned from wave 1's records, through the artifact service.
    const plan2 = run.steps.find((s) => s.job === "plan-2");
    expect(plan2?.result.summary).toContain("Planned from 2 earlier trial records");
    const aggregate = run.jobs.get("aggregate");
    expect(aggregate?.outputs["best-trial"]).toMatch(/^t000[0-2]$/);
    results.assertClean();
    // The evidence is signed by the sweep workflow, and its signature required verifies.
    const root = await sigstore.writeTrustedRoot(path.join(sigstore.dir, "trusted_root.json"));
    const verify = await runCli(
      [
        "verify",
        "submission_runs/actions_v1",
        "--attestation-repo",
        "octo/sweeps",
        "--signer-workflow",
        ".github/workflows/tunix-rt-sweep.yml",
        "--sigstore-root",
        root,
      ],
      { cwd: workspace },
    );
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stderr).toContain("the evidence is attested");
    const publish = run.steps.find((s) => s.job === "aggregate" && s.step === "publish");
    expect(publish?.result.outputs).toMatchObject({ attested: "true", valid: "true" });
    const lines = (await readFile(path.join(workspace, "submission_runs/actions_v1/trials.jsonl"), "utf8"))
      .split("\n")
      .filter(Boolean);
    expect(lines.map((l) => JSON.parse(l).trial_id)).toEqual(["t0000", "t0001", "t0002"]);
    const step = run.steps.find((s) => s.job === "aggregate" && s.step === "aggregate");
    expect(step?.result.outputs).toMatchObject({ trials: "3", completed: "3", failed: "0", valid: "true" });
  }, 120_000);
});
