/**
 * The workflows and actions read by GitHub's own engine: the workflow language service of the
 * official VS Code extension (@actions/languageservice, on @actions/workflow-parser), with a
 * file provider so a local reusable workflow's inputs and outputs resolve; and the sweep's
 * chain of jobs run through GitHub's expression engine (@actions/expressions) for the cases
 * that decide whether evidence gets written: a failed trial, a failed plan, a cancelled run.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import { validate } from "@actions/languageservice";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { describe, expect, it } from "vitest";
import { TextDocument } from "vscode-languageserver-textdocument";
import { parse } from "yaml";
import { sweepWorkflow, waves } from "../../scripts/build-workflows.mjs";
import { maxWorkflowWaves } from "../../src/core/fidelity.js";
import { repoRoot } from "../actions/helpers.js";

const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");

/** Local files as the language service asks for them (a reusable workflow's `uses: ./...`). */
const fileProvider = {
  async getFileContent(ref: { path: string; repository?: string }) {
    if (ref.repository) throw new Error(`no remote files here: ${JSON.stringify(ref)}`);
    return { name: ref.path, content: read(ref.path) };
  },
};

async function diagnostics(file: string, text = read(file)): Promise<string[]> {
  const doc = TextDocument.create(`file://${path.join(repoRoot, file)}`, "yaml", 1, text);
  const found = await validate(doc, { fileProvider });
  return found.map((d) => `${file}:${d.range.start.line + 1}: ${d.message}`);
}

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
      expect(await diagnostics(file)).toEqual([]);
    });
  }

  it("does report broken workflows: a bad key, a bad expression, an input a called workflow lacks", async () => {
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
      "  c:",
      "    uses: ./.github/workflows/sweep.yml",
      "    with:",
      "      no-such-input: 1",
      "",
    ].join("\n");
    const found = await diagnostics(".github/workflows/broken.yml", broken);
    expect(found.some((d) => /stepz/.test(d))).toBe(true);
    expect(found.some((d) => /:9: /.test(d))).toBe(true);
    // Only the file provider can know sweep.yml's inputs: this proves it is read.
    expect(found.some((d) => /no-such-input/.test(d))).toBe(true);
  });
});

describe("sweep.yml", () => {
  it("is what scripts/build-workflows.mjs writes, with as many waves as the plan knows", () => {
    // On a mismatch: npm run build:workflows
    expect(read(".github/workflows/sweep.yml")).toBe(sweepWorkflow());
    expect(waves).toBe(maxWorkflowWaves);
  });
});

type Result = "success" | "failure" | "skipped" | "cancelled";
interface Job {
  needs?: string | string[];
  if?: string;
  outputs?: Record<string, string>;
}

const doc = parse(read(".github/workflows/sweep.yml")) as { jobs: Record<string, Job> };
/**
 * Each job's condition as GitHub's own converter makes it: one without a status function
 * becomes `success() && (...)`, the default is `success()`.
 */
const conditions = await (async () => {
  const parsed = parseWorkflow(
    { name: "sweep.yml", content: read(".github/workflows/sweep.yml") },
    new NoOperationTraceWriter(),
  );
  if (!parsed.value) throw new Error("sweep.yml: not parsed");
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  const conditions = new Map<string, string>();
  for (const job of template.jobs) {
    if (job.type === "job" && job.if) conditions.set(job.id.value, job.if.expression);
  }
  return conditions;
})();
const needsOf = (job: Job) =>
  job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];

/** Evaluates a workflow expression (with or without `${{ }}`) with GitHub's engine. */
function evaluate(
  expression: string,
  context: Record<string, unknown>,
  status: { success: boolean; failure: boolean; cancelled: boolean },
): data.ExpressionData {
  const source = expression.replace(/^\s*\$\{\{/, "").replace(/\}\}\s*$/, "");
  const lexed = new Lexer(source).lex();
  const fn = (name: string, value: boolean) => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => new data.BooleanData(value),
  });
  const functions = [
    fn("success", status.success),
    fn("failure", status.failure),
    fn("cancelled", status.cancelled),
    fn("always", true),
  ];
  const parsed = new Parser(lexed.tokens, Object.keys(context), functions).parse();
  const dict = JSON.parse(JSON.stringify(context), data.reviver) as data.Dictionary;
  return new Evaluator(parsed, dict, new Map(functions.map((f) => [f.name, f]))).evaluate();
}
/** The plain value of a scalar result (strings, numbers, booleans, null). */
const plain = (d: data.ExpressionData): unknown => ("value" in d ? d.value : d);
const truthy = (d: data.ExpressionData) => {
  const v = plain(d);
  return !(v === false || v === null || v === 0 || v === "" || Number.isNaN(v));
};

