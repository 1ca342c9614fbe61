/**
 * trials.jsonl's rules: each record valid against its schema and each trial once, as it
 * streams; at least one trial; and once the sweep config is known (best_params.json
 * sweep_config), each trial's params against the command it ran, and each pruned trial's
 * decision taken again from the recorded curves. Which trial is the best is best-trial.ts's.
 */
import { quote } from "../../errors.js";
import { limits } from "../../limits.js";
import { checkDecision, type IndexedCurve, type PruneDecision, recordedCurve } from "../../search/pruning.js";
import { commandMismatch } from "../commands.js";
import { schemaProblems, TrialLineSchema } from "../schemas.js";
import type { VerifyContext } from "./context.js";
import { beyondCap, type JsonlEntry, readable } from "./jsonl.js";

/** One line of trials.jsonl (blank lines are not given). */
export function trialsLine(ctx: VerifyContext, entry: JsonlEntry): void {
  const file = "trials.jsonl";
  if (beyondCap(ctx, file, ++ctx.trialLines, limits.trials, "trials")) return;
  if (!readable(ctx, file, entry)) return;
  const result = TrialLineSchema.safeParse(entry.value, { reportInput: true });
  if (!result.success) {
    ctx.unusable.add(file); // an invalid record could be the best trial, as an unreadable one
    for (const problem of schemaProblems(result.error, file, entry.line)) ctx.add(problem);
    return;
  }
  const trial = result.data;
  const first = ctx.trialIds.get(trial.trial_id);
  if (first !== undefined) {
    ctx.add({
      file,
      line: entry.line,
      path: "trial_id",
      message: `got ${quote(trial.trial_id)} again (first on line ${first}); expected each trial once`,
    });
    return;
  }
  ctx.trialIds.set(trial.trial_id, entry.line);
  ctx.trials.push({
    line: entry.line,
    trial_id: trial.trial_id,
    status: trial.status,
    primary_score: trial.primary_score,
    params: trial.params,
    ...(trial.budget === undefined ? {} : { budget: trial.budget }),
    ...(typeof trial.repeat_of === "string" ? { repeat_of: trial.repeat_of } : {}),
    ...(trial.commit_sha === undefined ? {} : { commit_sha: trial.commit_sha }),
    ...(trial.worktree === undefined ? {} : { worktree: trial.worktree }),
    ...(trial.started_at === undefined ? {} : { started_at: trial.started_at }),
    ...(trial.finished_at === undefined ? {} : { finished_at: trial.finished_at }),
    ...(trial.command === undefined ? {} : { command: trial.command }),
    record: entry.value as Record<string, unknown>,
  });
}

/** Once every line is in: a usable trials.jsonl holds at least one trial. */
export function checkHasTrials(ctx: VerifyContext): void {
  if (!ctx.unusable.has("trials.jsonl") && ctx.trialLines === 0) {
    ctx.unusable.add("trials.jsonl");
    ctx.add({ file: "trials.jsonl", path: "", message: "has no trials; expected every trial's record" });
  }
}

/** Each trial's params against the argv its record ran (the sweep config's trainer command). */
export function checkCommands(ctx: VerifyContext): void {
  const config = ctx.sweepConfig();
  const template = config?.ok ? config.value.trainer?.command : undefined;
  if (!template || ctx.unusable.has("trials.jsonl")) return;
  for (const t of ctx.trials) {
    const wrong = commandMismatch(
      template,
      { trial_id: t.trial_id, params: t.params, seed: t.record.seed, budget: t.budget },
      t.command,
      config?.ok ? config.value.search_space : {},
    );
    if (wrong)
      ctx.add({
        file: "trials.jsonl",
        line: t.line,
        path: "params",
        message: `${quote(t.params)} is not what ${t.trial_id} ran: ${wrong}`,
      });
  }
}

/**
 * Each pruned trial's decision taken again from the curves trials.jsonl records: its own
 * point, every value it was compared with, the threshold the rule gives, that its value
 * was on the pruned side of it, and (protect_leaders) that it did not beat its incumbent, a
 * completed trial's recorded final value. (Which trials had reached the step, or completed,
 * at the time cannot be told afterwards: the decision names the ones it saw, and each must
 * be as recorded.)
 */
export function checkPruning(ctx: VerifyContext): void {
  const config = ctx.sweepConfig();
  if (!config?.ok || ctx.unusable.has("trials.jsonl")) return;
  const pruning = config.value.pruning;
  // Each recorded curve indexed once (decisions look values up by step, never by scan).
  const curves = new Map<string, IndexedCurve>();
  // protect_leaders: a decision's incumbent must be a completed trial.
  const completed = new Set(ctx.trials.filter((t) => t.record.status === "completed").map((t) => t.trial_id));
  if (pruning)
    for (const t of ctx.trials) {
      if (t.record.curve === undefined) continue;
      const curve = recordedCurve(t.record.curve);
      if (typeof curve === "string")
        ctx.add({ file: "trials.jsonl", line: t.line, path: "curve", message: curve });
      else curves.set(t.trial_id, curve);
    }
  for (const t of ctx.trials) {
    if (t.record.status !== "pruned") continue;
    const decision = t.record.pruned as PruneDecision | undefined;
    const at = { file: "trials.jsonl" as const, line: t.line };
    if (!pruning) {
      ctx.add({
        ...at,
        path: "status",
        message: `got "pruned"; the sweep config has no pruning section`,
      });
      continue;
    }
    if (!decision || typeof decision !== "object" || typeof decision.compared !== "object") {
      ctx.add({
        ...at,
        path: "pruned",
        message: "missing; a pruned trial records the decision that stopped it",
      });
      continue;
    }
    const own = curves.get(t.trial_id);
    const wrong = own
      ? checkDecision(pruning, decision, own, curves, completed)
      : "its curve is missing or not readable; the decision cannot be taken again";
    if (wrong) ctx.add({ ...at, path: "pruned", message: `${t.trial_id}: ${wrong}` });
  }
}
