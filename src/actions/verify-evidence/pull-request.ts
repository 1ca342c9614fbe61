/**
 * verify-evidence with `pull-request`: what a pull request brings under submission_runs/,
 * verified against the truth of its base commit (the workspace's checkout), the head read as
 * data from git's objects (never checked out, nothing of it run).
 *
 *  1. The head commit is fetched (refs/pull/<n>/head, else its sha), at depth 1.
 *  2. The paths the pull request changes are listed (`git diff` of base and head): none under
 *     submission_runs/ is the verdict "no-evidence", a success; every changed entry there is
 *     accounted for (`evidenceChanges`): loose files, dot-folders, links fail, named.
 *  3. Each changed evidence folder, and the repository files its evidence names (the promoted
 *     config, and the evalset and sweep config to compare with the base's), are written from
 *     the head's blobs into a folder of the runner's temp: plain files only, each bounded.
 *  4. Each folder is verified under the trusted rule: the evalset and the sweep config are the
 *     base's (`verifyEvidenceFolder` with `trustedRoot`), so a pull request that changes them
 *     together with its evidence fails, naming the file.
 */
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as core from "@actions/core";
import { InputError, messageOf, type Problem } from "../../core/errors.js";
import {
  evidenceChanges,
  evidenceDir,
  fileModes,
  isEvidenceMember,
} from "../../core/evidence/pull-request.js";
import { append } from "../../core/limits.js";
import { verifySummary } from "../../github/summary.js";
import { verifyEvidenceFolder } from "../../runtime/evidence-read.js";
import {
  fetchCommit,
  listTree,
  resolveCommit,
  tokenEnv,
  treeChanges,
  writeBlob,
} from "../../runtime/git-objects.js";
import type { RunContext } from "../shared/context.js";
import { annotateProblems, logInfo, type StepOutcome, writeSummary } from "../shared/step.js";
import { attestationPolicy } from "./attestation.js";
import type { PullRequestVerifySettings } from "./inputs.js";

/** The largest file of the head read as evidence; a larger one is a problem, not read. */
export const maxEvidenceFileBytes = 256 * 1024 ** 2;

/** A commit status's description holds at most this many characters. */
const maxDescription = 140;

