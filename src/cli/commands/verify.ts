import { stat } from "node:fs/promises";
import path from "node:path";
import { ExitCode, formatProblem, InputError, type Problem, UsageError } from "../../core/errors.js";
import { lineText } from "../../core/escape.js";
import type { VerifyProfile } from "../../core/evidence/verify.js";
import { repositoryPattern } from "../../core/workflows/parts.js";
import { type AttestationPolicy, readTrustedRootsFile } from "../../runtime/attestation.js";
import {
  type VerifyOutcome,
  verifyEvidenceFolder,
  verifySubmissionZip,
} from "../../runtime/evidence-read.js";
import { describeFsError } from "../../runtime/files.js";
import { type Command, parseFlags } from "../command.js";

const help = `Usage: tunix-rt verify DIR|ZIP [--profile kaggle] [--trusted-root BASE]
                      [--attestation-repo OWNER/NAME [--signer-workflow PATH]]
                      [--sigstore-root FILE] [--json]

Checks an evidence folder (submission_runs/<run_version>/) or a submission zip.

A folder must hold run_manifest.json, eval_summary.json, best_params.json,
kaggle_output_log.txt, eval_rows.jsonl and trials.jsonl, each valid, with no nulls where a
sweep puts a value (the M34 templates are not evidence), and they must agree:
  - primary_score recomputed from eval_rows.jsonl equals eval_summary.json's primary_score
    and metrics.answer_correctness, and best_params.json's primary_score (within 1e-9);
  - the best completed trial of trials.jsonl (the highest primary_score, at the highest
    budget in a multi-fidelity sweep; a tie goes to the earlier trial id) is the trial_id of
    best_params.json and run_manifest.json, with the same params and primary_score;
  - run_version in run_manifest.json and eval_summary.json is the folder's name;
  - tuning_job_id is the same in run_manifest.json and best_params.json;
  - each row of eval_rows.jsonl, re-graded from its prediction by the M34 judge against the
    evalset that eval_summary.json eval_set names, has the answer_correctness (or score) it
    claims; its id is an item of the evalset, its expected_answer the evalset's, and every
    evalset item has a row (a row without a prediction is noted, not re-graded);
  - the promoted config that run_manifest.json config_path names is there and is this
    evidence's: its run_version, provenance.sweep_id (= tuning_job_id), provenance.trial_id
    (= the best trial), params (= best_params.json's) and budget.
The evalset and the promoted config are read from the repository root: the git top level
of the folder; outside git, the folder holding submission_runs/, else the working
directory. An evalset that is not there is a note (the rows were not re-graded), not a
problem.
A zip must also list every member in its MANIFEST.json with the right size and SHA-256;
its evidence folder is checked as above, against the evalset and the promoted config in
the zip (package puts them there).

With --trusted-root BASE (the pull-request check's rule), the evalset and the sweep config
count as the checkout BASE has them (a pull request's base commit), never as they lie beside
the evidence: the rows are re-graded against BASE's evalset, run_manifest.json must name a
sweep config that BASE holds (its SHA-256 the recorded one), best_params.json sweep_config
must be that config (but for run_version, seed, sampler and num_samples, which a run may
set), and a copy beside the evidence that differs from BASE's is a problem naming the file.
What the default rule leaves as a note is then a problem: an evalset not in BASE, rows
without a prediction to re-grade. The promoted config is still read beside the evidence:
the sweep writes it with the evidence.

Signed evidence: a sweep run by tunix-rt's workflow on GitHub signs its evidence (a GitHub
artifact attestation, made with actions/attest-build-provenance in the aggregate job) and
keeps the Sigstore bundle beside it as attestation.sigstore.json. When it is there, verify
checks it offline: its signature against Sigstore's public-good root (which tunix-rt ships),
and that every file of the folder and the promoted config is one it signed, with the same
SHA-256, and every file it signed there is there. An edit after signing, or a zip whose
MANIFEST.json was recomputed after an edit, fails as "not attested". With --attestation-repo
the bundle is required and must be signed by a workflow of that repository (with
--signer-workflow, by that workflow file, at any ref). Without it, the signer is only named
in a note. A private repository's attestations are signed by GitHub's own Sigstore
instance: give its root with --sigstore-root (gh attestation trusted-root > roots.jsonl).

Flags:
  --profile kaggle   also require model_id google/gemma-3-1b-it or google/gemma-2-2b
  --trusted-root BASE
                     verify under the trusted rule, with BASE's evalset and sweep config
  --attestation-repo OWNER/NAME
                     require attestation.sigstore.json, signed by a workflow of OWNER/NAME
  --signer-workflow PATH
                     ... by that workflow (.github/workflows/tunix-rt-sweep.yml)
  --sigstore-root FILE
                     check signatures against these Sigstore trusted roots (JSON, or the
                     JSON lines of gh attestation trusted-root) instead of public-good's
  --server-url URL   the GitHub server of --attestation-repo (default https://github.com)
  --json             print {"valid": bool, "problems": [{file, line, path, message}],
                     "notes": [string]} (line is null when a problem has none)

Output: one line per problem on stdout, file[:line]: json.path: message, where file is
the folder as given plus the file's name (a repository path when run from the root),
a repository file relative to the working directory, or <zip>/<entry> for a zip.
Notes (tunix-rt verify: note: ...), which say what could not be checked, and the
verdict go to stderr, so stdout stays machine-readable.

Exit: 0 valid, 1 invalid, 2 usage error or a folder/zip that cannot be read.
`;

