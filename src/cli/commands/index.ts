import type { Command } from "../command.js";
import { aggregateCommand } from "./aggregate.js";
import { packageCommand } from "./package.js";
import { planCommand } from "./plan.js";
import { scoreCommand } from "./score.js";
import { sweepCommand } from "./sweep.js";
import { trialCommand } from "./trial.js";
import { validateCommand } from "./validate.js";
import { verifyCommand } from "./verify.js";

/** Every subcommand, in the order `tunix-rt --help` lists them. */
export const commands: readonly Command[] = [
  sweepCommand,
  planCommand,
  trialCommand,
  scoreCommand,
  aggregateCommand,
  verifyCommand,
  packageCommand,
  validateCommand,
];
