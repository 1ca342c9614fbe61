import path from "node:path";
import { ExitCode, UsageError } from "../../core/errors.js";
import { sweepCharts } from "../../core/report/report.js";
import { readReportSource, writeCharts, writeReportHtml } from "../../runtime/report.js";
import { type Command, parseFlags } from "../command.js";

const help = `Usage: tunix-rt report DIR|ZIP [--out DIR]

Draws a sweep's report from its evidence folder (submission_runs/<run_version>/) or its
submission zip: report.html, one self-contained page (every chart inline, no script, nothing
fetched: it opens from a file, offline), and the charts as SVG files in charts/:
  - history.svg: each trial's primary_score in the order trials finished, failed and pruned
    trials marked, the best score so far, where each wave or rung began;
  - curves.svg: with pruning, each trial's pruning metric against its steps, a cross where
    each pruned trial stopped, ASHA's rungs;
  - parallel.svg: parallel coordinates over the parameters (log axes for log types,
    categories as categories), coloured by primary_score;
  - slices.svg: primary_score against each parameter;
  - importance.svg: parameter importance (fANOVA on a random forest: each parameter's share
    of the score's variance, mean ± std over the trees), with enough scored trials;
  - rungs.svg: with successive halving, each rung's trials and their promotions.
Every number drawn is in trials.jsonl; the page's tables hold them too, and its leaderboard
is leaderboard.md's. A sweep and an aggregate draw the same charts into the evidence folder
and write report.html beside the sweep's trials (runs/<run_version>/report.html); this
command's output has a folder of its own, so the two never mix: each run of it replaces
what the last one wrote there, charts it no longer draws included. Prints the report's path.

  --out DIR   where report.html and charts/ go (default runs/<run_version>/report/ at the
              repository root)

Exit: 0 written, 2 the folder or zip cannot be read.`;

/** \`tunix-rt report\`: the sweep's charts and report.html. */
export const command: Command = {
  help,
  async run(args, ctx) {
    const { values, positionals } = parseFlags(args, { values: ["out"], positionals: true });
    if (positionals.length !== 1)
      throw new UsageError(
        positionals.length === 0
          ? "expected the evidence folder or zip to draw"
          : `unexpected argument ${JSON.stringify(positionals[1])}`,
      );
    const target = path.resolve(ctx.cwd, positionals[0] as string);
    const { input } = await readReportSource(target);
    const out =
      values.out === undefined
        ? path.join(ctx.root, "runs", input.runVersion, "report")
        : path.resolve(ctx.cwd, values.out);
    const charts = sweepCharts(input);
    const files = await writeCharts(out, charts);
    const html = await writeReportHtml(path.join(out, "report.html"), input, charts);
    const rel = (p: string) => path.relative(ctx.cwd, p) || ".";
    if (files.length > 0)
      ctx.stderr(
        `charts: ${rel(path.dirname(files[0] as string))}/ (${files.map((f) => path.basename(f)).join(", ")})\n`,
      );
    ctx.stdout(`${rel(html)}\n`);
    return ExitCode.ok;
  },
};
