/**
 * Markdown for job summaries (`GITHUB_STEP_SUMMARY`) and the annotations of verify: pure
 * functions from plain data to text. Everything passes through `redact` first, since a summary
 * is public to everyone who can read the workflow run.
 */

import path from "node:path";
import type { SweepConfig } from "../core/config/config.js";
import { paramText } from "../core/config/space.js";
import type { Problem } from "../core/errors.js";
import { lineText, markdownCode, markdownText } from "../core/escape.js";
import { redact } from "../core/redact.js";
import type { AggregatedTrial, TrialCounts } from "../core/report/leaderboard.js";
import type { Plan } from "../core/search/plan.js";
import { completedNote } from "../core/search/trial-record.js";

/**
 * GitHub takes at most 1 MiB of job summary per step, counted in bytes: the runner compares the
 * size of the step's GITHUB_STEP_SUMMARY file with 1024 * 1024 and drops a larger summary
 * whole ("Adding a job summary": "each step is restricted to a maximum size of 1MiB",
 * https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions#adding-a-job-summary).
 * A summary is clipped below that, saying so, rather than lost.
 */
export const maxSummaryBytes = 1024 * 1024;

/** The line that ends a clipped summary. */
export const summaryClippedNote = "\n\n(summary clipped: GitHub takes at most 1 MiB per step)\n";

/**
 * A text clipped to at most `maxBytes` bytes of UTF-8, note included: as many whole characters
 * as fit before the note (a character's bytes are never split, so the text stays valid UTF-8),
 * then the note. A text that fits is returned as it is; a limit too small for the note gives "".
 */
export function clipToBytes(text: string, maxBytes: number, note = summaryClippedNote): string {
  const encoded = Buffer.from(text, "utf8");
  if (encoded.length <= maxBytes) return text;
  const room = maxBytes - Buffer.byteLength(note, "utf8");
  if (room < 0) return "";
  // encoded[end] is the first byte left out: while it continues a character (10xxxxxx), that
  // character would be split, so step back to its first byte.
  let end = room;
  while (end > 0 && ((encoded[end] as number) & 0xc0) === 0x80) end--;
  return `${encoded.subarray(0, end).toString("utf8")}${note}`;
}

/** Options shared by the summary builders. */
export interface SummaryOptions {
  /** Secret values to redact (token shapes are redacted always). */
  secrets?: readonly string[];
}

const score = (s: number | null | undefined) => (typeof s === "number" ? s.toFixed(4) : "–");

function finish(lines: readonly string[], secrets: readonly string[] = []): string {
  return clipToBytes(redact(`${lines.join("\n")}\n`, secrets), maxSummaryBytes);
}

/** A trial's few lines of job summary: outcome, score, params, the artifact. */
export function trialSummary(
  record: TrialSummaryInput,
  artifact: string | null,
  options: SummaryOptions = {},
): string {
  const lines = [
    `### tunix-rt trial ${markdownText(record.trial_id)}: ${markdownText(record.status)}`,
    "",
    `primary_score **${score(record.primary_score)}**${record.duration_s === null ? "" : ` in ${record.duration_s.toFixed(1)}s`}` +
      ` (sweep ${markdownCode(record.sweep_id)}, seed ${record.seed})`,
  ];
  const note = completedNote(record);
  if (record.status !== "completed" && record.error) lines.push("", `> ${markdownText(record.error)}`);
  else if (note) lines.push("", `> Note: ${markdownText(note)}`);
  const params = Object.entries(record.params);
  if (params.length) {
    lines.push("", "| parameter | value |", "|---|---|");
    for (const [k, v] of params) lines.push(`| ${markdownText(k)} | ${markdownText(String(v))} |`);
  }
  if (artifact) lines.push("", `Artifact: ${markdownCode(artifact)}`);
  return finish(lines, options.secrets);
}

/** What `trialSummary` shows of a trial record. */
export interface TrialSummaryInput {
  trial_id: string;
  status: string;
  primary_score: number | null;
  duration_s: number | null;
  sweep_id: string;
  seed: number;
  error?: string | null;
  /** A completed trial's note (`TrialJson.note`). */
  note?: string;
  params: Readonly<Record<string, unknown>>;
}

