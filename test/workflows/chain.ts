/**
 * A sweep workflow's chain of jobs run as GitHub decides it, through GitHub's own expression
 * engine (@actions/expressions) and its converter (@actions/workflow-parser, which turns a
 * condition without a status function into `success() && (...)`): for any sweep workflow
 * text, the own one and every generated user's.
 */
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { parse } from "yaml";

/** A job's result as `needs.<job>.result` gives it. */
export type Result = "success" | "failure" | "skipped" | "cancelled";
/** What a job of the workflow file says about its order and outputs. */
export interface Job {
  needs?: string | string[];
  if?: string;
  outputs?: Record<string, string>;
  steps?: Array<{ id?: string; uses?: string; with?: Record<string, unknown>; env?: Record<string, string> }>;
  concurrency?: { group: string; queue?: string };
}

/** The status functions an expression may call, with their values for one evaluation. */
export interface Status {
  success: boolean;
  failure: boolean;
  cancelled: boolean;
}

/** Evaluates a workflow expression (with or without `${{ }}`) with GitHub's engine. */
export function evaluate(
  expression: string,
  context: Record<string, unknown>,
  status: Status,
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
export const plain = (d: data.ExpressionData): unknown => ("value" in d ? d.value : d);
/** Whether a value is truthy as GitHub's `if:` reads it. */
export const truthy = (d: data.ExpressionData) => {
  const v = plain(d);
  return !(v === false || v === null || v === 0 || v === "" || Number.isNaN(v));
};
/** A job's needs as a list. */
export const needsOf = (job: Job) =>
  job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];

/** A workflow's jobs and each job's condition as GitHub's converter gives it. */
export interface JobGraph {
  jobs: Record<string, Job>;
  conditions: Map<string, string>;
}

/** Parses a workflow text into its jobs and their converted conditions. */
export async function jobGraph(text: string, name = "workflow.yml"): Promise<JobGraph> {
  const parsed = parseWorkflow({ name, content: text }, new NoOperationTraceWriter());
  if (!parsed.value) throw new Error(`${name}: not parsed`);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  const conditions = new Map<string, string>();
  for (const job of template.jobs)
    if (job.type === "job" && job.if) conditions.set(job.id.value, job.if.expression);
  return { jobs: (parse(text) as { jobs: Record<string, Job> }).jobs, conditions };
}

/** What a job does when it runs: its result and the outputs it sets (outputs of plan jobs). */
export type Outcome = { result: "success" | "failure"; outputs?: Record<string, string> };

/** Every job upstream of `name` (the needs of its needs, too). */
export function upstreamOf(graph: JobGraph, name: string): Set<string> {
  const upstream = new Set<string>();
  const walk = (j: string) => {
    for (const n of needsOf(graph.jobs[j] as Job)) {
      if (upstream.has(n)) continue;
      upstream.add(n);
      walk(n);
    }
  };
  walk(name);
  return upstream;
}

/**
 * Runs the job graph as GitHub decides it: in the order of `needs`, each job's condition
 * evaluated with the results and outputs of the jobs it needs; a job whose condition is false
 * is skipped and sets no outputs. `cancelled` is the run's state after the given jobs ran.
 * Returns every job's result, and the aggregate's `matrix:`.
 */
export function simulate(graph: JobGraph, outcomes: Record<string, Outcome>, cancelled = false) {
  const results = new Map<string, { result: Result; outputs: Record<string, string> }>();
  const pending = Object.keys(graph.jobs);
  while (pending.length) {
    const i = pending.findIndex((j) => needsOf(graph.jobs[j] as Job).every((n) => results.has(n)));
    const name = pending.splice(i, 1)[0] as string;
    const job = graph.jobs[name] as Job;
    // success() and failure() look at every job upstream, not only the direct needs.
    const all = [...upstreamOf(graph, name)].map((n) => results.get(n)?.result);
    const status = {
      success: all.every((r) => r === "success") && !cancelled,
      failure: all.some((r) => r === "failure"),
      cancelled,
    };
    const context = {
      needs: Object.fromEntries(needsOf(job).map((n) => [n, results.get(n)])),
      inputs: { "create-pr": true },
      github: { repository: "octo/sweeps", run_id: 42, run_attempt: 1 },
    };
    const condition = graph.conditions.get(name);
    if (condition === undefined) throw new Error(`${name}: no condition from the converter`);
    const runs = truthy(evaluate(condition, context, status));
    const outcome = outcomes[name] ?? { result: "success" };
    results.set(
      name,
      runs ? { result: outcome.result, outputs: outcome.outputs ?? {} } : { result: "skipped", outputs: {} },
    );
  }
  const aggregate = graph.jobs.aggregate as Job;
  const matrixExpr = String(aggregate.steps?.find((s) => s.id === "aggregate")?.with?.matrix ?? "");
  const needs = Object.fromEntries([...results].filter(([n]) => needsOf(aggregate).includes(n)));
  const matrix = evaluate(matrixExpr, { needs }, { success: true, failure: false, cancelled: false });
  return { result: (job: string) => results.get(job)?.result, matrix: plain(matrix) };
}

