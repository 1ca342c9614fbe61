import type { Command } from "../command.js";

/**
 * A subcommand as the command list knows it. The list is the one place a command's name and
 * summary are written; its module (`./<name>.js`, exporting `command`) holds the help and
 * the code, and loads only when the command runs.
 */
export interface CommandEntry {
  /** What follows `tunix-rt` on the command line, and the name of its module. */
  name: string;
  /** One line for `tunix-rt --help`. */
  summary: string;
}

// Loading a command's module only when it runs keeps start-up small: `tunix-rt score` does
// not load the archiver, the trial runner or the samplers.
/** Every subcommand, in the order `tunix-rt --help` lists them. */
export const commands: readonly CommandEntry[] = [
  { name: "sweep", summary: "run the whole loop locally: trials, evidence, verify, zip" },
  { name: "plan", summary: "propose trials as JSON and a GitHub matrix" },
  { name: "trial", summary: "run one trial: trainer, grading, trial.json" },
  { name: "score", summary: "primary_score of eval rows, or of predictions against an evalset" },
  { name: "aggregate", summary: "leaderboard, best trial, evidence folder, promoted config" },
  { name: "verify", summary: "validate an evidence folder or a submission zip" },
  { name: "package", summary: "build the submission zip of an evidence folder" },
  { name: "report", summary: "draw a sweep's charts and report.html from its evidence or zip" },
  { name: "validate", summary: "check a config, its trainer and evalset before running" },
  { name: "import", summary: "translate a W&B sweep or M34 job into a tunix-rt config, notes as comments" },
  { name: "init", summary: "write your repository's GitHub workflows (sweep, evidence check, release)" },
];

/** Loads a listed command's module. */
export async function loadCommand(entry: CommandEntry): Promise<Command> {
  const module: { command: Command } = await import(`./${entry.name}.js`);
  return module.command;
}
