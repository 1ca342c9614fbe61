import type { Command } from "../command.js";

/** A subcommand as the command list knows it; its module loads only when it runs. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

// Loading a command's module only when it runs keeps start-up small: `tunix-rt score` does
// not load the archiver, the trial runner or the samplers.
/** Every subcommand, in the order `tunix-rt --help` lists them. */
export const commands: readonly CommandEntry[] = [
  {
    name: "sweep",
    summary: "run the whole loop locally: trials, evidence, verify, zip",
    load: async () => (await import("./sweep.js")).sweepCommand,
  },
  {
    name: "plan",
    summary: "propose trials as JSON and a GitHub matrix",
    load: async () => (await import("./plan.js")).planCommand,
  },
  {
    name: "trial",
    summary: "run one trial: trainer, grading, trial.json",
    load: async () => (await import("./trial.js")).trialCommand,
  },
  {
    name: "score",
    summary: "primary_score of eval rows, or of predictions against an evalset",
    load: async () => (await import("./score.js")).scoreCommand,
  },
  {
    name: "aggregate",
    summary: "leaderboard, best trial, evidence folder, promoted config",
    load: async () => (await import("./aggregate.js")).aggregateCommand,
  },
  {
    name: "verify",
    summary: "validate an evidence folder or a submission zip",
    load: async () => (await import("./verify.js")).verifyCommand,
  },
  {
    name: "package",
    summary: "build the submission zip of an evidence folder",
    load: async () => (await import("./package.js")).packageCommand,
  },
  {
    name: "report",
    summary: "draw a sweep's charts and report.html from its evidence or zip",
    load: async () => (await import("./report.js")).reportCommand,
  },
  {
    name: "validate",
    summary: "check a config, its trainer and evalset before running",
    load: async () => (await import("./validate.js")).validateCommand,
  },
];