/** A plan job that planned wave `k` (`done` when it is the last). */
export const planned = (k: number, done = false): Outcome => ({
  result: "success",
  outputs: { "sweep-id": "s", count: "2", done: String(done), planned: `planned through wave ${k}` },
});

/** The wave jobs of a sweep workflow: how many plan-k jobs it has. */
export const waveCount = (graph: JobGraph) =>
  Object.keys(graph.jobs).filter((j) => /^plan-\d+$/.test(j)).length;

/**
 * The chain scenarios that decide whether evidence gets written, for a workflow of `waves`
 * wave jobs, each a list of expectations (job, expected result): the waves a schedule has,
 * a failed trial in wave 1, a failed plan in wave 2, a cancelled run, an empty first plan.
 */
export function chainScenarios(graph: JobGraph): Array<{ name: string; failures: string[] }> {
  const waves = waveCount(graph);
  const last = Math.min(3, waves);
  const through = Object.fromEntries(
    Array.from({ length: last }, (_, i) => [`plan-${i + 1}`, planned(i + 1, i + 1 === last)]),
  );
  const scenarios: Array<{ name: string; failures: string[] }> = [];
  const expect = (name: string, checks: Array<[unknown, unknown, string]>) =>
    scenarios.push({
      name,
      failures: checks
        .filter(([got, want]) => got !== want)
        .map(([got, want, what]) => `${what}: got ${got}, expected ${want}`),
    });

  const run = simulate(graph, through);
  expect(`the schedule's ${last} waves run, then the aggregate`, [
    ...Array.from(
      { length: last },
      (_, i): Array<[unknown, unknown, string]> => [
        [run.result(`plan-${i + 1}`), "success", `plan-${i + 1}`],
        [run.result(`trials-${i + 1}`), "success", `trials-${i + 1}`],
      ],
    ).flat(),
    ...(waves > last
      ? ([[run.result(`plan-${last + 1}`), "skipped", `plan-${last + 1} after a done plan`]] as Array<
          [unknown, unknown, string]
        >)
      : []),
    [run.result("aggregate"), "success", "aggregate"],
    [run.matrix, `planned through wave ${last}`, "aggregate's matrix"],
  ]);

  if (waves >= 2) {
    const failedTrial = simulate(graph, { ...through, "trials-1": { result: "failure" } });
    expect("a failed trial in wave 1: later waves plan and train, the evidence is written", [
      [failedTrial.result("plan-2"), "success", "plan-2"],
      [failedTrial.result("trials-2"), "success", "trials-2"],
      [failedTrial.result("aggregate"), "success", "aggregate"],
      [failedTrial.matrix, `planned through wave ${last}`, "aggregate's matrix"],
    ]);
    const failedPlan = simulate(graph, { "plan-1": planned(1), "plan-2": { result: "failure" } });
    expect("a failed plan in wave 2: no later wave, wave 1's evidence is written", [
      [failedPlan.result("trials-2"), "skipped", "trials-2"],
      ...(waves >= 3
        ? ([[failedPlan.result("plan-3"), "skipped", "plan-3"]] as Array<[unknown, unknown, string]>)
        : []),
      [failedPlan.result("aggregate"), "success", "aggregate"],
      [failedPlan.matrix, "planned through wave 1", "aggregate's matrix"],
    ]);
  } else {
    const failedTrial = simulate(graph, { "plan-1": planned(1, true), "trials-1": { result: "failure" } });
    expect("a failed trial: the evidence is written", [
      [failedTrial.result("aggregate"), "success", "aggregate"],
    ]);
  }
  const cancelled = simulate(graph, { "plan-1": planned(1) }, true);
  expect("a cancelled run: nothing more runs, no aggregate", [
    [cancelled.result("trials-1"), "skipped", "trials-1"],
    [cancelled.result("aggregate"), "skipped", "aggregate"],
  ]);
  const empty = simulate(graph, {
    "plan-1": { result: "success", outputs: { "sweep-id": "s", count: "0", done: "true" } },
  });
  expect("an empty first plan: no trial job, no aggregate", [
    [empty.result("trials-1"), "skipped", "trials-1"],
    [empty.result("aggregate"), "skipped", "aggregate"],
  ]);
  return scenarios;
}
