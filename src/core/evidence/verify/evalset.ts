/**
 * The re-grade: the evalset eval_summary.json names, and each row of eval_rows.jsonl graded
 * again against it as the rows stream (`RowRegrader`, which rows.ts feeds). An evalset not at
 * hand is a note (a problem under the trusted rule); one that is not valid is a problem in
 * the evalset.
 */
import { quote } from "../../errors.js";
import { EvalsetParser } from "../../grading/evalset.js";
import { append } from "../../limits.js";
import { RowRegrader } from "../regrade.js";
import type { NamedFile, VerifyContext } from "./context.js";
import { jsonlEntries } from "./jsonl.js";

/**
 * The evalset eval_summary.json names, as found: each row of eval_rows.jsonl is then
 * re-graded against it as it streams (so give it before the first row). Not at hand, the
 * rows are not re-graded, and a note says so.
 */
export function useEvalset(ctx: VerifyContext, found: NamedFile): void {
  ctx.evalsetGiven = true;
  const named = quote(ctx.summary?.eval_set ?? found.shownAs);
  if ("absent" in found) {
    const trusted = ctx.trusted;
    if (trusted)
      ctx.add({
        file: "eval_summary.json",
        path: "eval_set",
        message: `got ${named}; it ${found.absent}, and under the trusted rule the rows are re-graded against the evalset in ${trusted.shownAs}: the evidence must name one that is there`,
      });
    else
      ctx.notes.push(
        `eval_rows.jsonl was not re-graded: eval_summary.json eval_set ${named} ${found.absent}`,
      );
    return;
  }
  const parser = new EvalsetParser(found.shownAs);
  for (const entry of jsonlEntries(found.text)) parser.add(entry);
  const result = parser.finish();
  if (!result.ok) {
    const [first] = result.problems;
    const more = result.problems.length - 1;
    if (first) {
      ctx.repoProblems.push({
        ...first,
        message: `${first.message}${more > 0 ? ` (and ${more} more problem${more === 1 ? "" : "s"})` : ""}; eval_summary.json eval_set names this evalset, and eval_rows.jsonl cannot be re-graded against it`,
      });
    }
    return;
  }
  ctx.regrader = new RowRegrader(result.items, found.shownAs, { requirePredictions: !!ctx.trusted });
}

/** Once every row is in: the re-grade's own findings (evalset items without a row, ...), or a note on why there was none. */
export function finishRegrade(ctx: VerifyContext): void {
  if (ctx.regrader) {
    const { problems, notes } = ctx.regrader.finish({ complete: !ctx.unusable.has("eval_rows.jsonl") });
    for (const problem of problems) ctx.add(problem);
    append(ctx.notes, notes);
  } else if (!ctx.evalsetGiven) {
    ctx.notes.push(
      ctx.summary
        ? "eval_rows.jsonl was not re-graded: no evalset was given to verify against"
        : "eval_rows.jsonl was not re-graded: eval_summary.json, which names the evalset, could not be used",
    );
  }
}
