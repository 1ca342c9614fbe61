/**
 * The submission zip, planned as plain data (DESIGN.md, "Names": the zip is
 * `submission/tunix_rt_<run_version>_<YYYY-MM-DD>_<short sha>.zip`): which members, under
 * which names, in which order, with a generated README_SUBMISSION.md and a MANIFEST.json of
 * every other member's size and SHA-256. Writing the bytes is the runtime's job; checking a
 * zip against its manifest is here too, since it is the same contract read backwards.
 */

import { createHash } from "node:crypto";
import { isSafeRunVersion, runVersionRule } from "../config/config.js";
import { InputError, type Problem, quote } from "../errors.js";
import { gradesFileName } from "../grading/grades.js";
import { duplicateKeyMessage, lineOfPath, parseJsonText, scanJsonText } from "../json-text.js";
import { append, limits } from "../limits.js";
import { secretShapes } from "../redact.js";
import {
  attestationFileName,
  type EvidenceFileName,
  evidenceFileNames,
  type SubmissionManifest,
  SubmissionManifestSchema,
  schemaProblems,
} from "./schemas.js";
import { type NamedFile, type TrustedFiles, type VerifyProfile, verifyEvidence } from "./verify.js";

/** The manifest member's name; it lists every other member. */
export const manifestName = "MANIFEST.json";
/** The generated README member's name. */
export const readmeName = "README_SUBMISSION.md";
/** The format tag MANIFEST.json carries. */
export const submissionFormat = "tunix-rt-submission/1";

/** One member to put in the zip, already read. */
export interface ArchiveInput {
  /** Entry name: relative POSIX path, no `..`, no leading `/`. */
  name: string;
  data: Uint8Array;
  /** What it is, for the README (`the promoted config`); optional. */
  role?: string;
}

/** What the README says of the run; every field optional, as `--no-verify` may package odd evidence. */
export interface SubmissionFacts {
  modelId?: string;
  primaryScore?: number | null;
  trialId?: string | null;
  tuningJobId?: string | null;
  params?: Record<string, unknown>;
  evalSet?: string;
  /** Rows of eval_rows.jsonl, when known. */
  rows?: number;
  /** What was looked for and not packaged, one line each (`evalset training/x.jsonl: not in the repository`). */
  leftOut?: string[];
}

/** Everything the plan depends on. Same input, same plan, byte for byte. */
export interface ArchivePlanInput {
  runVersion: string;
  /** The date in the zip's name and manifest, YYYY-MM-DD (UTC). */
  date: string;
  /** Short commit sha, or `nogit`. */
  shortSha: string;
  /** Full commit sha, or null outside a git repository. */
  commit: string | null;
  /** `tunix-rt 0.1.0`: recorded in MANIFEST.json. */
  tool: string;
  /** Where the evidence sits in the zip (`submission_runs/<run_version>`). */
  runDir: string;
  files: readonly ArchiveInput[];
  facts?: SubmissionFacts;
}

/** One member as it goes into the zip. */
export interface PlannedMember {
  name: string;
  data: Uint8Array;
  size: number;
  sha256: string;
}

/** The planned zip: its file name and its members in the order they are written. */
export interface ArchivePlan {
  /** `tunix_rt_<run_version>_<date>_<short sha>.zip` (no folder). */
  zipName: string;
  /** Sorted by name (code-unit order), README and MANIFEST included. */
  members: PlannedMember[];
  manifest: SubmissionManifest;
}

/** Why `name` cannot be a zip entry name, or undefined when it can. */
export function entryNameProblem(name: string): string | undefined {
  if (name === "") return "is empty";
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return "is absolute; entry names must be relative";
  if (name.includes("\\")) return "contains a backslash; entry names use '/'";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects.
  if (/[\u0000-\u001f\u007f]/.test(name)) return "contains a control character";
  const parts = name.split("/");
  if (parts.includes("..")) return "contains '..'; entries must stay inside the zip";
  if (parts.some((p) => p === "" || p === ".")) return "has an empty or '.' segment";
  return undefined;
}

/** The zip's file name: `tunix_rt_<run_version>_<YYYY-MM-DD>_<short sha>.zip`. */
export function zipFileName(runVersion: string, date: string, shortSha: string): string {
  return `tunix_rt_${runVersion}_${date}_${shortSha}.zip`;
}

/** SHA-256 of bytes, lowercase hex. */
export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Plans the submission zip: checks names (relative, no `..`, no duplicates), sorts the
 * members, writes README_SUBMISSION.md and MANIFEST.json. Throws InputError on a bad name.
 */
