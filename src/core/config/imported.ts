/**
 * What an import of another tool's sweep file gives back (import.ts, wandb-import.ts): the
 * document in tunix-rt's form, the format it came in, and what was lost on the way.
 */
import type { Problem } from "../errors.js";

/** The formats a config file may come in. */
export type ConfigFormat = "tunix-rt" | "wandb" | "m34-job";

/** A config document translated into tunix-rt's own form, with what could not be kept. */
export interface ImportedConfig {
  format: ConfigFormat;
  /** The document in tunix-rt's form, still to be validated. */
  raw: unknown;
  /** One line per thing that was translated with a loss or dropped. */
  notes: string[];
  problems: Problem[];
}

/** How the parsed document represents numbers. */
export interface ImportOptions {
  /**
   * Whole-number literals arrive as bigint and every other number as a number (YAML parsed
   * with `intAsBigInt`), so `1.0` and `1` differ as they do for W&B, which infers
   * `int_uniform` only from integer bounds. Without it, whole numbers count as integers.
   * Either way the translated document holds plain numbers only.
   */
  intsAsBigInt?: boolean;
}
