import { ExitCode, formatProblem, InputError, messageOf, TunixError, UsageError } from "../core/errors.js";
import { lineText } from "../core/escape.js";
import { repositoryRoot } from "../runtime/root.js";
import { toolkitVersion } from "../runtime/version.js";
import type { CliContext } from "./command.js";
import { type CommandEntry, commands, loadCommand } from "./commands/index.js";

const usage = (
  list: readonly CommandEntry[],
) => `tunix-rt ${toolkitVersion}: hyperparameter sweeps for LLM fine-tuning, with evidence anyone can check

Usage: tunix-rt <command> [flags]

Commands:
${list.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}

Every command takes --help, --debug (stack traces on errors), --json (a failure is one
JSON object on stdout, {ok, exit_code, error, problems}, every problem in it) and
--all-problems (each problem of a failure on a line of its own).
Exit codes: 0 success, 1 the answer is "no", 2 usage or input error,
3 failure budget exceeded, 4 run_version locked, 130 interrupted.
`;

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const controller = new AbortController();
  const base = {
    cwd: process.cwd(),
    env: { ...process.env },
    stdout: pipeWriter(process.stdout),
    stderr: pipeWriter(process.stderr),
    isTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    columns: () => process.stderr.columns,
    signal: controller.signal,
    ...overrides,
  };
  const debug = argv.includes("--debug");
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    base.stdout(usage(commands));
    return name === undefined ? ExitCode.input : ExitCode.ok;
  }
  if (name === "--version" || name === "-V") {
    base.stdout(`${toolkitVersion}\n`);
    return ExitCode.ok;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    base.stderr(
      `tunix-rt: unknown command ${JSON.stringify(name)}; expected one of ${commands.map((c) => c.name).join(", ")} (see tunix-rt --help)\n`,
    );
    return ExitCode.input;
  }
  const command = await loadCommand(entry);
  if (rest.includes("--help") || rest.includes("-h")) {
    base.stdout(command.help.endsWith("\n") ? command.help : `${command.help}\n`);
    return ExitCode.ok;
  }
  const ctx: CliContext = { ...base, root: overrides.root ?? (await repositoryRoot(base.cwd, base.env)) };
  const onSignal = () => {
    if (!command.handlesSignals) process.exit(ExitCode.interrupted);
    controller.abort();
  };
  const hookSignals = overrides.signal === undefined;
  if (hookSignals) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  // --json: a failure is one JSON object on stdout, every problem in it; --all-problems:
  // every problem on a line of its own, where the one line says how many more there are.
  const json = rest.includes("--json");
  const allProblems = rest.includes("--all-problems");
  try {
    return await command.run(rest, ctx);
  } catch (error) {
    if (debug && error instanceof Error && error.stack) ctx.stderr(`${error.stack}\n`);
    const known = error instanceof TunixError;
    const exitCode = known ? error.exitCode : ExitCode.input;
    const problems = error instanceof InputError ? error.problems : [];
    const message = known ? error.message : `internal error: ${messageOf(error)}`;
    if (json)
      ctx.stdout(
        `${JSON.stringify(
          {
            ok: false,
            exit_code: exitCode,
            error: oneLine(message),
            // A failure that is not a list of problems is one problem, its message the error.
            problems:
              problems.length > 0
                ? problems.map((p) => ({
                    file: p.file,
                    line: p.line ?? null,
                    path: p.path,
                    message: p.message,
                  }))
                : [{ file: null, line: null, path: "", message: oneLine(message) }],
          },
          null,
          2,
        )}\n`,
      );
    if (allProblems && problems.length > 1) {
      for (const p of problems) ctx.stderr(`tunix-rt ${name}: ${oneLine(formatProblem(p))}\n`);
      return exitCode;
    }
    if (known) {
      const hint =
        error instanceof UsageError
          ? ` (see tunix-rt ${name} --help)`
          : problems.length > 1
            ? ` (--all-problems lists every one)`
            : "";
      ctx.stderr(`tunix-rt ${name}: ${oneLine(message)}${hint}\n`);
      return exitCode;
    }
    ctx.stderr(`tunix-rt ${name}: ${oneLine(message)}${debug ? "" : " (run with --debug for details)"}\n`);
    return exitCode;
  } finally {
    if (hookSignals) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
}

/** An error message as one terminal line: its line breaks joined, any other control character escaped. */
function oneLine(text: string): string {
  return lineText(text.replace(/\s*\n\s*/g, " "));
}

/**
 * Writes to a standard stream that its reader may close (`tunix-rt sweep | head -1`): once
 * the pipe is gone (EPIPE), output is dropped and the command goes on to its end, trainers
 * finishing, evidence written and the lock released, instead of dying mid-sweep on an
 * unhandled write error.
 */
function pipeWriter(stream: NodeJS.WriteStream): (text: string) => void {
  let closed = false;
  // EPIPE, or any other write error: either way there is nowhere left to report it.
  stream.on("error", () => {
    closed = true;
  });
  return (text) => {
    if (!closed) stream.write(text);
  };
}
