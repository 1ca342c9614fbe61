/**
 * The actions' SOURCE entry points under `@github/local-action` (which stubs @actions/core,
 * @actions/github and @actions/artifact, so uploads land as zips in a folder), with the
 * `.env` fixtures of test/actions/fixtures; then the aggregate's download, pull request and
 * check run, and the release upload, against the REST stand-in (test/github/stand-in),
 * which serves the very zips the trial runs uploaded and validates every request against
 * GitHub's OpenAPI description.
 *
 * Heavy (each local-action run starts tsx and npm): `npm run test:actions` runs it, with
 * TUNIX_RT_ACTIONS=1; plain `npm test` skips it.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResultsStandIn } from "../github/stand-in/results.js";
import { RestStandIn } from "../github/stand-in/server.js";
import {
  makeWorkspace,
  repoRoot,
  runBundle,
  runLocalAction,
  runProcess,
  type StepResult,
} from "./helpers.js";

const heavy = process.env.TUNIX_RT_ACTIONS === "1";
const fixture = (name: string) => path.join(repoRoot, "test/actions/fixtures", name);
const token = "ghs_0123456789abcdefghijklmnopqrstuvwxyzAB";
const runId = 4242;
const sweepId = "5b0c1f4e-7a2d-4c3b-9e8f-0a1b2c3d4e5f";

describe.skipIf(!heavy)(
  "the actions under local-action, then against the REST stand-in (npm run test:actions)",
  { timeout: 120_000 },
  () => {
    let workspace: string;
    let artifacts: string;
    /** Where each upload's zip went: one folder per job attempt, as each job is its own process. */
    const uploads: Array<{ name: string; zip: string }> = [];
    let plan: Record<string, string>;
    let standIn: RestStandIn;
    /** The runner's artifact service, which the aggregate downloads the trials from. */
    let results: ResultsStandIn;
    const backendRun = "5d9e0a1b-0000-4000-8000-0000000000aa";

    beforeAll(async () => {
      workspace = await makeWorkspace();
      artifacts = await mkdtemp(path.join(os.tmpdir(), "tunix-rt-artifacts-"));
      standIn = await RestStandIn.start({ owner: "octo", repo: "sweeps" });
      results = await ResultsStandIn.start();
    });

    afterAll(async () => {
      await standIn.close();
      await results.close();
      await rm(workspace, { recursive: true, force: true });
      await rm(artifacts, { recursive: true, force: true });
    });

    /**
     * Runs an action's source under local-action with a fixture, plus the inputs that come
     * from earlier steps (the plan's outputs, a matrix entry). Those go into a copy of the
     * fixture, not the environment: local-action starts through /bin/sh, which drops
     * variables whose names have a dash (INPUT_SWEEP-ID). Uploads of this attempt go to their
     * own folder, as each job is its own process.
     */
    async function local(
      action: string,
      entry: string,
      env: string,
      extra: Record<string, string> = {},
    ): Promise<StepResult> {
      const attempt = await mkdtemp(path.join(artifacts, "attempt-"));
      const envFile = path.join(attempt, "..", `${path.basename(attempt)}.env`);
      // Single quotes: dotenv keeps such a value as it is (JSON has none in these tests).
      const lines = Object.entries(extra).map(([k, v]) => `${k}='${v}'`);
      await writeFile(envFile, `${await readFile(fixture(env), "utf8")}\n${lines.join("\n")}\n`);
      const step = await runLocalAction(action, entry, envFile, {
        workspace,
        env: { LOCAL_ACTION_WORKSPACE: workspace, LOCAL_ACTION_ARTIFACT_PATH: attempt },
      });
      for (const file of await readdir(attempt))
        uploads.push({ name: file.replace(/\.zip$/, ""), zip: path.join(attempt, file) });
      return step;
    }

    it("plan (plan.env): the matrix and the plan's outputs", async () => {
      const step = await local("actions/sweep", "../../src/actions/sweep/main.ts", "plan.env");
      expect(step.errors, step.stdout).toEqual([]);
      plan = step.outputs;
      expect(plan["sweep-id"]).toBe(sweepId);
      expect(plan.count).toBe("2");
      expect(plan.seed).toBe("11");
      expect(JSON.parse(plan.matrix as string).include.map((t: { trial_id: string }) => t.trial_id)).toEqual([
        "t0000",
        "t0001",
      ]);
      expect(step.summary).toContain(`Sweep \`${sweepId}\``);
    });

    it("trial (trial.env): trains, then uploads the trial folder as its artifact", async () => {
      const entry = JSON.parse(plan.matrix as string).include[0];
      const step = await local("actions/sweep", "../../src/actions/sweep/main.ts", "trial.env", {
        INPUT_TRIAL: JSON.stringify(entry),
      });
      expect(step.errors, step.stdout).toEqual([]);
      expect(step.outputs.status).toBe("completed");
      expect(step.outputs["artifact-name"]).toBe(`tunix-rt-trial-${sweepId}-t0000`);
      expect(uploads.map((u) => u.name)).toEqual([`tunix-rt-trial-${sweepId}-t0000`]);
      const listed = await runProcess(["unzip", "-Z1", uploads[0]?.zip as string], {
        cwd: workspace,
        env: process.env,
      });
      expect(listed.stdout.trim().split("\n").sort()).toEqual(
        [
          "eval_rows.jsonl",
          "metrics.jsonl",
          "output.log",
          "params.json",
          "predictions.jsonl",
          "trial.json",
        ].sort(),
      );
    });

    it("a failed trial is uploaded too, and fails the step after (score, score-trial.env, outcome failure)", async () => {
      const entry = JSON.parse(plan.matrix as string).include[1];
      await mkdir(path.join(workspace, "own"), { recursive: true });
      await writeFile(path.join(workspace, "own/output.log"), "the training step crashed\n");
      const step = await local("actions/score", "../../src/actions/score/main.ts", "score-trial.env", {
        INPUT_TRIAL: JSON.stringify(entry),
        INPUT_OUTCOME: "failure",
      });
      expect(step.outputs.status).toBe("failed");
      expect(step.errors.at(-1)?.message).toContain(
        "trial t0001 failed: the training step's outcome was failure",
      );
      expect(uploads.at(-1)?.name).toBe(`tunix-rt-trial-${sweepId}-t0001`);
    });

    it("its re-run completes and uploads under the same name (sweep, trial.env)", async () => {
      const entry = JSON.parse(plan.matrix as string).include[1];
      const step = await local("actions/sweep", "../../src/actions/sweep/main.ts", "trial.env", {
        INPUT_TRIAL: JSON.stringify(entry),
      });
      expect(step.errors, step.stdout).toEqual([]);
      expect(step.outputs.status).toBe("completed");
      expect(uploads.filter((u) => u.name.endsWith("-t0001"))).toHaveLength(2);
    });

    it("aggregate (aggregate.env) over the trial folders in the workspace, no pull request", async () => {
      const step = await local("actions/score", "../../src/actions/score/main.ts", "aggregate.env", {
        "INPUT_SWEEP-ID": sweepId,
        INPUT_MATRIX: plan.matrix as string,
      });
      expect(step.errors, step.stdout).toEqual([]);
      expect(step.outputs.valid).toBe("true");
      expect(step.outputs.trials).toBe("2");
      expect(step.outputs["pr-url"]).toBe("");
      expect(step.summary).toContain("**Best trial:");
    });

    it("verify (verify.env): a good folder passes, a broken one fails with annotations", async () => {
      const good = await local(
        "actions/verify-evidence",
        "../../src/actions/verify-evidence/main.ts",
        "verify.env",
        {
          INPUT_PATH: "submission_runs/actions_v1",
        },
      );
      expect(good.errors, good.stdout).toEqual([]);
      expect(good.outputs.valid).toBe("true");

      const broken = path.join(workspace, "submission_runs/broken_v1");
      await mkdir(broken, { recursive: true });
      await writeFile(path.join(broken, "eval_rows.jsonl"), '{"id": "a"}\n{oops\n');
      const bad = await local(
        "actions/verify-evidence",
        "../../src/actions/verify-evidence/main.ts",
        "verify.env",
        {
          INPUT_PATH: "submission_runs/broken_v1",
        },
      );
      expect(bad.outputs.valid).toBe("false");
      expect(
        bad.errors.find((e) => e.properties.file === "submission_runs/broken_v1/eval_rows.jsonl")?.properties
          .line,
      ).toBe("2");
      expect(
        bad.errors.some((e) => e.properties.file === "submission_runs/broken_v1/run_manifest.json"),
      ).toBe(true);
      expect(bad.errors.at(-1)?.message).toMatch(/does not verify/);
      await rm(broken, { recursive: true });
    });

    it("package (package.env) and the umbrella (umbrella-verify.env)", async () => {
      const pkg = await local("actions/package", "../../src/actions/package/main.ts", "package.env");
      expect(pkg.errors, pkg.stdout).toEqual([]);
      expect(pkg.outputs["zip-path"]).toMatch(/^submission\/tunix_rt_actions_v1_.*\.zip$/);
      const umbrella = await local(".", "src/actions/tunix-rt/main.ts", "umbrella-verify.env", {
        INPUT_PATH: "submission_runs/actions_v1",
      });
      expect(umbrella.errors, umbrella.stdout).toEqual([]);
      expect(umbrella.outputs).toMatchObject({ valid: "true", problems: "0" });
    });

    /** The environment of a step on a GitHub-hosted runner whose API is the stand-in. */
    const onGitHub = () => ({
      GITHUB_API_URL: standIn.apiUrl,
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_REPOSITORY: "octo/sweeps",
      GITHUB_RUN_ID: String(runId),
      GITHUB_REF_NAME: "main",
      ...results.envFor(backendRun),
    });

    it("aggregate downloads the run's artifacts (the latest of each), opens the pull request, reports the check", async () => {
      const repo = standIn.repo();
      // In upload order: t0001's re-run replaced its failed first attempt's artifact.
      for (const upload of uploads) results.addArtifact(backendRun, upload.name, await readFile(upload.zip));
      // Another sweep's artifact in the same run is left alone.
      results.addArtifact(
        backendRun,
        "tunix-rt-trial-00000000-0000-4000-8000-000000000000-t0000",
        await readFile(uploads[0]?.zip as string),
      );
      await rm(path.join(workspace, "submission_runs"), { recursive: true, force: true });
      await rm(path.join(workspace, "training/configs"), { recursive: true, force: true });

      const inputs = {
        mode: "aggregate",
        "sweep-id": sweepId,
        matrix: plan.matrix as string,
        "trials-dir": "downloaded",
        token,
        "create-pr": "true",
        base: "main",
        "check-name": "tunix-rt / verify-evidence",
      };
      const step = await runBundle("dist/score.js", inputs, { workspace, env: onGitHub() });
      expect(step.code, step.stdout + step.stderr).toBe(0);
      standIn.assertClean();
      results.assertClean();
      expect(step.outputs["pr-operation"]).toBe("created");
      const pull = repo.pulls.find((p) => p.number === Number(step.outputs["pr-number"]));
      expect(pull).toMatchObject({ headRef: "tunix-rt/evidence/actions_v1", baseRef: "main", state: "open" });
      expect(pull?.body).toContain(`https://github.com/octo/sweeps/actions/runs/${runId}`);
      expect(repo.checkRuns.at(-1)).toMatchObject({
        name: "tunix-rt / verify-evidence",
        conclusion: "success",
      });
      // The re-run's completed attempt replaced the failed first attempt of t0001.
      const trials = (await readFile(path.join(workspace, "submission_runs/actions_v1/trials.jsonl"), "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { trial_id: string; status: string });
      expect(trials.map((t) => [t.trial_id, t.status])).toEqual([
        ["t0000", "completed"],
        ["t0001", "completed"],
      ]);
      expect(await readdir(path.join(workspace, "downloaded"))).toEqual([
        `tunix-rt-trial-${sweepId}-t0000`,
        `tunix-rt-trial-${sweepId}-t0001`,
      ]);
      const head = repo.branchHead("tunix-rt/evidence/actions_v1");
      expect(step.summary).toContain(`Evidence pull request [#${pull?.number}]`);

      // The same evidence again: no new commit, the pull request is unchanged.
      const again = await runBundle("dist/score.js", inputs, { workspace, env: onGitHub() });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.outputs["pr-operation"]).toBe("unchanged");
      expect(repo.branchHead("tunix-rt/evidence/actions_v1")).toBe(head);
      standIn.assertClean();
    });

    it("package uploads the zip to the release, replacing the run_version's earlier zip", async () => {
      const repo = standIn.repo();
      repo.addRelease("evidence/actions_v1", { "tunix_rt_actions_v1_2020-01-01_abc1234.zip": "old" });
      const step = await runBundle(
        "dist/package.js",
        { "run-dir": "submission_runs/actions_v1", "release-tag": "evidence/actions_v1", token },
        { workspace, env: onGitHub() },
      );
      expect(step.code, step.stdout + step.stderr).toBe(0);
      standIn.assertClean();
      const release = repo.releases.find((r) => r.tag === "evidence/actions_v1");
      expect(release?.assets.map((a) => a.name)).toEqual([path.basename(step.outputs["zip-path"] as string)]);
      expect(step.outputs["asset-url"]).toContain(path.basename(step.outputs["zip-path"] as string));
    });
    it("aggregate says what to grant when GitHub refuses the pull request", async () => {
      standIn.inject("pulls/create", {
        status: 403,
        message: "GitHub Actions is not permitted to create or approve pull requests.",
        times: 1,
      });
      await rm(path.join(workspace, "submission_runs"), { recursive: true, force: true });
      const step = await runBundle(
        "dist/score.js",
        {
          mode: "aggregate",
          "sweep-id": sweepId,
          "trials-dir": "downloaded-2",
          "run-version": "actions_v2",
          token,
          "create-pr": "true",
        },
        { workspace, env: onGitHub() },
      );
      expect(step.code).toBe(1);
      expect(step.errors.at(-1)?.message).toMatch(/403/);
      expect(step.errors.at(-1)?.message).toMatch(/pull-requests: write/);
    });
  },
);