/** Verifies a pull request's evidence; fails the step when it does not verify. */
export async function pullRequestStep(
  settings: PullRequestVerifySettings,
  context: RunContext,
): Promise<StepOutcome> {
  const repo = { cwd: context.workspace };
  const base = settings.baseSha;
  const head = settings.headSha;
  const checkedOut = await resolveCommit("HEAD", repo);
  if (checkedOut !== base) {
    throw new InputError(
      `the workspace holds ${checkedOut ?? "no git checkout"}, not the base commit ${base}: check it out first (actions/checkout with ref: \${{ github.event.pull_request.base.sha }})`,
    );
  }
  const credentials = settings.token ? tokenEnv(context.serverUrl, settings.token) : undefined;
  if (credentials) core.setSecret(credentials.secret);
  const n = settings.pullRequest;
  await fetchCommit(head, {
    ...repo,
    ...(credentials ? { env: credentials.env } : {}),
    remote: "origin",
    refspecs: [`+refs/pull/${n}/head:refs/remotes/tunix-rt/pull/${n}`, head],
  });
  const changes = evidenceChanges(await treeChanges(base, head, repo));
  const shortBase = base.slice(0, 7);
  const intro = `### Pull request #${n}: the evidence of ${head.slice(0, 7)}, verified against the base commit ${shortBase}\n\n`;
  if (changes.folders.length === 0 && changes.problems.length === 0) {
    const description = `no evidence changes (${changes.outside} path${changes.outside === 1 ? "" : "s"} changed outside ${evidenceDir}/)`;
    logInfo(description);
    await writeSummary(`${intro}No change under \`${evidenceDir}/\`: nothing to verify.\n`);
    return { outputs: { valid: "true", problems: "0", verdict: "no-evidence", description, folders: "" } };
  }

  // Whom to trust comes from the base and the run, before anything of the head is read.
  const attestation = await attestationPolicy(settings.attestation, context);
  const into = await mkdtemp(path.join(context.env.RUNNER_TEMP || os.tmpdir(), `tunix-rt-pull-${n}-`));
  try {
    const problems = new Map<string, Problem>();
    const add = (p: Problem) => {
      if (!problems.has(p.file)) problems.set(p.file, p);
    };
    for (const p of changes.problems) add(p);
    const verified: string[] = [];
    const removed: string[] = [];
    const verifyProblems: Problem[] = [];
    for (const folder of changes.folders) {
      const shown = `${evidenceDir}/${folder}`;
      // Whatever goes wrong with one folder is its problem: the others are still checked.
      let found: { problems: Problem[]; notes: string[] };
      try {
        if ((await materializeFolder(folder, { head, into, repo, add })) === "removed") {
          removed.push(folder);
          continue;
        }
        found = await verifyEvidenceFolder(path.join(into, evidenceDir, folder), {
          profile: settings.profile,
          shownAs: shown,
          cwd: into,
          root: into,
          trustedRoot: context.workspace,
          trustedAs: `the base commit ${shortBase}`,
          trustedFile: (file) => `${file} at ${shortBase}`,
          attestation,
        });
      } catch (error) {
        found = {
          problems: [{ file: shown, path: "", message: `could not be verified: ${messageOf(error)}` }],
          notes: [],
        };
      }
      for (const note of found.notes) logInfo(`${shown}: note: ${note}`);
      const n = found.problems.length;
      logInfo(`${shown}: ${n === 0 ? "valid" : `invalid, ${n} problem${n === 1 ? "" : "s"}`}`);
      append(verifyProblems, found.problems);
      verified.push(shown);
    }
    const all = [...problems.values(), ...verifyProblems];
    annotateProblems(all, { repoRoot: into });
    const valid = all.length === 0;
    const removedLine = removed.length
      ? `Removed evidence folders (nothing to verify): ${removed.map((f) => `\`${evidenceDir}/${f}\``).join(", ")}.\n\n`
      : "";
    await writeSummary(
      `${intro}${removedLine}${
        valid && verified.length === 0
          ? "No evidence folder to verify.\n"
          : verifySummary(all, { dir: verified.length ? verified.join("`, `") : `${evidenceDir}/`, valid })
      }`,
    );
    const verdict = valid ? (verified.length === 0 ? "no-evidence" : "valid") : "invalid";
    const description = clip(
      valid
        ? verified.length === 0
          ? `no evidence to verify (the pull request removes ${removed.length} evidence folder${removed.length === 1 ? "" : "s"})`
          : `the evidence verifies: ${verified.join(", ")}`
        : `${all.length} problem${all.length === 1 ? "" : "s"} in the evidence of ${verified.length ? verified.join(", ") : `${evidenceDir}/`}`,
    );
    const outputs = {
      valid: String(valid),
      problems: String(all.length),
      verdict,
      description,
      folders: verified.join(" "),
    };
    if (valid) return { outputs };
    return {
      outputs,
      failure: `${description} (each is annotated and listed in the job summary)`,
    };
  } finally {
    await rm(into, { recursive: true, force: true });
  }
}

const clip = (text: string) =>
  text.length <= maxDescription ? text : `${text.slice(0, maxDescription - 3)}...`;

/**
 * Writes an evidence folder of the head, and the repository files its evidence names, into
 * `into` from git's blobs: plain files that tunix-rt writes there, within the size bound;
 * anything else is a problem on its path. "removed" when the head has no such folder.
 */
async function materializeFolder(
  folder: string,
  { head, into, repo, add }: { head: string; into: string; repo: { cwd: string }; add: (p: Problem) => void },
): Promise<"removed" | "written"> {
  const dir = `${evidenceDir}/${folder}`;
  const entries = await listTree(head, [dir], repo);
  if (entries.length === 0) return "removed";
  for (const entry of entries) {
    const inside = entry.path.slice(dir.length + 1);
    if (entry.type !== "blob" || !fileModes.has(entry.mode)) {
      add({
        file: entry.path,
        path: "",
        message: `is ${entry.mode === "120000" ? "a symbolic link" : entry.type === "commit" ? "a submodule" : `an entry of mode ${entry.mode}`}; an evidence folder holds plain files only`,
      });
    } else if (!isEvidenceMember(inside)) {
      add({
        file: entry.path,
        path: "",
        message: "is not a file tunix-rt writes into an evidence folder",
      });
    } else await writeBounded(entry, into, repo, add);
  }
  // The repository files the evidence names, as the head has them: the promoted config (read
  // beside the evidence), and the evalset and sweep config (compared with the base's).
  for (const named of await namedPaths(path.join(into, dir))) {
    const [entry] = (await listTree(head, [named], repo)).filter((e) => e.path === named);
    if (entry && entry.type === "blob" && fileModes.has(entry.mode))
      await writeBounded(entry, into, repo, add);
  }
  return "written";
}

/** Writes one blob at its path under `into`, unless it is over the bound (then a problem). */
async function writeBounded(
  entry: { sha: string; size: number | undefined; path: string },
  into: string,
  repo: { cwd: string },
  add: (p: Problem) => void,
): Promise<void> {
  if ((entry.size ?? 0) > maxEvidenceFileBytes) {
    add({
      file: entry.path,
      path: "",
      message: `is ${entry.size} bytes, over the ${maxEvidenceFileBytes} a file of evidence may have; not read`,
    });
    return;
  }
  const file = path.join(into, entry.path);
  await mkdir(path.dirname(file), { recursive: true });
  await writeBlob(entry.sha, file, repo);
}

/**
 * The repository paths an evidence folder's JSON files name (config_path, sweep_config_path,
 * eval_set), when they are plain relative paths outside submission_runs/; the verifier
 * checks the files themselves.
 */
async function namedPaths(dir: string): Promise<string[]> {
  const found: string[] = [];
  const fields: Array<[string, string[]]> = [
    ["run_manifest.json", ["config_path", "sweep_config_path"]],
    ["eval_summary.json", ["eval_set"]],
  ];
  for (const [file, keys] of fields) {
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(path.join(dir, file), "utf8"));
    } catch {
      continue; // missing or broken: the verifier says so
    }
    if (!doc || typeof doc !== "object") continue;
    for (const key of keys) {
      const value = Object.hasOwn(doc, key) ? (doc as Record<string, unknown>)[key] : undefined;
      if (
        typeof value === "string" &&
        /^[A-Za-z0-9._][A-Za-z0-9._/-]{0,299}$/.test(value) &&
        !value.split("/").some((part) => part === ".." || part === "." || part === "") &&
        !value.startsWith(`${evidenceDir}/`)
      )
        found.push(value);
    }
  }
  return [...new Set(found)];
}
