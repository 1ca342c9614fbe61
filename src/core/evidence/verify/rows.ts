/**
 * eval_rows.jsonl's rules, line by line as it streams: each row valid against its schema, one
 * row per evalset item; and at the end, at least one row. Each row is also counted into the
 * recomputed primary_score (checked in cross-file.ts) and handed to the re-grade (evalset.ts).
 */
import { quote } from "../../errors.js";
import { rowValue } from "../../grading/score.js";
import { limits } from "../../limits.js";
import { EvalRowLineSchema, schemaProblems } from "../schemas.js";
import type { VerifyContext } from "./context.js";
import { beyondCap, type JsonlEntry, readable } from "./jsonl.js";

/** One line of eval_rows.jsonl (blank lines are not given). */
export function evalRowsLine(ctx: VerifyContext, entry: JsonlEntry): void {
  const file = "eval_rows.jsonl";
  if (beyondCap(ctx, file, ++ctx.rowLines, limits.rows, "rows")) return;
  if (!readable(ctx, file, entry)) return;
  ctx.score.add(entry.value);
  ctx.rowValues.push(rowValue(entry.value));
  const result = EvalRowLineSchema.safeParse(entry.value, { reportInput: true });
  if (!result.success) {
    for (const problem of schemaProblems(result.error, file, entry.line)) ctx.add(problem);
    return;
  }
  const id = result.data.id;
  if (id !== undefined) {
    const key = JSON.stringify(id);
    const first = ctx.rowIds.get(key);
    if (first !== undefined) {
      ctx.add({
        file,
        line: entry.line,
        path: "id",
        message: `got ${quote(id)} again (first on line ${first}); expected one row per evalset item`,
      });
    } else {
      ctx.rowIds.set(key, entry.line);
    }
  }
  ctx.regrader?.row(entry.line, entry.value as Record<string, unknown>);
}

/** Once every line is in: a usable eval_rows.jsonl holds at least one row. */
export function checkHasRows(ctx: VerifyContext): void {
  if (!ctx.unusable.has("eval_rows.jsonl") && ctx.rowLines === 0) {
    ctx.unusable.add("eval_rows.jsonl");
    ctx.add({
      file: "eval_rows.jsonl",
      path: "",
      message: "has no rows; expected the best trial's graded rows",
    });
  }
}