/** What a job does when it runs: its result and the outputs it sets (outputs of plan jobs). */
type Outcome = { result: "success" | "failure"; outputs?: Record<string, string> };

/**
 * Runs the job graph of sweep.yml as GitHub decides it: in the order of `needs`, each job's
 * condition (as GitHub's converter gives it) evaluated with the results and outputs of the jobs it needs; a
 * job whose condition is false is skipped and sets no outputs. `cancelled` is the run's
 * state after the given jobs ran. Returns every job's result, and the aggregate's `matrix:`.
 */
function simulate(outcomes: Record<string, Outcome>, cancelled = false) {
  const results = new Map<string, { result: Result; outputs: Record<string, string> }>();
  const pending = Object.keys(doc.jobs);
  while (pending.length) {
    const i = pending.findIndex((j) => needsOf(doc.jobs[j] as Job).every((n) => results.has(n)));
    const name = pending.splice(i, 1)[0] as string;
    const job = doc.jobs[name] as Job;
    const needed = needsOf(job);
    // success() and failure() look at every job upstream, not only the direct needs.
    const upstream = new Set<string>();
    const walk = (j: string) => {
      for (const n of needsOf(doc.jobs[j] as Job)) {
        if (upstream.has(n)) continue;
        upstream.add(n);
        walk(n);
      }
    };
    walk(name);
    const all = [...upstream].map((n) => results.get(n)?.result);
    const status = {
      success: all.every((r) => r === "success") && !cancelled,
      failure: all.some((r) => r === "failure"),
      cancelled,
    };
    const context = {
      needs: Object.fromEntries(needed.map((n) => [n, results.get(n)])),
      inputs: { "create-pr": true },
      github: { repository: "octo/sweeps", run_id: 42, run_attempt: 1 },
    };
    const condition = conditions.get(name);
    if (condition === undefined) throw new Error(`${name}: no condition from the converter`);
    const runs = truthy(evaluate(condition, context, status));
    const outcome = outcomes[name] ?? { result: "success" };
    results.set(
      name,
      runs ? { result: outcome.result, outputs: outcome.outputs ?? {} } : { result: "skipped", outputs: {} },
    );
  }
  const aggregate = doc.jobs.aggregate as Job & {
    steps: Array<{ id?: string; with?: Record<string, string> }>;
  };
  const matrixExpr = aggregate.steps.find((s) => s.id === "aggregate")?.with?.matrix ?? "";
  const needs = Object.fromEntries([...results].filter(([n]) => needsOf(aggregate).includes(n)));
  const matrix = evaluate(matrixExpr, { needs }, { success: true, failure: false, cancelled: false });
  return { result: (job: string) => results.get(job)?.result, matrix: plain(matrix) };
}

/** A plan job that planned wave `k` (`done` when it is the last). */
const planned = (k: number, done = false): Outcome => ({
  result: "success",
  outputs: { "sweep-id": "s", count: "2", done: String(done), planned: `planned through wave ${k}` },
});

