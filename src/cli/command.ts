import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { type SamplerName, samplerNames } from "../core/config/sampler-names.js";
import { quote, UsageError } from "../core/errors.js";

/** What a command gets from the CLI: where it runs and where it writes. */
export interface CliContext {
  /** The working directory: paths given on the command line resolve against it. */
  cwd: string;
  /**
   * The repository root (`repositoryRoot`: the git top level of `cwd`): paths inside a config
   * (evalset, trainer argv), default paths and output folders resolve against it, and the
   * trainer runs there.
   */
  root: string;
  /** Environment variables (a copy; commands read, never write, the process env). */
  env: NodeJS.ProcessEnv;
  /** Standard output: results (JSON, paths, problem lines). */
  stdout: (text: string) => void;
  /** Standard error: progress and error lines. */
  stderr: (text: string) => void;
  /** Whether standard output is a terminal (trainer output echo of `trial`). */
  isTTY: boolean;
  /**
   * Whether standard error is a terminal: the sweep's progress, written there, is then a
   * status line redrawn in place, else (a log, `2>&1 | tee`, CI) heartbeat lines.
   */
  stderrIsTTY?: boolean;
  /** The width of the terminal standard error writes to, when it is one (read each time: it may be resized). */
  columns?: () => number | undefined;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
}

/** One `tunix-rt` subcommand. */
export interface Command {
  /** The full `--help` text. */
  help: string;
  /**
   * Whether the command stops cleanly on SIGINT/SIGTERM through `ctx.signal` (sweep, trial).
   * Other commands are simply ended with exit 130 on a signal.
   */
  handlesSignals?: boolean;
  /** Runs the command and returns its exit code; throws TunixError for user-facing failures. */
  run(args: string[], ctx: CliContext): Promise<number>;
}

/** A command's flags: those that take a value, the switches, and whether bare arguments are allowed. */
export interface FlagSpec<V extends string, S extends string> {
  /** Flags that take a value (`--config F`). */
  values?: readonly V[];
  /** Flags that stand alone (`--json`). */
  switches?: readonly S[];
  /** Whether arguments without a flag are allowed (`verify DIR`). */
  positionals?: boolean;
}

/**
 * Parses a command's flags strictly (unknown flags and missing values are usage errors).
 * `--help` and `--debug` are handled by the caller and accepted everywhere.
 */
export function parseFlags<const V extends string = never, const S extends string = never>(
  args: string[],
  spec: FlagSpec<V, S>,
) {
  const options = {
    ...Object.fromEntries((spec.values ?? []).map((name) => [name, { type: "string" }])),
    ...Object.fromEntries((spec.switches ?? []).map((name) => [name, { type: "boolean" }])),
  } as { [K in V]: { type: "string" } } & { [K in S]: { type: "boolean" } };
  const takesValue = new Set<string>(spec.values ?? []);
  // `--seed -1` reads as a flag named -1 to parseArgs: join a negative number to its flag,
  // so the flag's own check can say what range it takes.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (name && takesValue.has(name) && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  try {
    return parseArgs({
      args: joined,
      options: {
        ...options,
        // Every command's: --json (a failure is one JSON object on stdout) and
        // --all-problems (each problem of a failure on a line of its own); main() reads them.
        debug: { type: "boolean" as const },
        json: { type: "boolean" as const },
        "all-problems": { type: "boolean" as const },
        help: { type: "boolean" as const, short: "h" },
      },
      strict: true,
      allowPositionals: spec.positionals ?? false,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    // main() prefixes the command's name; the message itself says what was wrong.
    throw new UsageError(`${message?.replace(/\. To specify .*$/, "")}`);
  }
}

/** Parses a flag that must be a whole number within bounds, naming the flag when it is not. */
export function intFlag(
  name: string,
  value: string | undefined,
  { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER
        ? min === Number.MIN_SAFE_INTEGER
          ? ""
          : ` >= ${min}`
        : ` in ${min}..${max}`;
    throw new UsageError(`--${name}: got ${JSON.stringify(value)}; expected a whole number${range}`);
  }
  return n;
}

/** Throws a usage error when a required flag is missing. */
export function required<T>(name: string, value: T | undefined, _command?: string): T {
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

/**
 * A path given on the command line (relative to the working directory) as the runtime takes
 * it: relative to the repository root, so messages and evidence read the same from any
 * folder (an absolute path stays absolute).
 */
export function fromCwd(ctx: Pick<CliContext, "cwd" | "root">, given: string): string {
  if (path.isAbsolute(given)) return given;
  return path.relative(ctx.root, path.resolve(ctx.cwd, given)) || ".";
}

/** Where `sweep` and `validate` look for a config when no --config is given, in order. */
export const defaultConfigFiles = ["training/sweep.yaml", "training/example/sweep.yaml"] as const;

/**
 * The config a command reads: `--config` as given (against the working directory), else the
 * first of `defaultConfigFiles` that exists at the repository root: a repository's own
 * training/sweep.yaml, or, in tunix-rt's own checkout, the example.
 */
export async function configFile(
  given: string | undefined,
  ctx: Pick<CliContext, "cwd" | "root">,
): Promise<{ file: string; cwd: string }> {
  if (given !== undefined) return { file: given, cwd: ctx.cwd };
  for (const file of defaultConfigFiles) {
    if (
      await stat(path.join(ctx.root, file)).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return { file, cwd: ctx.root };
  }
  throw new UsageError(
    `no --config given, and ${defaultConfigFiles[0]} does not exist in the repository root ${ctx.root}; pass --config F, or write ${defaultConfigFiles[0]} (docs/config.md, "The sweep config")`,
  );
}

/** Parses `--sampler`: one of the sampler names. */
export function samplerFlag(value: string | undefined): SamplerName | undefined {
  if (value === undefined) return undefined;
  if (!(samplerNames as readonly string[]).includes(value)) {
    throw new UsageError(`--sampler: got ${quote(value)}; expected one of ${samplerNames.join(", ")}`);
  }
  return value as SamplerName;
}
