/**
 * A workflow's jobs run in order as GitHub runs them, with tunix-rt's actions mapped onto
 * this checkout's committed bundles: every `${{ }}` (job and step conditions, `with:`,
 * `env:`, `strategy.matrix`, job outputs) evaluated by GitHub's expression engine, each
 * matrix entry a job of its own, each step run as the runner runs a JavaScript action
 * (`runBundle`: `node dist/<action>.js`, INPUT_*, GITHUB_OUTPUT), each job with a runtime
 * token of its own for the run's artifact service (the stand-in). A stand-in runner, for the
 * steps a generated workflow has: `actions/checkout` (the workspace is the checkout here), the
 * App token step (skipped when no App is given), tunix-rt's actions, and GitHub's
 * attest-build-provenance through the test's own signer (`attest`: GitHub's OIDC token and
 * Sigstore cannot be reached here). Anything else fails.
 */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { data } from "@actions/expressions";
import { parse } from "yaml";
import type { ResultsStandIn } from "../github/stand-in/results.js";
import {
  evaluate,
  type Job,
  type JobGraph,
  jobGraph,
  needsOf,
  type Result,
  truthy,
  upstreamOf,
} from "../workflows/chain.js";
import { runBundle, type StepResult } from "./helpers.js";

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface RunnableJob extends Job {
  env?: Record<string, string>;
  strategy?: { matrix?: unknown };
  steps?: Step[];
}

/** One run of a step: the job (and matrix entry) it belonged to, and what it left. */
export interface StepRun {
  job: string;
  step: string;
  matrix?: Record<string, unknown>;
  result: StepResult;
}

/** Signs as actions/attest-build-provenance does: its inputs in, its outputs (bundle-path) out. */
export type AttestStandIn = (inputs: Record<string, string>) => Promise<Record<string, string>>;

/** What a workflow run did. */
export interface WorkflowRun {
  /** Each job's result and outputs, skipped ones included. */
  jobs: Map<string, { result: Result; outputs: Record<string, string> }>;
  /** Every tunix-rt step that ran, in order. */
  steps: StepRun[];
}

/** A value from the workflow: `${{ }}` parts evaluated, the rest kept, as the runner does. */
function expand(value: unknown, context: Record<string, unknown>, status = always): string {
  if (typeof value !== "string") return value === undefined || value === null ? "" : String(value);
  const whole = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(value);
  if (whole && !whole[1]?.includes("}}")) return coerce(evaluate(`\${{${whole[1]}}}`, context, status));
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expr: string) =>
    coerce(evaluate(`\${{${expr}}}`, context, status)),
  );
}

/** An expression's value as a string, as the runner puts it into an input or a variable. */
function coerce(d: data.ExpressionData): string {
  return d.coerceString();
}

const always = { success: true, failure: false, cancelled: false };

/** What the workflow_dispatch inputs are, their defaults filled in. */
function dispatchInputs(text: string, given: Record<string, unknown>): Record<string, unknown> {
  const on = (
    parse(text) as { on: { workflow_dispatch?: { inputs?: Record<string, { default?: unknown }> } } }
  ).on;
  const inputs: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(on.workflow_dispatch?.inputs ?? {}))
    inputs[name] = spec.default ?? "";
  return { ...inputs, ...given };
}

/**
 * Runs a workflow dispatched with `inputs`: jobs in the order of `needs`, each condition as
 * GitHub's converter gives it. `workspace` is every job's checkout; `run` names the workflow
 * run in the artifact service.
 */
export async function runWorkflow(
  text: string,
  {
    workspace,
    inputs = {},
    results,
    run,
    env = {},
    attest,
  }: {
    workspace: string;
    inputs?: Record<string, unknown>;
    results: ResultsStandIn;
    run: string;
    env?: Record<string, string>;
    attest?: AttestStandIn;
  },
): Promise<WorkflowRun> {
  const graph: JobGraph = await jobGraph(text);
  const jobs = graph.jobs as Record<string, RunnableJob>;
  const done = new Map<string, { result: Result; outputs: Record<string, string> }>();
  const steps: StepRun[] = [];
  const github = {
    repository: "octo/sweeps",
    run_id: 4242,
    run_attempt: 1,
    token: "ghs_0000000000000000000000000000000000AB",
  };
  const base = { inputs: dispatchInputs(text, inputs), github, secrets: {} };
  const pending = Object.keys(jobs);
  while (pending.length > 0) {
    const index = pending.findIndex((j) => needsOf(jobs[j] as Job).every((n) => done.has(n)));
    if (index < 0) throw new Error(`jobs ${pending.join(", ")} wait on each other`);
    const name = pending.splice(index, 1)[0] as string;
    const job = jobs[name] as RunnableJob;
    const upstream = [...upstreamOf(graph, name)].map((n) => done.get(n)?.result);
    const status = {
      success: upstream.every((r) => r === "success"),
      failure: upstream.some((r) => r === "failure"),
      cancelled: false,
    };
    const needs = Object.fromEntries(needsOf(job).map((n) => [n, done.get(n)]));
    const context = { ...base, needs };
    const condition = graph.conditions.get(name) ?? "success()";
    if (!truthy(evaluate(condition, context, status))) {
      done.set(name, { result: "skipped", outputs: {} });
      continue;
    }
    const matrixValue = job.strategy?.matrix;
    const entries: Array<Record<string, unknown> | undefined> =
      matrixValue === undefined
        ? [undefined]
        : (toPlain(evaluate(String(matrixValue), context, always)) as { include: Record<string, unknown>[] })
            .include;
    let result: Result = "success";
    let outputs: Record<string, string> = {};
    for (const matrix of entries) {
      const ran = await runJob(name, job, {
        context: { ...context, ...(matrix ? { matrix } : {}) },
        workspace,
        env: { ...env, ...results.envFor(run) },
        steps,
        matrix,
        attest,
      });
      if (ran.result === "failure") result = "failure";
      outputs = ran.outputs;
    }
    done.set(name, { result, outputs });
  }
  return { jobs: done, steps };
}

