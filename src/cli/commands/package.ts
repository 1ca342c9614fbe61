import { stat } from "node:fs/promises";
import path from "node:path";
import { planArchive } from "../../core/archive.js";
import { ExitCode, formatProblem, InputError, TunixError, UsageError } from "../../core/errors.js";
import { writeZip, zipBytes } from "../../runtime/archive-write.js";
import { verifyEvidenceFolder } from "../../runtime/evidence-read.js";
import { describeFsError } from "../../runtime/files.js";
import { headCommit } from "../../runtime/git.js";
import { gatherSubmission } from "../../runtime/submission-files.js";
import { type Command, type CliContext, intFlag, parseFlags, required } from "../command.js";
import { toolkitVersion } from "../version.js";
import { parseProfile } from "./verify.js";

/** The default --max-size: M34's packaging gate was "< 100 KB". */
export const defaultMaxSize = 102_400;

const help = `Usage: tunix-rt package --run-dir D [--out DIR] [--max-size BYTES] [--config F]
                        [--profile kaggle] [--no-verify]

Packs an evidence folder into submission/tunix_rt_<run_version>_<YYYY-MM-DD>_<sha>.zip and
prints the zip's path. <run_version> is the folder's name; the date is SOURCE_DATE_EPOCH's
(UTC) when set, else today's (UTC); <sha> is git rev-parse --short HEAD, or "nogit" outside
a git repository.

The zip holds, under their repository paths:
  - every file of the evidence folder, as submission_runs/<run_version>/... (dotfiles such
    as locks and temp files are left out);
  - the promoted config named by run_manifest.json config_path (it must exist), or
    training/configs/best.yaml when the manifest names none;
  - the sweep config: --config F, else run_manifest.json sweep_config_path;
  - the evalset named by eval_summary.json eval_set, when it is in the repository;
  - README_SUBMISSION.md (what it holds, the score, the best trial, how to verify);
  - MANIFEST.json: the size and SHA-256 of every other member.
The same inputs give a byte-identical zip: fixed order (by name), every entry dated
1980-01-01T00:00:00Z with mode 0644, deflate level 9.

Gates (exit 2, nothing written): a zip over --max-size (default ${defaultMaxSize} bytes); a
symbolic link whose target leaves the repository (links inside it are followed and stored
as plain files); text that looks like a credential (GitHub, Hugging Face, Kaggle, cloud
keys, private keys); a named file that is missing or outside the repository.
The evidence is verified first (as tunix-rt verify): invalid evidence is exit 1, with the
problems on stderr, unless --no-verify.

Flags:
  --run-dir D       the evidence folder (submission_runs/<run_version>)
  --out DIR         where the zip goes (default: submission)
  --max-size BYTES  largest zip allowed (default ${defaultMaxSize})
  --config F        the sweep config to include
  --profile kaggle  verify with the kaggle profile
  --no-verify       package without verifying the evidence

Exit: 0 written, 1 invalid evidence, 2 usage error or a gate.
`;

/** `tunix-rt package`: the submission zip of an evidence folder. */
export const packageCommand: Command = {
  name: "package",
  summary: "pack an evidence folder into the submission zip",
  help,
  async run(args, ctx) {
    const { values, positionals } = parseFlags("package", args, {
      "run-dir": { type: "string" },
      out: { type: "string" },
      "max-size": { type: "string" },
      config: { type: "string" },
      profile: { type: "string" },
      "no-verify": { type: "boolean" },
    });
    if (positionals.length > 0) throw new UsageError(`package: unexpected argument ${JSON.stringify(positionals[0])}`);
    const runDir = required("run-dir", values["run-dir"], "package");
    const maxSize = intFlag("max-size", values["max-size"], { min: 1 }) ?? defaultMaxSize;
    const profile = parseProfile(values.profile);
    const date = packageDate(ctx.env);
    const runDirAbs = path.resolve(ctx.cwd, runDir);
    try {
      if (!(await stat(runDirAbs)).isDirectory()) throw new InputError(`${runDir}: is not a folder; expected the evidence folder`);
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(`${runDir}: cannot read the evidence folder: ${describeFsError(error)}`);
    }

    if (!values["no-verify"]) {
      const { problems } = await verifyEvidenceFolder(runDirAbs, { profile, shownAs: runDir });
      if (problems.length > 0) {
        for (const problem of problems) ctx.stderr(`${formatProblem(problem)}\n`);
        throw new TunixError(`${runDir}: the evidence is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"} above); fix it, or pass --no-verify`, ExitCode.no);
      }
    }

    const gathered = await gatherOrReport(ctx, { cwd: ctx.cwd, runDir, ...(values.config === undefined ? {} : { configFile: values.config }) });
    const commit = await headCommit(ctx.cwd);
    const plan = planArchive({
      runVersion: gathered.runVersion,
      date,
      shortSha: commit?.short ?? "nogit",
      commit: commit?.sha ?? null,
      tool: `tunix-rt ${toolkitVersion}`,
      runDir: gathered.zipRunDir,
      files: gathered.files,
      facts: gathered.facts,
    });
    const bytes = await zipBytes(plan);
    if (bytes.length > maxSize) {
      const largest = [...plan.members]
        .sort((a, b) => b.size - a.size)
        .slice(0, 3)
        .map((m) => `${m.name} (${m.size} bytes)`)
        .join(", ");
      throw new InputError(`${plan.zipName}: the zip would be ${bytes.length} bytes, over --max-size ${maxSize}; largest members (uncompressed): ${largest}`);
    }
    for (const note of gathered.facts.leftOut ?? []) ctx.stderr(`package: not included: ${note}\n`);
    const outDir = path.resolve(ctx.cwd, values.out ?? "submission");
    let file: string;
    try {
      file = await writeZip(plan, bytes, outDir);
    } catch (error) {
      throw new InputError(`${values.out ?? "submission"}: cannot write the zip: ${describeFsError(error)}`);
    }
    const shown = path.relative(ctx.cwd, file);
    ctx.stdout(`${shown.startsWith("..") || path.isAbsolute(shown) ? file : shown}\n`);
    return ExitCode.ok;
  },
};

/** Runs the gathering; a gate that found several problems prints them all before failing. */
async function gatherOrReport(ctx: CliContext, options: Parameters<typeof gatherSubmission>[0]) {
  try {
    return await gatherSubmission(options);
  } catch (error) {
    if (error instanceof InputError && error.problems.length > 1) {
      for (const problem of error.problems) ctx.stderr(`${formatProblem(problem)}\n`);
    }
    throw error;
  }
}

/**
 * The date in the zip's name, YYYY-MM-DD in UTC: SOURCE_DATE_EPOCH (seconds since 1970, the
 * reproducible-builds convention) when set, so a rebuild gives the same name; else today.
 */
export function packageDate(env: NodeJS.ProcessEnv, now: Date = new Date()): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === "") return now.toISOString().slice(0, 10);
  const seconds = Number(epoch);
  if (!/^\d+$/.test(epoch.trim()) || !Number.isSafeInteger(seconds) || seconds > 253_402_300_799) {
    throw new InputError(`SOURCE_DATE_EPOCH: got ${JSON.stringify(epoch)}; expected whole seconds since 1970-01-01 (UTC)`);
  }
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}