export function planArchive(input: ArchivePlanInput): ArchivePlan {
  if (!isSafeRunVersion(input.runVersion)) {
    throw new InputError(
      `run_version ${quote(input.runVersion)}: expected ${runVersionRule}, as it is part of the zip's name`,
    );
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.date))
    throw new InputError(`date ${quote(input.date)}: expected YYYY-MM-DD`);
  if (!/^[0-9A-Za-z]+$/.test(input.shortSha))
    throw new InputError(`short sha ${quote(input.shortSha)}: expected hex digits or "nogit"`);
  const seen = new Set<string>([manifestName, readmeName]);
  for (const file of input.files) {
    const problem = entryNameProblem(file.name);
    if (problem) throw new InputError(`zip entry ${quote(file.name)} ${problem}`);
    if (seen.has(file.name))
      throw new InputError(
        `zip entry ${quote(file.name)} appears twice (or clashes with a generated member)`,
      );
    seen.add(file.name);
  }
  const toMember = (name: string, data: Uint8Array): PlannedMember => ({
    name,
    data,
    size: data.length,
    sha256: sha256Hex(data),
  });
  const readme = toMember(readmeName, Buffer.from(renderReadme(input), "utf8"));
  const listed = [...input.files.map((f) => toMember(f.name, f.data)), readme].sort(byName);
  const manifest: SubmissionManifest = {
    format: submissionFormat,
    run_version: input.runVersion,
    run_dir: input.runDir,
    date: input.date,
    commit: input.commit,
    tool: input.tool,
    files: listed.map(({ name, size, sha256 }) => ({ path: name, size, sha256 })),
  };
  const manifestMember = toMember(
    manifestName,
    Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, "utf8"),
  );
  return {
    zipName: zipFileName(input.runVersion, input.date, input.shortSha),
    members: [...listed, manifestMember].sort(byName),
    manifest,
  };
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function renderReadme(input: ArchivePlanInput): string {
  const facts = input.facts ?? {};
  const unknown = "(unknown)";
  const params = facts.params
    ? Object.entries(facts.params)
        .map(([k, v]) => `\`${k}\` = ${JSON.stringify(v)}`)
        .join(", ") || "(none)"
    : unknown;
  const score =
    typeof facts.primaryScore === "number"
      ? `${facts.primaryScore}${facts.rows === undefined ? "" : ` (recomputable from the ${facts.rows} rows of eval_rows.jsonl)`}`
      : unknown;
  const zipName = zipFileName(input.runVersion, input.date, input.shortSha);
  const roleOf = (name: string) => input.files.find((f) => f.name === name)?.role;
  const contents = [...input.files.map((f) => f.name), readmeName, manifestName].sort();
  const lines = [
    `# Submission ${input.runVersion}`,
    "",
    `Packaged by ${input.tool} on ${input.date} from commit ${input.commit ?? "(not a git repository)"}.`,
    "",
    "| | |",
    "|---|---|",
    `| run_version | ${input.runVersion} |`,
    `| model | ${facts.modelId ?? unknown} |`,
    `| primary_score | ${score} |`,
    `| best trial | ${facts.trialId ?? unknown}${facts.tuningJobId ? ` (sweep ${facts.tuningJobId})` : ""} |`,
    `| best params | ${params} |`,
    `| evalset | ${facts.evalSet ?? unknown} |`,
    "",
    "## Contents",
    "",
    ...contents.map((name) => {
      const role =
        name === readmeName
          ? "this file"
          : name === manifestName
            ? "size and SHA-256 of every other member"
            : (roleOf(name) ?? "");
      return `- \`${name}\`${role ? `: ${role}` : ""}`;
    }),
    ...(facts.leftOut?.length ? ["", "Not included:", "", ...facts.leftOut.map((l) => `- ${l}`)] : []),
    "",
    "## How to verify",
    "",
    "```sh",
    `npx tunix-rt verify ${zipName}`,
    "```",
    "",
    "This checks every member against MANIFEST.json, then the evidence in",
    `\`${input.runDir}/\`: each file's schema, primary_score recomputed from eval_rows.jsonl,`,
    "each row re-graded against the evalset in the zip, the best trial of trials.jsonl named",
    "in best_params.json and run_manifest.json, and the promoted config being this run's.",
    "",
  ];
  return lines.join("\n");
}