/** `tunix-rt verify DIR|ZIP`: validates an evidence folder or a submission zip. */
export const command: Command = {
  help,
  async run(args, ctx) {
    const { values, positionals } = parseFlags(args, {
      values: [
        "profile",
        "trusted-root",
        "attestation-repo",
        "signer-workflow",
        "sigstore-root",
        "server-url",
      ],
      switches: ["json"],
      positionals: true,
    });
    if (positionals.length !== 1) {
      throw new UsageError(
        `expected one evidence folder or zip, got ${positionals.length === 0 ? "none" : positionals.length}`,
      );
    }
    const target = positionals[0] as string;
    const profile = parseProfile(values.profile);
    const absolute = path.resolve(ctx.cwd, target);
    let isFolder: boolean;
    try {
      isFolder = (await stat(absolute)).isDirectory();
    } catch (error) {
      throw new InputError(`${target}: cannot read: ${describeFsError(error)}`);
    }
    const trusted = values["trusted-root"];
    const options = {
      profile,
      shownAs: target,
      cwd: ctx.cwd,
      attestation: await attestationPolicy(values, ctx.cwd),
      ...(trusted === undefined
        ? {}
        : { trustedRoot: trusted, trustedAs: `the trusted checkout ${trusted}` }),
    };
    let outcome: VerifyOutcome;
    if (isFolder) outcome = await verifyEvidenceFolder(absolute, options);
    else if (/\.zip$/i.test(target)) outcome = await verifySubmissionZip(absolute, options);
    else
      throw new InputError(
        `${target}: is a file but not a .zip; expected an evidence folder or a submission zip`,
      );
    const { problems, notes } = outcome;
    const valid = problems.length === 0;
    if (values.json) {
      const shown = problems.map((p: Problem) => ({
        file: p.file,
        line: p.line ?? null,
        path: p.path,
        message: p.message,
      }));
      ctx.stdout(`${JSON.stringify({ valid, problems: shown, notes }, null, 2)}\n`);
    } else {
      for (const problem of problems) ctx.stdout(`${formatProblem(problem)}\n`);
    }
    // Notes are not problems: what could not be checked, so that "valid" is not read as more than it is.
    for (const note of notes) ctx.stderr(`tunix-rt verify: note: ${lineText(note)}\n`);
    const what = `${target}${profile === "kaggle" ? " (kaggle profile)" : ""}${trusted === undefined ? "" : ` (trusted: ${trusted})`}`;
    ctx.stderr(
      valid
        ? `verify: ${what}: valid\n`
        : `verify: ${what}: invalid, ${problems.length} problem${problems.length === 1 ? "" : "s"}\n`,
    );
    return valid ? ExitCode.ok : ExitCode.no;
  },
};

/** What the attestation flags ask of the evidence's signature. */
async function attestationPolicy(
  values: Partial<Record<"attestation-repo" | "signer-workflow" | "sigstore-root" | "server-url", string>>,
  cwd: string,
): Promise<AttestationPolicy> {
  const repository = values["attestation-repo"];
  const workflow = values["signer-workflow"];
  const server = values["server-url"] ?? "https://github.com";
  if (repository !== undefined && !repositoryPattern.test(repository))
    throw new UsageError(`--attestation-repo: got ${JSON.stringify(repository)}; expected OWNER/NAME`);
  if (workflow !== undefined && repository === undefined)
    throw new UsageError("--signer-workflow: needs --attestation-repo (the repository whose workflow signs)");
  if (workflow !== undefined && !/^\.github\/workflows\/[^/\s]+\.ya?ml$/.test(workflow))
    throw new UsageError(
      `--signer-workflow: got ${JSON.stringify(workflow)}; expected a workflow file, .github/workflows/<name>.yml`,
    );
  if (!/^https?:\/\/[^\s/]+$/.test(server.replace(/\/+$/, "")))
    throw new UsageError(`--server-url: got ${JSON.stringify(server)}; expected https://<host>`);
  const rootsFile = values["sigstore-root"];
  return {
    required: repository !== undefined,
    ...(repository === undefined
      ? {}
      : { signer: { repository, serverUrl: server, ...(workflow === undefined ? {} : { workflow }) } }),
    ...(rootsFile === undefined
      ? {}
      : { roots: await readTrustedRootsFile(path.resolve(cwd, rootsFile), rootsFile) }),
  };
}

/** The --profile flag: `kaggle`, or absent for the default rules. */
export function parseProfile(value: string | undefined): VerifyProfile {
  if (value === undefined || value === "default") return "default";
  if (value === "kaggle") return "kaggle";
  throw new UsageError(`--profile: got ${JSON.stringify(value)}; expected kaggle`);
}
