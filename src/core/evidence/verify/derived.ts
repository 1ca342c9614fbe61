/**
 * The derived files: leaderboard.md and charts/*.svg drawn again from trials.jsonl and the
 * sweep config (with the manifest's sweep id and trials not run), each compared with the
 * file byte for byte; a chart the sweep does not draw is a problem too. Only for evidence
 * tunix-rt wrote, and only when the derived files were given.
 */
import type { AggregatedTrial } from "../../report/leaderboard.js";
import { deriveEvidence, firstTextDifference } from "../derived.js";
import type { RunManifest } from "../schemas.js";
import type { VerifyContext } from "./context.js";

/** The derived files as the evidence holds them against the drawing (`deriveEvidence`). */
export function checkDerived(ctx: VerifyContext): void {
  const given = ctx.derived;
  const config = ctx.sweepConfig();
  if (!given || !ctx.ours() || ctx.unusable.has("trials.jsonl") || !ctx.best || !config?.ok) return;
  const manifest = ctx.manifest as (RunManifest & { trials?: { not_run?: unknown } }) | undefined;
  const notRun = typeof manifest?.trials?.not_run === "number" ? manifest.trials.not_run : 0;
  const derived = deriveEvidence({
    config: config.value,
    trials: ctx.trials.map((t) => t.record as unknown as AggregatedTrial),
    sweepId: manifest?.tuning_job_id ?? ctx.best.tuning_job_id ?? null,
    notRun,
    // The recommendation verify already recomputed from the same records (a model fit spared).
    ...(ctx.recomputed ? { recommendation: ctx.recomputed } : {}),
  });
  const why =
    "drawn again from trials.jsonl and the sweep config (edited after the sweep, or written by another version of tunix-rt)";
  const compare = (name: string, got: string | undefined, expected: string) => {
    if (got === undefined) {
      ctx.add({
        file: name,
        path: "",
        message: `missing; tunix-rt writes it with the evidence, ${why.replace(/ \(.*$/, "")}`,
      });
      return;
    }
    const d = firstTextDifference(got, expected);
    if (d)
      ctx.add({
        file: name,
        line: d.line,
        path: "",
        message: `is not the file ${why}: at line ${d.line}, column ${d.column}, it has ${JSON.stringify(d.got)} where the drawing has ${JSON.stringify(d.expected)}`,
      });
  };
  compare("leaderboard.md", given.leaderboard, derived.leaderboardMd);
  const drawn = new Map(derived.charts.map((c) => [c.file, c.svg] as const));
  for (const [name, svg] of drawn) compare(`charts/${name}`, given.charts.get(name), svg);
  for (const name of [...given.charts.keys()].sort())
    if (!drawn.has(name))
      ctx.add({
        file: `charts/${name}`,
        path: "",
        message: `is not a chart of this sweep (drawn again: ${[...drawn.keys()].join(", ") || "none"})`,
      });
}