/** The role of an evidence file in the README. */
export function evidenceRole(name: string): string | undefined {
  const roles: Record<EvidenceFileName, string> = {
    "run_manifest.json": "how the run was produced (model, config, commit, sweep and trial ids)",
    "eval_summary.json": "the best trial's evaluation and primary_score",
    "best_params.json": "the best trial, its parameters and the sweep config",
    "kaggle_output_log.txt": "the best trial's output log",
    "eval_rows.jsonl": "the best trial's graded rows (primary_score is recomputed from them)",
    "trials.jsonl": "every trial's record",
  };
  if (name === gradesFileName)
    return "every scored trial's grades: each primary_score in trials.jsonl is recomputed from them";
  if (name === attestationFileName)
    return "the evidence's signature: a Sigstore bundle made by the sweep's aggregate job (GitHub artifact attestation)";
  return (roles as Record<string, string>)[name];
}

/** A secret found in a member: where, and what it looks like (never the secret itself). */
export interface SecretFinding {
  line: number;
  kind: string;
  /** The first characters, enough to find it. */
  preview: string;
}

/**
 * Finds what looks like a credential in a member's text (tokens of the services a
 * fine-tuning run touches: GitHub, Hugging Face, Kaggle, cloud keys), so a log that printed
 * its environment is not published. The first finding per line.
 */
export function findSecrets(text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    for (const { name: kind, pattern } of secretShapes) {
      pattern.lastIndex = 0;
      const match = pattern.exec(line);
      pattern.lastIndex = 0;
      if (match) {
        findings.push({ line: index + 1, kind, preview: `${match[0].slice(0, 8)}...` });
        break;
      }
    }
  });
  return findings;
}

/** A member of a zip being verified. */
export interface ZipMemberView {
  name: string;
  kind: "file" | "directory" | "symlink";
  data: Uint8Array;
}

/**
 * Verifies a submission zip: every member named safely and listed in MANIFEST.json with
 * its size and SHA-256, nothing listed that is absent, and the evidence folder inside it
 * (`run_dir`) valid, its rows re-graded against the evalset member that eval_summary.json
 * eval_set names and its promoted config (the member at run_manifest.json config_path)
 * checked to be its own. Problems name files by their entry names; `onNote` is told what
 * could not be checked (no evalset in the zip).
 */