/**
 * The plan job's summary: the sweep's identity, the matrix size and parallelism, and one row
 * per planned trial with its params.
 */
export function planSummary(plan: Plan, config: SweepConfig, options: SummaryOptions = {}): string {
  const names = [...new Set(plan.trials.flatMap((t) => Object.keys(t.params)))];
  const lines = [
    `## tunix-rt plan: ${markdownText(plan.run_version)}`,
    "",
    `Sweep ${markdownCode(plan.sweep_id)} of **${markdownText(config.name)}** (${markdownText(config.base_model_id ?? "model not given")}, metric ${markdownText(config.metric_name)}).`,
    "",
    `${plan.trials.length} trial${plan.trials.length === 1 ? "" : "s"}, sampler ${plan.sampler}, seed ${plan.seed}, at most ${config.max_concurrent_trials} in parallel.`,
  ];
  // Which trials come from the sampler's warm-up and which from its model.
  if (plan.proposed)
    lines.push("", `Proposed (${plan.proposed.phase}): ${markdownText(plan.proposed.note)}.`);
  if (plan.trials.length === 0) {
    lines.push("", "Nothing to run: the plan is empty (the trial jobs are skipped).");
    return finish(lines, options.secrets);
  }
  const head = [
    "trial",
    "seed",
    ...names.map(markdownText),
    ...(plan.trials.some((t) => t.budget !== undefined) ? ["budget"] : []),
  ];
  lines.push("", `| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
  for (const t of plan.trials) {
    const cells = [
      markdownText(t.trial_id),
      String(t.seed),
      ...names.map((n) => markdownText(t.params[n] === undefined ? "" : String(t.params[n]))),
      ...(head.includes("budget") ? [t.budget === undefined ? "" : String(t.budget)] : []),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return finish(lines, options.secrets);
}

/** A pull request as the aggregate summary shows it (from `publishEvidence`). */
export interface SummaryPullRequest {
  operation: "created" | "updated" | "unchanged";
  number: number | null;
  url: string | null;
  /** Whether the pull request is open (verify is reported only then). */
  open?: boolean;
  /** Where verify's verdict went on its head (from `reportCheck`); undefined: not reported. */
  report?: SummaryReport;
}

/** Where verify's verdict went, as the aggregate summary shows it. */
export interface SummaryReport {
  kind: "check-run" | "commit-status" | "none";
  /** The check's name (the commit status's context). */
  name: string;
  url: string | null;
  /** Why it is not a check run. */
  note?: string;
}

/** What the aggregate summary shows. */
export interface AggregateSummaryInput extends SummaryOptions {
  /** The leaderboard as `leaderboardMarkdown` wrote it (it lists failed trials with reasons). */
  leaderboardMd: string;
  counts: TrialCounts;
  best: AggregatedTrial | undefined;
  pr?: SummaryPullRequest;
  /** The workflow run's URL. */
  runUrl?: string;
  /** The charts as Markdown (`chartsMarkdown`), shown after the outcome. */
  charts?: string;
}

/**
 * The aggregate job's summary: the outcome in one line (best trial and score, or why there is
 * none; the failure budget), the pull request, then the leaderboard with its failed trials.
 */
export function aggregateSummary(input: AggregateSummaryInput): string {
  const { counts, best, pr } = input;
  const lines: string[] = [];
  if (best) {
    const params = Object.entries(best.params)
      .map(([k, v]) => `${k}=${paramText(v)}`)
      .join(", ");
    lines.push(
      `**Best trial: ${markdownText(best.trial_id)}**, primary_score ${score(best.primary_score)}${params ? ` (${markdownText(params)})` : ""}.`,
    );
  } else {
    lines.push(
      `**No best trial**: none of the ${counts.total} trials completed with a score; no evidence was written.`,
    );
  }
  if (counts.failure_budget_exceeded) {
    lines.push(
      "",
      `:x: ${counts.failures} trials failed or timed out, over max_failed_trials (${counts.max_failed_trials}).`,
    );
  }
  if (pr) lines.push("", pullRequestSummary(pr));
  if (input.runUrl) lines.push("", `[Workflow run](${input.runUrl})`);
  if (input.charts) lines.push("", input.charts);
  lines.push("", input.leaderboardMd.trimEnd());
  return finish(lines, input.secrets);
}

/** The summary's lines on the evidence pull request and where verify's verdict went. */
export function pullRequestSummary(pr: SummaryPullRequest): string {
  const verb = {
    created: "opened",
    updated: "updated with a new commit",
    unchanged: "unchanged (same evidence)",
  }[pr.operation];
  return `${
    pr.number !== null && pr.url
      ? `Evidence pull request [#${pr.number}](${pr.url}): ${verb}.`
      : "Evidence pull request: none needed, the base branch already holds this evidence."
  }\n\n${reportLine(pr)}`;
}

/** The summary's line on where verify's verdict went. */
function reportLine(pr: SummaryPullRequest): string {
  const report = pr.report;
  if (!report)
    return pr.open === false
      ? "Verify's verdict: not reported, since no evidence pull request is open (a check would land on the base branch)."
      : "Verify's verdict: not reported.";
  const name = markdownCode(report.name);
  const linked = report.url ? `[${name}](${report.url})` : name;
  switch (report.kind) {
    case "check-run":
      return `Verify's verdict: check run ${linked} on the pull request's head.`;
    case "commit-status":
      return `Verify's verdict: commit status ${linked} on the pull request's head, not a check run: ${markdownText(report.note ?? "")}.`;
    case "none":
      return `:warning: Verify's verdict: ${markdownText(report.note ?? "not reported")}.`;
  }
}

