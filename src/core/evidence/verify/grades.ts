/**
 * grades.jsonl's rules: each line a trial's row values, one line per trial, as it streams;
 * and once every file is in, every scored trial's primary_score (rows and counted too)
 * recomputed from its line, so the recommendation's whole input is checked, and the best
 * trial's grades the values of its rows in eval_rows.jsonl.
 */
import { quote } from "../../errors.js";
import { decodeGrades, gradesFileName, scoreOfValues, type TrialGrades } from "../../grading/grades.js";
import { limits } from "../../limits.js";
import { sameScore, type VerifyContext } from "./context.js";
import type { JsonlEntry } from "./jsonl.js";

/** grades.jsonl could not be read. */
export function gradesUnreadable(ctx: VerifyContext, reason: string): void {
  ctx.gradesGiven = true;
  ctx.gradesUnusable = true;
  ctx.add({ file: gradesFileName, path: "", message: `cannot read: ${reason}` });
}

/** One line of grades.jsonl: a trial's row values, to recompute its primary_score. */
export function gradesLine(ctx: VerifyContext, entry: JsonlEntry): void {
  const file = gradesFileName;
  if (++ctx.gradeLines > limits.trials) {
    if (ctx.gradeLines === limits.trials + 1)
      ctx.add({ file, path: "", message: `holds more than ${limits.trials} lines; not read further` });
    return;
  }
  if (!entry.ok) {
    ctx.add({ file, line: entry.line, path: "", message: entry.error });
    return;
  }
  const line = entry.value as Partial<TrialGrades> | null;
  const values = decodeGrades(line?.grades);
  if (!line || typeof line !== "object" || typeof line.trial_id !== "string" || values === undefined) {
    ctx.add({
      file,
      line: entry.line,
      path: typeof line?.trial_id === "string" ? "grades" : "trial_id",
      message: `got ${quote(typeof line?.trial_id === "string" ? line.grades : line?.trial_id)}; expected {trial_id, rows, counted, grades: a string of 1, 0 and - or a list of numbers in 0..1 and nulls, eval_rows_sha256, predictions_sha256}`,
    });
    return;
  }
  if (ctx.grades.has(line.trial_id)) {
    ctx.add({
      file,
      line: entry.line,
      path: "trial_id",
      message: `got ${quote(line.trial_id)} again (first on line ${ctx.grades.get(line.trial_id)?.line}); expected one line per trial`,
    });
    return;
  }
  ctx.grades.set(line.trial_id, { line: entry.line, values });
}

/**
 * Every scored trial's primary_score (rows and counted too) recomputed from its line of
 * grades.jsonl; and the best trial's grades must be the values of its rows in
 * eval_rows.jsonl. Without grades.jsonl, evidence tunix-rt wrote is missing a file.
 */
export function checkGrades(ctx: VerifyContext): void {
  if (ctx.unusable.has("trials.jsonl") || ctx.gradesUnusable) return;
  const file = gradesFileName;
  if (!ctx.gradesGiven) {
    if (ctx.ours())
      ctx.add({
        file,
        path: "",
        message:
          "missing; tunix-rt keeps every scored trial's grades beside trials.jsonl, so that each primary_score there is recomputed (evidence of an earlier tunix-rt: run aggregate again)",
      });
    return;
  }
  const scored = new Set<string>();
  for (const t of ctx.trials) {
    if (t.status !== "completed" || t.primary_score === null) continue;
    scored.add(t.trial_id);
    const grades = ctx.grades.get(t.trial_id);
    if (!grades) {
      ctx.add({
        file: "trials.jsonl",
        line: t.line,
        path: "primary_score",
        message: `got ${t.primary_score}; it cannot be recomputed: grades.jsonl has no line for ${t.trial_id}`,
      });
      continue;
    }
    const again = scoreOfValues(grades.values);
    const where = `grades.jsonl line ${grades.line} gives`;
    if (again.primary_score === null || !sameScore(again.primary_score, t.primary_score))
      ctx.add({
        file: "trials.jsonl",
        line: t.line,
        path: "primary_score",
        message: `got ${t.primary_score}; ${where} ${again.primary_score} (${again.counted} of ${again.rows} rows counted)`,
      });
    for (const key of ["rows", "counted"] as const) {
      const claimed = t.record[key];
      if (typeof claimed === "number" && claimed !== again[key])
        ctx.add({
          file: "trials.jsonl",
          line: t.line,
          path: key,
          message: `got ${claimed}; ${where} ${again[key]}`,
        });
    }
  }
  for (const [id, grades] of ctx.grades) {
    if (!scored.has(id))
      ctx.add({
        file,
        line: grades.line,
        path: "trial_id",
        message: `got ${quote(id)}; trials.jsonl has no completed trial with a score of that id`,
      });
  }
  const bestId = ctx.best?.trial_id;
  const bestGrades = typeof bestId === "string" ? ctx.grades.get(bestId) : undefined;
  if (!bestGrades || ctx.unusable.has("eval_rows.jsonl")) return;
  const rows = ctx.rowValues;
  const n = Math.max(rows.length, bestGrades.values.length);
  for (let i = 0; i < n; i++) {
    if (rows[i] === bestGrades.values[i]) continue;
    const show = (v: number | undefined, has: boolean) =>
      !has ? "no row" : v === undefined ? "nothing" : String(v);
    ctx.add({
      file,
      line: bestGrades.line,
      path: "grades",
      message: `are not the best trial's rows (${bestId}, eval_rows.jsonl): row ${i + 1} counts ${show(bestGrades.values[i], i < bestGrades.values.length)} here and ${show(rows[i], i < rows.length)} there`,
    });
    break;
  }
}
