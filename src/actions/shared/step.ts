/**
 * How every action step ends: its outputs are set once, at the end, and then the step fails
 * when its work said "no" (a failed trial, invalid evidence). Errors thrown anywhere end up
 * in `failStep`, the one place that turns them into a failed step (the runner calls both).
 */
import { appendFile, stat } from "node:fs/promises";
import { EOL } from "node:os";
import * as core from "@actions/core";
import { InputError, messageOf, type Problem } from "../../core/errors.js";
import { logLine } from "../../core/escape.js";
import { clipToBytes, maxSummaryBytes, problemAnnotations } from "../../github/summary.js";
import { stepSummaryFile } from "./context.js";

/** What a step produced. */
export interface StepOutcome {
  /** Outputs by name (as action.yml declares them); set once, after the work is done. */
  outputs: Record<string, string>;
  /** When set, the step fails with this message after its outputs and summary are written. */
  failure?: string;
}

/**
 * Writes a line to the job log. Every plain log line of an action goes through here: its
 * text may hold strings from evidence or a trainer, and `logLine` keeps it one line that
 * starts no workflow command (`core.info` writes raw; `core.warning` and the other
 * annotations escape their text themselves).
 */
export function logInfo(text: string): void {
  core.info(logLine(text));
}

/** Sets a step's outputs, then fails it when its outcome says so. */
export function finishStep(outcome: StepOutcome): void {
  for (const [name, value] of Object.entries(outcome.outputs)) core.setOutput(name, value);
  if (outcome.failure !== undefined) core.setFailed(outcome.failure);
}

/**
 * Fails the step with the error's one-line message. An input error that stands for several
 * problems also gets one annotation per problem, on its file and line where it has them.
 */
export function failStep(error: unknown): void {
  if (error instanceof InputError && error.problems.length > 1)
    annotateProblems(error.problems, { title: "tunix-rt" });
  // The stack goes only to the debug log (a re-run with debug logging); users get one line.
  if (error instanceof Error && error.stack) core.debug(error.stack);
  core.setFailed(messageOf(error));
}

/**
 * One error annotation per problem, on its file (and line, for JSONL). Problems name files
 * relative to the workspace (verify names them as the folder was given), so annotations
 * land on repository paths; absolute ones are made relative to `repoRoot`.
 */
export function annotateProblems(
  problems: readonly Problem[],
  { title, repoRoot, secrets }: { title?: string; repoRoot?: string; secrets?: readonly string[] } = {},
): void {
  for (const a of problemAnnotations(problems, { repoRoot, secrets })) {
    core.error(a.message, {
      title: title ?? a.title,
      file: a.file,
      ...(a.startLine === undefined ? {} : { startLine: a.startLine }),
    });
  }
}

/**
 * Appends Markdown to the job summary (GITHUB_STEP_SUMMARY); a step without one (a local run)
 * skips it. GitHub's 1 MiB holds for the step's whole file, so what is appended is clipped to
 * the room the step's earlier summaries left (a step may write several: one per folder verified).
 */
export async function writeSummary(markdown: string): Promise<void> {
  const file = stepSummaryFile();
  if (!file) return;
  const written = await stat(file).then(
    (info) => info.size,
    () => 0,
  );
  const room = maxSummaryBytes - written - Buffer.byteLength(EOL);
  const text = clipToBytes(markdown, room);
  if (text === "") return;
  // What core.summary.addRaw(text, true).write() appends, to the very file measured above.
  await appendFile(file, `${text}${EOL}`, "utf8");
}