export function verifySubmission(
  members: readonly ZipMemberView[],
  {
    profile = "default",
    onNote,
    trusted,
  }: { profile?: VerifyProfile; onNote?: (note: string) => void; trusted?: TrustedFiles } = {},
): Problem[] {
  const problems: Problem[] = [];
  const files = new Map<string, ZipMemberView>();
  for (const member of members) {
    const bad = entryNameProblem(member.kind === "directory" ? member.name.replace(/\/$/, "") : member.name);
    if (bad) problems.push({ file: member.name, path: "", message: `entry name ${bad}` });
    else if (member.kind === "symlink")
      problems.push({
        file: member.name,
        path: "",
        message: "is a symbolic link; a submission holds plain files",
      });
    else if (member.kind === "file" && files.has(member.name))
      problems.push({ file: member.name, path: "", message: "appears twice in the zip" });
    else if (member.kind === "file") files.set(member.name, member);
  }
  const decoder = new TextDecoder();
  const manifestMember = files.get(manifestName);
  let manifest: SubmissionManifest | undefined;
  if (!manifestMember) {
    problems.push({
      file: manifestName,
      path: "",
      message: "missing; a submission zip lists its members with their SHA-256 there",
    });
  } else {
    const text = decoder.decode(manifestMember.data);
    const shape = scanJsonText(text);
    const parsed: ReturnType<typeof parseJsonText> = shape.tooDeep
      ? {
          ok: false,
          line: shape.tooDeep.line,
          reason: `it nests objects and arrays deeper than ${limits.jsonDepth} levels`,
        }
      : parseJsonText(text);
    for (const twice of shape.duplicates)
      problems.push({
        file: manifestName,
        line: twice.line,
        path: twice.path,
        message: duplicateKeyMessage(twice.path),
      });
    if (!parsed.ok) {
      problems.push({
        file: manifestName,
        ...(parsed.line === undefined ? {} : { line: parsed.line }),
        path: "",
        message: `not valid JSON: ${parsed.reason}`,
      });
    } else {
      const result = SubmissionManifestSchema.safeParse(parsed.value, { reportInput: true });
      const lines = shape.lines;
      const withLine = (p: Problem): Problem => {
        const line = lineOfPath(lines, p.path);
        return line === undefined ? p : { ...p, line };
      };
      if (!result.success) append(problems, schemaProblems(result.error, manifestName).map(withLine));
      else {
        manifest = result.data;
        append(problems, checkListing(manifest, files).map(withLine));
      }
    }
  }
  // The evidence folder: where the manifest says, else the one folder holding a run_manifest.json.
  let runDir = manifest?.run_dir;
  if (runDir === undefined) {
    const candidates = [...files.keys()]
      .filter((n) => n.endsWith("/run_manifest.json"))
      .map((n) => n.slice(0, -"/run_manifest.json".length));
    if (candidates.length === 1) runDir = candidates[0];
  }
  if (runDir === undefined) {
    if (manifest === undefined)
      problems.push({
        file: "",
        path: "",
        message: "no evidence folder found (no single */run_manifest.json)",
      });
    return problems;
  }
  const runVersion = runDir.split("/").pop() ?? runDir;
  if (manifest && manifest.run_version !== runVersion) {
    problems.push({
      file: manifestName,
      path: "run_version",
      message: `got ${quote(manifest.run_version)}; expected ${quote(runVersion)}, the name of run_dir`,
    });
  }
  const evidence: Partial<Record<EvidenceFileName | typeof gradesFileName, string>> = {};
  for (const name of [...evidenceFileNames, gradesFileName] as const) {
    const member = files.get(`${runDir}/${name}`);
    if (member) evidence[name] = decoder.decode(member.data);
  }
  // The zip carries the sweep config: its hash is checked against the manifest's record.
  const fileHashes = Object.fromEntries([...files].map(([name, member]) => [name, sha256Hex(member.data)]));
  // And the evalset and the promoted config, as members at their repository paths.
  const findRepoFile = (repoPath: string): NamedFile => {
    const member = files.get(repoPath);
    return member
      ? { shownAs: repoPath, text: decoder.decode(member.data) }
      : { shownAs: repoPath, absent: "is not in the zip" };
  };
  // The derived files, as members of the evidence folder.
  const charts = new Map<string, string>();
  for (const [name, member] of files) {
    const chart = name.startsWith(`${runDir}/charts/`) ? name.slice(runDir.length + 8) : undefined;
    if (chart !== undefined && /^[^/]+\.svg$/.test(chart)) charts.set(chart, decoder.decode(member.data));
  }
  const leaderboard = files.get(`${runDir}/leaderboard.md`);
  append(
    problems,
    verifyEvidence({
      runVersion,
      profile,
      files: evidence,
      derived: { leaderboard: leaderboard && decoder.decode(leaderboard.data), charts },
      fileHashes,
      findRepoFile,
      nameEvidenceFile: (name) => `${runDir}/${name}`,
      ...(onNote ? { onNote } : {}),
      ...(trusted ? { trusted } : {}),
    }),
  );
  return problems;
}

function checkListing(manifest: SubmissionManifest, files: ReadonlyMap<string, ZipMemberView>): Problem[] {
  const problems: Problem[] = [];
  const listed = new Set<string>();
  manifest.files.forEach((entry, i) => {
    const at = `files.${i}`;
    if (listed.has(entry.path)) {
      problems.push({
        file: manifestName,
        path: `${at}.path`,
        message: `got ${quote(entry.path)} again; expected each member once`,
      });
      return;
    }
    listed.add(entry.path);
    if (entry.path === manifestName) {
      problems.push({
        file: manifestName,
        path: `${at}.path`,
        message: "lists MANIFEST.json itself; it cannot hold its own hash",
      });
      return;
    }
    const member = files.get(entry.path);
    if (!member) {
      problems.push({
        file: manifestName,
        path: `${at}.path`,
        message: `got ${quote(entry.path)}; no such member in the zip`,
      });
      return;
    }
    const size = member.data.length;
    const sha = sha256Hex(member.data);
    if (size !== entry.size) {
      problems.push({
        file: entry.path,
        path: "",
        message: `is ${size} bytes; MANIFEST.json lists ${entry.size} (the member was changed after packaging)`,
      });
    } else if (sha !== entry.sha256) {
      problems.push({
        file: entry.path,
        path: "",
        message: `has SHA-256 ${sha}; MANIFEST.json lists ${entry.sha256} (the member was changed after packaging)`,
      });
    }
  });
  for (const name of files.keys()) {
    if (name !== manifestName && !listed.has(name))
      problems.push({ file: name, path: "", message: "is not listed in MANIFEST.json" });
  }
  return problems;
}
