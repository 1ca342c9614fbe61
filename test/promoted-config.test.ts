/**
 * verify checks that the promoted config run_manifest.json names belongs to the evidence:
 * its run_version, sweep, best trial, params and budget. The bug this guards: after a sweep
 * of run_version B, `package --run-dir submission_runs/A` zipped B's promoted config (one
 * file for every run_version) and verify said valid. Real folders, real zips, the CLI as a
 * child process.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatProblem } from "../src/core/errors.js";
import { planArchive, verifySubmission } from "../src/core/evidence/archive.js";
import { runCli, scratchFolder } from "./helpers/cli.js";
import {
  type EvidenceFixture,
  evidenceTexts,
  type FixtureTrial,
  type FolderOptions,
  fixtureSweepId,
  repoTexts,
  writeEvidenceFolder,
} from "./helpers/evidence-fixture.js";

const unzip = ["/usr/bin/unzip", "/bin/unzip"].find((p) => existsSync(p));
const epoch = { SOURCE_DATE_EPOCH: "1766793600" };

const scratch = scratchFolder("tunix-rt-promoted-");

async function verify(cwd: string, ...args: string[]) {
  const result = await runCli(["verify", ...args], { cwd });
  return { ...result, lines: result.stdout.split("\n").filter((l) => l !== "") };
}

/** A fresh folder holding the evidence `rt_test_v1` and the files it names; returns it (the CLI's cwd). */
async function folder(fixture: EvidenceFixture = {}, options: FolderOptions = {}): Promise<string> {
  const parent = scratch.fresh("case");
  await writeEvidenceFolder(parent, fixture, options);
  return parent;
}

/** Run B: another sweep, whose best trial has other params. */
const sweepB = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const trialsB: FixtureTrial[] = [
  {
    trial_id: "t0000",
    params: { learning_rate: 3e-5, per_device_batch_size: 2 },
    status: "completed",
    primary_score: 0.75,
  },
];
const runB = (configPath?: string): EvidenceFixture => ({
  runVersion: "rt_b_v1",
  trials: trialsB,
  manifest: { tuning_job_id: sweepB, ...(configPath ? { config_path: configPath } : {}) },
  best: { tuning_job_id: sweepB },
});
const runA = (configPath?: string): EvidenceFixture => ({
  runVersion: "rt_a_v1",
  ...(configPath ? { manifest: { config_path: configPath } } : {}),
});

describe("the promoted config of another run_version", () => {
  it.skipIf(!unzip)(
    "run A beside run B's promoted config: package refuses, and verify on the folder and on a forced zip reports it",
    async () => {
      const root = scratch.fresh("repo");
      const runs = path.join(root, "submission_runs");
      // Both name training/configs/best.yaml, as every run_version did: B, swept last, wrote it.
      await writeEvidenceFolder(runs, runA());
      await writeEvidenceFolder(runs, runB());
      await writeFile(path.join(root, "sweep.yaml"), "name: x\n");
      const config = "training/configs/best.yaml";
      const mixUp = [
        `${config}:2: run_version: got "rt_b_v1"; this evidence is of run_version "rt_a_v1"`,
        `: provenance.sweep_id: got "${sweepB}"; run_manifest.json tuning_job_id is "${fixtureSweepId}"`,
        `: provenance.trial_id: got "t0000"; the best completed trial in trials.jsonl is "t0001"`,
        ": params.learning_rate: got 0.00003; best_params.json has 0.00005",
        ": params.per_device_batch_size: got 2; best_params.json has 4",
      ];
      const expectMixUp = (lines: string[], prefix = "") => {
        expect(lines).toHaveLength(mixUp.length);
        mixUp.forEach((part, i) => {
          expect(lines[i]?.startsWith(`${prefix}${config}:`)).toBe(true);
          expect(lines[i]).toContain(part);
        });
      };

      const pack = (run: string, ...args: string[]) =>
        runCli(["package", "--run-dir", `submission_runs/${run}`, "--config", "sweep.yaml", ...args], {
          cwd: root,
          env: epoch,
        });
      const refused = await pack("rt_a_v1");
      expect(refused.code).toBe(1);
      const refusedLines = refused.stderr.trimEnd().split("\n");
      expect(refusedLines.at(-1)).toBe(
        "tunix-rt package: submission_runs/rt_a_v1: the evidence is invalid (5 problems); fix it, or pass --no-verify",
      );
      expectMixUp(refusedLines.slice(0, -1));
      expect(existsSync(path.join(root, "submission"))).toBe(false);

      const folderResult = await verify(root, "submission_runs/rt_a_v1");
      expectMixUp(folderResult.lines);
      expect(folderResult.code).toBe(1);

      // B's own evidence and config agree: packaged and verified.
      const good = await pack("rt_b_v1");
      expect(good.code).toBe(0);
      expect((await verify(root, good.stdout.trim())).code).toBe(0);

      // Forced past the gate, the zip holds B's config, and verify on the zip says so.
      const forced = await pack("rt_a_v1", "--no-verify");
      expect(forced.code).toBe(0);
      const zip = forced.stdout.trim();
      expect(execFileSync(unzip as string, ["-t", path.join(root, zip)], { encoding: "utf8" })).toMatch(
        /No errors detected/,
      );
      const zipResult = await verify(root, zip);
      expectMixUp(zipResult.lines, `${zip}/`);
      expect(zipResult.code).toBe(1);
    },
  );

  it("one promoted config per run_version: both runs verify and package", async () => {
    const root = scratch.fresh("repo");
    const runs = path.join(root, "submission_runs");
    await writeEvidenceFolder(runs, runA("training/configs/rt_a_v1/best.yaml"));
    await writeEvidenceFolder(runs, runB("training/configs/rt_b_v1/best.yaml"));
    await writeFile(path.join(root, "sweep.yaml"), "name: x\n");
    for (const run of ["rt_a_v1", "rt_b_v1"]) {
      const result = await verify(root, `submission_runs/${run}`);
      expect(result.stdout).toBe("");
      expect(result.code).toBe(0);
      const packed = await runCli(
        ["package", "--run-dir", `submission_runs/${run}`, "--config", "sweep.yaml"],
        { cwd: root, env: epoch },
      );
      expect(packed.code).toBe(0);
      expect((await verify(root, packed.stdout.trim())).code).toBe(0);
    }
  });
});