describe("the sweep's chain of jobs, through GitHub's expression engine", () => {
  it("runs the waves the schedule has, then aggregates the last plan's trials", () => {
    const run = simulate({ "plan-1": planned(1), "plan-2": planned(2), "plan-3": planned(3, true) });
    expect(["plan-1", "trials-1", "plan-2", "trials-2", "plan-3", "trials-3"].map(run.result)).toEqual(
      Array(6).fill("success"),
    );
    expect(["plan-4", "trials-4", "plan-8"].map(run.result)).toEqual(["skipped", "skipped", "skipped"]);
    expect(run.result("aggregate")).toBe("success");
    expect(run.matrix).toBe("planned through wave 3");
  });

  it("a failed trial in wave 1: the next waves plan from what exists, and the evidence is written", () => {
    const run = simulate({
      "plan-1": planned(1),
      "trials-1": { result: "failure" },
      "plan-2": planned(2),
      "plan-3": planned(3, true),
    });
    // Every later wave trains, though a job upstream of it failed.
    expect(["plan-2", "trials-2", "plan-3", "trials-3"].map(run.result)).toEqual(Array(4).fill("success"));
    expect(run.result("aggregate")).toBe("success");
    expect(run.matrix).toBe("planned through wave 3");
  });

  it("a failed plan in wave 2: no later wave, the evidence of wave 1 is still written", () => {
    const run = simulate({ "plan-1": planned(1), "plan-2": { result: "failure" } });
    expect(["trials-2", "plan-3", "trials-3"].map(run.result)).toEqual(["skipped", "skipped", "skipped"]);
    expect(run.result("aggregate")).toBe("success");
    expect(run.matrix).toBe("planned through wave 1");
  });

  it("a cancelled run: nothing more runs, no aggregate", () => {
    const run = simulate({ "plan-1": planned(1) }, true);
    expect(run.result("plan-2")).toBe("skipped");
    expect(run.result("aggregate")).toBe("skipped");
  });

  it("a failed first plan, or one that planned nothing: no trial job, no aggregate", () => {
    const failed = simulate({ "plan-1": { result: "failure" } });
    expect(["trials-1", "plan-2", "aggregate"].map(failed.result)).toEqual(["skipped", "skipped", "skipped"]);
    const empty = simulate({
      "plan-1": { result: "success", outputs: { "sweep-id": "s", count: "0", done: "true" } },
    });
    expect(["trials-1", "plan-2", "aggregate"].map(empty.result)).toEqual(["skipped", "skipped", "skipped"]);
  });

  it("queues aggregates of one run_version with a pull request; each run without one is its own group", () => {
    const concurrency = (doc.jobs.aggregate as Job & { concurrency: { group: string; queue: string } })
      .concurrency;
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
});

describe("where each job finds tunix-rt's own actions", () => {
  type Step = { id?: string; env?: Record<string, string>; run?: string };
  const finders = Object.entries(doc.jobs).map(([name, job]) => {
    const step = (job as Job & { steps?: Step[] }).steps?.find((s) => s.id === "tunix-rt");
    return { name, step };
  });
  const always = { success: true, failure: false, cancelled: false };

  /** Runs a job's finder step as the runner would: env from GitHub's engine, then bash. */
  function find(step: Step, context: Record<string, unknown>) {
    const env = Object.fromEntries(
      // As the runner turns an expression's value into a variable: null is the empty string.
      Object.entries(step.env ?? {}).map(([key, expr]) => [
        key,
        evaluate(expr, context, always).coerceString(),
      ]),
    );
    const dir = mkdtempSync(path.join(tmpdir(), "tunix-rt-finder-"));
    const output = path.join(dir, "output");
    writeFileSync(output, "");
    const ran = spawnSync("bash", ["-e", "-c", step.run ?? ""], {
      env: { PATH: process.env.PATH, ...env, GITHUB_OUTPUT: output },
      encoding: "utf8",
    });
    return { code: ran.status, stdout: ran.stdout, output: readFileSync(output, "utf8") };
  }

  it("every job that uses them has the finder step", () => {
    expect(finders.filter((f) => !f.step).map((f) => f.name)).toEqual([]);
  });

  it("takes the called workflow's own repository and commit, or the inputs that name them", () => {
    const step = finders[0]?.step as Step;
    const context = (inputs: Record<string, string>) => ({
      inputs: { "tunix-rt-repository": "", "tunix-rt-ref": "", ...inputs },
      job: { workflow_repository: "tunix-rt/tunix-rt", workflow_sha: "a".repeat(40) },
    });
    expect(find(step, context({})).output).toBe(`repository=tunix-rt/tunix-rt\nref=${"a".repeat(40)}\n`);
    const given = find(
      step,
      context({ "tunix-rt-repository": "acme/tunix-rt", "tunix-rt-ref": "b".repeat(40) }),
    );
    expect(given.output).toBe(`repository=acme/tunix-rt\nref=${"b".repeat(40)}\n`);
  });

  it("fails at its first step with what to pass where GitHub names no workflow (no silent fallback)", () => {
    // The jobs share one template: each distinct finder step is run once.
    const distinct = new Map(finders.map((f) => [JSON.stringify(f.step), f] as const));
    expect(distinct.size).toBeGreaterThan(0);
    for (const { name, step } of distinct.values()) {
      const found = find(step as Step, {
        inputs: { "tunix-rt-repository": "", "tunix-rt-ref": "" },
        job: {},
      });
      expect(found.code, name).toBe(1);
      expect(found.stdout, name).toContain("::error::");
      expect(found.stdout, name).toContain("pass the inputs tunix-rt-repository and tunix-rt-ref");
      expect(found.output, name).toBe("");
    }
  });
});
