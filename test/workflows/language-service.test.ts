/**
 * The workflows and actions read by GitHub's own engine: the workflow language service of the
 * official VS Code extension (./diagnostics.ts: with a file provider, and tunix-rt's actions'
 * inputs from their action.yml); the generated workflows are what the templates write; and
 * the sweep's chain of jobs run through GitHub's expression engine (./chain.ts) for the cases
 * that decide whether evidence gets written: a failed trial, a failed plan, a cancelled run.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { wavesNeeded } from "../../src/core/search/fidelity.js";
import { ownSweepConfig, ownWorkflows } from "../../src/core/workflows/own.js";
import { loadConfig } from "../../src/runtime/config-file.js";
import { repoRoot } from "../actions/helpers.js";
import { chainScenarios, evaluate, type Job, jobGraph, plain, waveCount } from "./chain.js";
import { diagnostics } from "./diagnostics.js";

const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");

const workflows = readdirSync(path.join(repoRoot, ".github/workflows"))
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => `.github/workflows/${f}`)
  .sort();
const actions = [
  "action.yml",
  ...readdirSync(path.join(repoRoot, "actions")).map((a) => `actions/${a}/action.yml`),
];

describe("GitHub's workflow language service", () => {
  for (const file of [...workflows, ...actions]) {
    it(`finds nothing in ${file}`, async () => {
      expect(await diagnostics(file, read(file))).toEqual([]);
    });
  }

  it("does report broken workflows: a bad key, a bad expression, an input a called workflow or action lacks", async () => {
    const broken = [
      "on: push",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-latest",
      "    stepz: []",
      "  b:",
      "    runs-on: ubuntu-latest",
      "    steps:",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, not a template.
      "      - run: echo ${{ github.event. }}",
      `      - uses: tunix-rt/tunix-rt/actions/sweep@${"a".repeat(40)}`,
      "        with:",
      "          no-such-action-input: 1",
      "  c:",
      "    uses: ./.github/workflows/sweep.yml",
      "    with:",
      "      no-such-input: 1",
      "",
    ].join("\n");
    const found = await diagnostics(".github/workflows/broken.yml", broken);
    expect(found.some((d) => /stepz/.test(d))).toBe(true);
    expect(found.some((d) => /:9: /.test(d))).toBe(true);
    // Only the file provider can know sweep.yml's inputs, and only the metadata provider the
    // action's: this proves both are read.
    expect(found.some((d) => /no-such-input/.test(d))).toBe(true);
    expect(found.some((d) => /Invalid action input 'no-such-action-input'/.test(d))).toBe(true);
  });
});

describe("the generated workflows of this repository", () => {
  it("are what the templates write (npm run build:workflows), the sweep with the example's waves", async () => {
    const { config } = await loadConfig(ownSweepConfig, { cwd: repoRoot });
    for (const { file, text } of ownWorkflows(wavesNeeded(config)))
      expect(read(`.github/workflows/${file}`), `.github/workflows/${file}: npm run build:workflows`).toBe(
        text,
      );
  });

  it("call this checkout's own actions, never another repository's or a reusable workflow of another", () => {
    for (const file of ["sweep.yml", "evidence.yml", "release.yml"]) {
      const uses = [...read(`.github/workflows/${file}`).matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)/gm)].map(
        (m) => m[1] as string,
      );
      const ours = uses.filter((u) => !u.startsWith("actions/"));
      expect(ours.length, file).toBeGreaterThan(0);
      for (const u of ours) expect(u, file).toMatch(/^\.\/actions\/(sweep|score|verify-evidence|package)$/);
    }
  });
});

describe("the sweep's chain of jobs, through GitHub's expression engine", async () => {
  const graph = await jobGraph(read(".github/workflows/sweep.yml"), "sweep.yml");

  it("has the example's waves", () => {
    expect(waveCount(graph)).toBeGreaterThan(1);
  });

  for (const scenario of chainScenarios(graph)) {
    it(scenario.name, () => {
      expect(scenario.failures).toEqual([]);
    });
  }

  it("queues aggregates of one run_version with a pull request; each run without one is its own group", () => {
    const concurrency = (graph.jobs.aggregate as Job).concurrency as { group: string; queue: string };
    expect(concurrency.queue).toBe("max");
    const group = (createPr: boolean, runId: number) =>
      evaluate(
        concurrency.group,
        {
          inputs: { "create-pr": createPr },
          github: { repository: "octo/sweeps", run_id: runId, run_attempt: 1 },
          needs: { "plan-1": { outputs: { "run-version": "m34_v1" } } },
        },
        { success: true, failure: false, cancelled: false },
      );
    expect(plain(group(true, 1))).toBe("tunix-rt-evidence-octo/sweeps-m34_v1");
    expect(plain(group(true, 2))).toBe(plain(group(true, 1)));
    expect(plain(group(false, 1))).toBe("tunix-rt-aggregate-1-1");
    expect(plain(group(false, 2))).not.toBe(plain(group(false, 1)));
  });

  it("a chain scenario fails when a condition is wrong (the check can fail)", async () => {
    // Drop the status function of wave 2's trials: a failed trial in wave 1 then skips them.
    // biome-ignore-start lint/suspicious/noTemplateCurlyInString: workflow expressions, not templates.
    const text = read(".github/workflows/sweep.yml").replace(
      "if: ${{ !cancelled() && needs.plan-2.result == 'success' && needs.plan-2.outputs.count != '0' }}",
      "if: ${{ needs.plan-2.result == 'success' && needs.plan-2.outputs.count != '0' }}",
    );
    // biome-ignore-end lint/suspicious/noTemplateCurlyInString: workflow expressions, not templates.
    expect(text).not.toBe(read(".github/workflows/sweep.yml"));
    const broken = chainScenarios(await jobGraph(text));
    expect(broken.some((s) => s.failures.length > 0)).toBe(true);
  });
});

describe("the sweep's inputs", () => {
  it("are the same for workflow_dispatch and workflow_call", () => {
    const sweep = parse(read(".github/workflows/sweep.yml")) as {
      on: Record<string, { inputs: Record<string, unknown> }>;
    };
    expect(sweep.on.workflow_call?.inputs).toEqual(sweep.on.workflow_dispatch?.inputs);
  });
});