describe("verify checks each field of the promoted config against the evidence", () => {
  it("reports run_version, sweep, trial, params (changed, missing, extra) and budget, with both values", async () => {
    const yaml = [
      "# promoted by hand",
      "run_version: rt_other_v1",
      "params:",
      "  per_device_batch_size: 8",
      "  warmup_steps: 10",
      "budget: 3000",
      "provenance:",
      "  sweep_id: 00000000-0000-4000-8000-000000000000",
      "  trial_id: t0000",
      "",
    ].join("\n");
    const cwd = await folder({}, { replaceRepo: { promotedConfig: yaml } });
    const result = await verify(cwd, "rt_test_v1");
    const file = "training/configs/best.yaml";
    expect(result.lines).toEqual([
      `${file}:2: run_version: got "rt_other_v1"; this evidence is of run_version "rt_test_v1"`,
      `${file}:8: provenance.sweep_id: got "00000000-0000-4000-8000-000000000000"; run_manifest.json tuning_job_id is "${fixtureSweepId}"`,
      `${file}:9: provenance.trial_id: got "t0000"; the best completed trial in trials.jsonl is "t0001"`,
      `${file}:3: params.learning_rate: missing; best_params.json has 0.00005`,
      `${file}:4: params.per_device_batch_size: got 8; best_params.json has 4`,
      `${file}:5: params.warmup_steps: got 10; best_params.json has no parameter "warmup_steps"`,
      `${file}:6: budget: got 3000; best_params.json has no budget`,
    ]);
    expect(result.code).toBe(1);
  });

  it("compares the budget of a multi-fidelity run, and accepts the one it should", async () => {
    const fixture: EvidenceFixture = { best: { budget: 3000 } };
    const same = await folder(fixture);
    expect((await verify(same, "rt_test_v1")).code).toBe(0);
    const text = repoTexts(fixture).promotedConfig?.text ?? "";
    expect(text).toContain("budget: 3000\n");
    const other = await folder(fixture, {
      replaceRepo: { promotedConfig: text.replace("budget: 3000", "budget: 1000") },
    });
    const result = await verify(other, "rt_test_v1");
    expect(result.lines).toEqual([
      expect.stringMatching(
        /^training\/configs\/best\.yaml:\d+: budget: got 1000; best_params\.json has 3000$/,
      ),
    ]);
  });

  it("reports a promoted config that is not YAML, or not a mapping", async () => {
    const broken = await folder({}, { replaceRepo: { promotedConfig: "run_version: [rt_test_v1\n" } });
    const result = await verify(broken, "rt_test_v1");
    expect(result.lines).toEqual([
      expect.stringMatching(/^training\/configs\/best\.yaml:\d+: not valid YAML: \S/),
    ]);
    const list = await folder({}, { replaceRepo: { promotedConfig: "- a\n- b\n" } });
    expect((await verify(list, "rt_test_v1")).lines).toEqual([
      'training/configs/best.yaml: got ["a","b"]; expected the promoted config, a YAML mapping',
    ]);
  });
});

describe("a promoted config that the evidence names but that is not there", () => {
  it("is a problem for a folder: the evidence names a file that is not in the repository", async () => {
    const cwd = await folder({}, { omitRepo: ["promotedConfig"] });
    const result = await verify(cwd, "rt_test_v1");
    expect(result.lines).toEqual([
      `rt_test_v1/run_manifest.json:5: config_path: got "training/configs/best.yaml"; the promoted config is not in the repository (${cwd})`,
    ]);
    expect(result.code).toBe(1);
    const outside = await folder({ manifest: { config_path: "../best.yaml" } });
    expect((await verify(outside, "rt_test_v1")).lines).toEqual([
      'rt_test_v1/run_manifest.json:5: config_path: got "../best.yaml"; the promoted config is not a repository path (relative, inside it, no control character)',
    ]);
  });

  it("is a problem for a zip that lacks it", () => {
    const texts = evidenceTexts();
    const evalset = repoTexts().evalset;
    const plan = planArchive({
      runVersion: "rt_test_v1",
      date: "2025-12-27",
      shortSha: "nogit",
      commit: null,
      tool: "test",
      runDir: "submission_runs/rt_test_v1",
      files: [
        ...Object.entries(texts).map(([name, text]) => ({
          name: `submission_runs/rt_test_v1/${name}`,
          data: Buffer.from(text),
        })),
        ...(evalset ? [{ name: evalset.path, data: Buffer.from(evalset.text) }] : []),
      ],
    });
    const problems = verifySubmission(
      plan.members.map((m) => ({ name: m.name, kind: "file", data: m.data })),
    );
    expect(problems.map(formatProblem)).toEqual([
      'submission_runs/rt_test_v1/run_manifest.json:5: config_path: got "training/configs/best.yaml"; the promoted config is not in the zip',
    ]);
  });
});