/** How the verify summary names the folder. */
export interface VerifySummaryOptions extends SummaryOptions {
  /** The evidence folder or zip as shown to the user. */
  dir: string;
  valid: boolean;
}

/**
 * The verify step's summary. GitHub shows only the first few annotations of a step (10 errors
 * at the time of writing), so every problem is listed here as well, in a table.
 */
export function verifySummary(problems: readonly Problem[], options: VerifySummaryOptions): string {
  const n = problems.length;
  const lines = [
    options.valid
      ? `## :white_check_mark: Evidence is valid: ${markdownCode(options.dir)}`
      : `## :x: ${n} problem${n === 1 ? "" : "s"} in ${markdownCode(options.dir)}`,
  ];
  if (n > 0) {
    lines.push("", "| file | line | field | problem |", "|---|---|---|---|");
    for (const p of problems) {
      lines.push(
        `| ${markdownText(p.file)} | ${p.line ?? ""} | ${markdownText(p.path || "–")} | ${markdownText(p.message)} |`,
      );
    }
  }
  return finish(lines, options.secrets);
}

/** One annotation, in the shape `core.error(message, {title, file, startLine})` takes. */
export interface ProblemAnnotation {
  message: string;
  /** Path relative to the repository root, `/`-separated. */
  file: string;
  startLine?: number;
  title: string;
}

/** How problem paths become annotation paths. */
export interface AnnotationOptions extends SummaryOptions {
  /** Absolute problem paths are made relative to this (the workspace); relative ones are kept. */
  repoRoot?: string;
}

/**
 * Problems as error annotations on their file (and line, for JSONL files): the message carries
 * the JSON path, the title names the check.
 */
export function problemAnnotations(
  problems: readonly Problem[],
  options: AnnotationOptions = {},
): ProblemAnnotation[] {
  const secrets = options.secrets ?? [];
  return problems.map((p) => {
    let file = p.file;
    if (options.repoRoot && path.isAbsolute(file)) file = path.relative(options.repoRoot, file);
    file = file.split(path.sep).join("/").replace(/^\.\//, "");
    // One line each, whichever writer encodes them (the runner's @actions/core escapes line
    // breaks; a stand-in that does not still prints one line): a name from evidence may hold any.
    return {
      message: lineText(redact(p.path ? `${p.path}: ${p.message}` : p.message, secrets)),
      file: lineText(file) || ".",
      ...(p.line === undefined ? {} : { startLine: p.line }),
      title: "tunix-rt verify",
    };
  });
}