/** An expression's value as plain JSON (objects and arrays included). */
function toPlain(d: data.ExpressionData): unknown {
  return JSON.parse(JSON.stringify(d, data.replacer));
}

/** One job (one matrix entry of it): its steps in order, then its outputs. */
async function runJob(
  name: string,
  job: RunnableJob,
  {
    context,
    workspace,
    env,
    steps,
    matrix,
    attest,
  }: {
    context: Record<string, unknown>;
    workspace: string;
    env: Record<string, string>;
    steps: StepRun[];
    matrix: Record<string, unknown> | undefined;
    attest: AttestStandIn | undefined;
  },
): Promise<{ result: "success" | "failure"; outputs: Record<string, string> }> {
  const jobEnv = Object.fromEntries(Object.entries(job.env ?? {}).map(([k, v]) => [k, expand(v, context)]));
  // The runner's temp folder is the job's: one step leaves files there for the next.
  const runnerTemp = await mkdtemp(path.join(os.tmpdir(), "tunix-rt-job-"));
  const stepOutputs: Record<string, { outputs: Record<string, string>; outcome: string }> = {};
  let failed = false;
  for (const [i, step] of (job.steps ?? []).entries()) {
    const here = { ...context, env: jobEnv, steps: stepOutputs };
    const status = { success: !failed, failure: failed, cancelled: false };
    const condition = step.if === undefined ? "success()" : step.if.replace(/^\s*\$\{\{|\}\}\s*$/g, "");
    const withStatus = /\b(success|failure|always|cancelled)\(\)/.test(condition)
      ? condition
      : `success() && (${condition})`;
    if (!truthy(evaluate(withStatus, here, status))) {
      if (step.id) stepOutputs[step.id] = { outputs: {}, outcome: "skipped" };
      continue;
    }
    const uses = step.uses ?? "";
    if (uses.startsWith("actions/checkout@")) continue;
    if (uses.startsWith("actions/attest-build-provenance@")) {
      if (!attest) throw new Error(`${name}.steps[${i}]: ${uses} needs the test's signer (attest)`);
      const inputs = Object.fromEntries(
        Object.entries(step.with ?? {}).map(([k, v]) => [k, expand(v, here)]),
      );
      const outputs = await attest(inputs);
      if (step.id) stepOutputs[step.id] = { outputs, outcome: "success" };
      continue;
    }
    const action = /^(?:\.\/actions\/|[\w.-]+\/[\w.-]+\/actions\/)([a-z-]+)(?:@[0-9a-f]{40})?$/.exec(
      uses,
    )?.[1];
    if (!action)
      throw new Error(
        `${name}.steps[${i}]: this stand-in runner runs tunix-rt's actions only, not ${uses || "run:"}`,
      );
    const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, expand(v, here)]));
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v, here)]));
    const result = await runBundle(`dist/${action}.js`, inputs, {
      workspace,
      env: { RUNNER_TEMP: runnerTemp, ...env, ...jobEnv, ...stepEnv },
    });
    steps.push({
      job: name,
      step: step.id ?? step.name ?? `steps[${i}]`,
      ...(matrix ? { matrix } : {}),
      result,
    });
    const outcome = result.code === 0 ? "success" : "failure";
    if (step.id) stepOutputs[step.id] = { outputs: result.outputs, outcome };
    if (outcome === "failure") failed = true;
  }
  const outputs = Object.fromEntries(
    Object.entries(job.outputs ?? {}).map(([k, v]) => [k, expand(v, { ...context, steps: stepOutputs })]),
  );
  return { result: failed ? "failure" : "success", outputs };
}
