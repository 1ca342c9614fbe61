import path from "node:path";
import { ExitCode, formatProblem, InputError, UsageError } from "../../core/errors.js";
import { lineText } from "../../core/escape.js";
import { defaultMaxSize, InvalidEvidenceError, packageRunDir } from "../../runtime/package.js";
import { type Command, fromCwd, intFlag, parseFlags, required } from "../command.js";
import { parseProfile } from "./verify.js";

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
    training/configs/<run_version>_best.yaml when the manifest names none;
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
export const command: Command = {
  help,
  async run(args, ctx) {
    const { values, positionals } = parseFlags(args, {
      values: ["run-dir", "out", "max-size", "config", "profile"],
      switches: ["no-verify"],
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const runDir = required("run-dir", values["run-dir"], "package");
    const maxSize = intFlag("max-size", values["max-size"], { min: 1 }) ?? defaultMaxSize;
    const profile = parseProfile(values.profile);
    let file: string;
    try {
      file = await packageRunDir({
        runDir: fromCwd(ctx, runDir),
        cwd: ctx.root,
        env: ctx.env,
        maxSize,
        profile,
        verify: !values["no-verify"],
        ...(values.out === undefined ? {} : { outDir: fromCwd(ctx, values.out) }),
        ...(values.config === undefined ? {} : { configFile: fromCwd(ctx, values.config) }),
        onNote: (note) => ctx.stderr(`tunix-rt package: note: not included: ${lineText(note)}\n`),
      });
    } catch (error) {
      // Every problem on its own line first; the error itself then gives the verdict and exit code.
      const problems =
        error instanceof InvalidEvidenceError || error instanceof InputError ? error.problems : [];
      if (problems.length > 1 || error instanceof InvalidEvidenceError)
        for (const p of problems) ctx.stderr(`${formatProblem(p)}\n`);
      throw error;
    }
    const shown = path.relative(ctx.cwd, file);
    ctx.stdout(`${shown.startsWith("..") || path.isAbsolute(shown) ? file : shown}\n`);
    return ExitCode.ok;
  },
};
