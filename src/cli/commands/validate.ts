import { paramText } from "../../core/config/space.js";
import { ExitCode, formatProblem } from "../../core/errors.js";
import { lineText } from "../../core/escape.js";
import { loadConfig } from "../../runtime/config-file.js";
import { type PreflightReport, preflight } from "../../runtime/preflight.js";
import { type Command, configFile, parseFlags } from "../command.js";

const help = `Usage: tunix-rt validate [--config F] [--json]

Checks a sweep before any GPU time is spent: the config is valid, every {placeholder}
resolves, the trainer program exists and is executable, the script it runs exists (python
train.py, torchrun ... train.py, python -m torch.distributed.run ... train.py: relative to
the repository root; a module of python -m is not a path), the evalset is readable and valid. Input files the argv names (also
as --flag=path) that do not exist are noted. Prints the first trial's resolved argv and
TUNIX_RT_* environment (secrets masked).

  --config F   sweep config (default: training/sweep.yaml at the repository root; in
               tunix-rt's own checkout, which has none, training/example/sweep.yaml)
  --json       print the report as JSON

Exit: 0 ready to run, 2 a problem (each printed as file: path: message).`;

/** Prints a preflight report for people. */
export function formatPreflight(report: PreflightReport, file: string): string {
  const lines = [`${file}: config valid`];
  if (report.program) lines.push(`trainer: ${report.program}`);
  if (report.evalsetItems !== null) lines.push(`evalset: ${report.evalsetItems} items`);
  if (report.first) {
    lines.push(
      `first trial ${report.first.trial.trial_id}:`,
      `  argv: ${JSON.stringify(report.first.argv)}`,
      "  env:",
    );
    for (const [k, v] of Object.entries(report.first.env)) lines.push(`    ${k}=${v}`);
  }
  const preview = report.preview;
  if (preview) {
    lines.push(`planned before any result (${preview.trials.length}):`);
    for (const trial of preview.trials) {
      const params = Object.entries(trial.params)
        .map(([k, v]) => `${k}=${paramText(v)}`)
        .join(" ");
      const rung = typeof trial.rung === "number" ? ` [rung ${trial.rung}, budget ${trial.budget}]` : "";
      const why = preview.proposed[trial.trial_id];
      lines.push(`  ${trial.trial_id}${rung} ${params}${why ? ` (${why})` : ""}`);
    }
    if (preview.rest) lines.push(`then: ${preview.rest}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `tunix-rt validate`: the checks before GPU time is spent. */
export const command: Command = {
  help,
  async run(args, ctx) {
    const { values } = parseFlags(args, { values: ["config"], switches: ["json"] });
    const { file, cwd } = await configFile(values.config, ctx);
    const loaded = await loadConfig(file, { cwd, needs: { trainer: true } });
    for (const note of loaded.notes) ctx.stderr(`tunix-rt validate: note: ${lineText(note)}\n`);
    const report = await preflight(loaded, { cwd: ctx.root, env: ctx.env });
    for (const note of report.notes) ctx.stderr(`tunix-rt validate: note: ${lineText(note)}\n`);
    if (values.json) ctx.stdout(`${JSON.stringify({ valid: report.problems.length === 0, ...report })}\n`);
    if (report.problems.length) {
      for (const p of report.problems) ctx.stderr(`tunix-rt validate: ${formatProblem(p)}\n`);
      return ExitCode.input;
    }
    if (!values.json) ctx.stdout(formatPreflight(report, file));
    return ExitCode.ok;
  },
};
