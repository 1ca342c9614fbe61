import path from "node:path";
import { parsePlannedTrial } from "../../core/config/trial-input.js";
import { ExitCode, InputError, UsageError } from "../../core/errors.js";
import { lineText } from "../../core/escape.js";
import { outcomeSuffix } from "../../core/search/trial-record.js";
import { loadConfig } from "../../runtime/config-file.js";
import { readEvalset } from "../../runtime/evalset.js";
import { readTextFile } from "../../runtime/files.js";
import { runTrial } from "../../runtime/trial.js";
import { type Command, fromCwd, parseFlags, required } from "../command.js";

const help = `Usage: tunix-rt trial --config F --trial JSON|@file --out DIR [--json]

Runs one trial: the config's trainer command with the trial's {placeholders} filled and the
TUNIX_RT_* environment of the trial contract, its output streamed to DIR/output.log; then
grades DIR/predictions.jsonl against the config's evalset (or reads the trainer's own
DIR/eval_rows.jsonl) and writes DIR/trial.json, also when the trainer fails.

  --config F      sweep config (needs trainer; evalset unless the trainer grades itself)
  --trial JSON    one trial as a plan's matrix entry: {"sweep_id","trial_id","seed","params"};
                  @file reads it from a file
  --out DIR       the trial's folder (created)
  --json          print the trial record as JSON on stdout

Exit: 0 completed, 1 failed or timed out, 2 usage/input error (bad config or trial,
DIR not writable, unreadable evalset), 130 interrupted.`;

/** `tunix-rt trial`: run one trial and write its record. */
export const command: Command = {
  help,
  handlesSignals: true,
  async run(args, ctx) {
    const { values } = parseFlags(args, { values: ["config", "trial", "out"], switches: ["json"] });
    const loaded = await loadConfig(required("config", values.config, "trial"), {
      cwd: ctx.cwd,
      needs: { trainer: true },
    });
    const trialArg = required("trial", values.trial, "trial");
    const out = required("out", values.out, "trial");
    const source = trialArg.startsWith("@") ? trialArg.slice(1) : "--trial";
    const text = trialArg.startsWith("@")
      ? await readTextFile(path.resolve(ctx.cwd, source), "trial", source)
      : trialArg;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${source}: not valid JSON: ${(error as Error).message}`);
    }
    const parsed = parsePlannedTrial(value, loaded.config, source);
    if (!parsed.ok) throw InputError.fromProblems(parsed.problems);
    // A bad evalset is an input error: find it before the trainer spends its time (and before
    // DIR holds a record of a trial that could never be graded).
    if (loaded.config.evalset)
      await readEvalset(path.resolve(ctx.root, loaded.config.evalset), loaded.config.evalset);

    const record = await runTrial({
      config: loaded.config,
      trial: parsed.trial,
      outDir: fromCwd(ctx, out),
      cwd: ctx.root,
      env: ctx.env,
      signal: ctx.signal,
      echoLines: ctx.isTTY ? (line) => ctx.stderr(`${lineText(line)}\n`) : undefined,
    });
    if (values.json) ctx.stdout(`${JSON.stringify(record)}\n`);
    const score = record.primary_score === null ? "null" : record.primary_score.toFixed(4);
    ctx.stderr(
      `${record.trial_id} ${record.status} primary_score=${score} (${record.duration_s}s)${outcomeSuffix(record)}\n`,
    );
    if (ctx.signal.aborted) return ExitCode.interrupted;
    return record.status === "completed" ? ExitCode.ok : ExitCode.no;
  },
};
