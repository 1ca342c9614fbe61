import { randomUUID } from "node:crypto";
import { type SweepConfig, validateConfig } from "../../core/config/config.js";
import { samplerNames } from "../../core/config/sampler-names.js";
import { paramsInSpace, searchSpaceOf } from "../../core/config/space.js";
import { ExitCode, quote, UsageError } from "../../core/errors.js";
import { lineText } from "../../core/escape.js";
import { scheduledWaves, waveSize } from "../../core/search/fidelity.js";
import { githubMatrixLimit, type Plan, planTrials } from "../../core/search/plan.js";
import type { TrialRecord } from "../../core/types.js";
import { loadConfig } from "../../runtime/config-file.js";
import { readHistory } from "../../runtime/history.js";
import { type CliContext, type Command, intFlag, parseFlags, required, samplerFlag } from "../command.js";

const help = `Usage: tunix-rt plan --config F [--seed N] [--count N] [--sampler S] [--run-version V]
                     [--history H] [--sweep-id ID]

Proposes the next trials of a sweep and prints the plan as JSON (two-space indent, one
trailing newline):
  {sweep_id, run_version, sampler, seed, trials: [...], matrix: {include: [...]}, proposed}
each trial and matrix entry {sweep_id, trial_id, seed, params}; with a fidelity section
also budget and rung, and a promotion its parent. Trial ids are t0000,
t0001, ... numbered on after the trials in the history. "sampler" is the sampler that
ran ("auto" resolved); "proposed" says whether the new trials come from the sampler's
warm-up or its model. The same config, flags, history and sweep id print the same bytes.
Never opens the evalset or runs the trainer.

Flags:
  --config F        sweep config (YAML or JSON; a W&B sweep or an M34 tuning payload works too)
  --seed N          sweep seed, 0..4294967295 (default: the config's seed)
  --count N         how many new trials, 1..256 (default: one wave, ceil(num_samples /
                    waves) with the config's waves, else one per round of
                    max_concurrent_trials, at most 8 waves, a note on stderr saying which
                    wave; with fidelity the next wave of successive halving, which --count
                    then caps)
  --sampler S       ${samplerNames.join(" | ")} (default: the config's sampler; auto picks
                    the best default for the space, at present gp)
  --run-version V   evidence folder name (default: the config's run_version)
  --history H       trials so far: JSONL, one trial record per line (or a JSON array);
                    new trials are proposed given them and numbered after them
  --sweep-id ID     the sweep's UUID (default: a new random one)

One GitHub Actions matrix holds at most ${githubMatrixLimit} jobs: plan larger sweeps in waves
(--count ${githubMatrixLimit}, then --history with the earlier waves' trial records).
A grid with fewer new points than --count plans only those (a note says so).

Waves and successive halving: plan a wave, run it, then plan the next with --history
holding every trial record so far. With a fidelity section, rung 0 proposes num_samples
configurations at min_budget (in waves); later plans promote the best 1/eta of a rung to
eta times its budget (new trials with the same params and seed, "parent" naming the
trial to resume from). When every rung is filled the plan is empty (a note says why).

Exit codes: 0 planned, 2 usage or input error (bad flag, invalid config or history,
more than ${githubMatrixLimit} trials).`;

const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** `tunix-rt plan`: proposes trials and prints the plan (DESIGN.md, CLI `plan`). */
export const command: Command = {
  help,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags(args, {
      values: ["config", "seed", "count", "sampler", "run-version", "history", "sweep-id"],
    });
    const file = required("config", values.config, "plan");
    const seed = intFlag("seed", values.seed, { min: 0, max: 0xffffffff });
    // Above the matrix limit is an input error of its own (with a way out), not a flag error.
    const count = intFlag("count", values.count, { min: 1 });
    const sampler = samplerFlag(values.sampler);
    const sweepId = values["sweep-id"] ?? randomUUID();
    if (!uuidPattern.test(sweepId)) {
      throw new UsageError(
        `--sweep-id: got ${quote(sweepId)}; expected a UUID such as 123e4567-e89b-12d3-a456-426614174000`,
      );
    }

    const loaded = await loadConfig(file, { cwd: ctx.cwd });
    for (const note of loaded.notes) ctx.stderr(`tunix-rt plan: note: ${lineText(note)}\n`);
    const runVersion = values["run-version"];
    if (runVersion !== undefined) {
      // The same rule as the config's run_version, checked by the same validation.
      const checked = validateConfig({ ...loaded.config, run_version: runVersion }, "--run-version");
      const problem = checked.ok ? undefined : checked.problems.find((p) => p.path === "run_version");
      if (problem) throw new UsageError(`--run-version: ${problem.message}`);
    }
    const history = values.history === undefined ? [] : await readHistory(values.history, { cwd: ctx.cwd });

    const plan = planTrials({
      config: loaded.config,
      sweepId,
      seed,
      count,
      sampler,
      runVersion,
      history,
      matrixLimit: githubMatrixLimit,
    });
    const asked = count ?? waveSize(loaded.config);
    for (const note of planNotes({
      plan,
      asked,
      countGiven: count !== undefined,
      history,
      historyFile: values.history,
      config: loaded.config,
    })) {
      ctx.stderr(`tunix-rt plan: note: ${lineText(note)}\n`);
    }
    ctx.stdout(`${JSON.stringify(plan, null, 2)}\n`);
    return ExitCode.ok;
  },
};

/** What a user should know about a plan that is not in it: a short plan, history off the space. */
function planNotes({
  plan,
  asked,
  countGiven,
  history,
  historyFile,
  config,
}: {
  plan: Plan;
  asked: number;
  countGiven: boolean;
  history: readonly TrialRecord[];
  historyFile: string | undefined;
  config: SweepConfig;
}): string[] {
  const notes: string[] = [];
  const waves = scheduledWaves(config);
  if (!countGiven && !config.fidelity && config.waves === undefined && waves > 1) {
    const wave = Math.floor(history.length / waveSize(config)) + 1;
    notes.push(
      `no waves key: the sweep runs as ${waves} waves of ${waveSize(config)} (one per round of max_concurrent_trials ${config.max_concurrent_trials}), each planned from every result before it; this is wave ${Math.min(wave, waves)} (the next: --history with the records so far)`,
    );
  }
  if (plan.fidelity) notes.push(`successive halving: ${plan.fidelity.note}`);
  else if (plan.trials.length < asked) {
    notes.push(
      `sampler ${plan.sampler} proposed ${plan.trials.length} of ${asked} trials: its space has no other untried point`,
    );
  }
  if (historyFile !== undefined) {
    const space = searchSpaceOf(config.search_space);
    const outside = history.filter((record) => !paramsInSpace(space, record.params));
    if (outside.length > 0) {
      notes.push(
        `${historyFile}: ${outside.length} of ${history.length} trials have params outside the search space (first: ${outside[0]?.trial_id}); they still count as tried and for numbering`,
      );
    }
  }
  return notes;
}
