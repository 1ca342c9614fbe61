/**
 * Reading an evidence folder (or a submission zip) for verification. Each file is read on
 * its own, so a missing or broken one still lets the others be checked; the JSONL files
 * stream line by line. Problems name files as `<folder as given>/<file>`: CI runs
 * `verify submission_runs/<run_version>` from the repository root, so the names are repo
 * paths that annotations can point at.
 *
 * The files the evidence names in the repository (the evalset, the promoted config, the
 * sweep config) are read from the repository root: the one given (`root`), else the git top
 * level of the evidence folder; outside git, the folder holding submission_runs/, else the
 * working directory.
 *
 * With `root` given (someone else's files: a pull request's head checked out as data), a
 * symbolic link is followed only while it stays inside that root, the evidence folder
 * included: a link out of it is refused, never read, so a pull request's link to a runner
 * file (/proc/self/environ, the runner's own files) cannot bring their text into problems,
 * annotations or the job summary. Without it (your own files: the CLI, the aggregate, the
 * package step, whose own gate refuses such links with its own message), links are followed.
 */
import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { InputError, type Problem, ReadError } from "../core/errors.js";
import { verifySubmission } from "../core/evidence/archive.js";
import { attestationFileName } from "../core/evidence/attest/attestation.js";
import { type EvidenceFileName, evidenceFileNames } from "../core/evidence/schemas.js";
import {
  EvidenceVerifier,
  type NamedFile,
  type TrustedFiles,
  type VerifyProfile,
} from "../core/evidence/verify.js";
import { gradesFileName } from "../core/grading/grades.js";
import { parseEvidenceJson } from "../core/json-text.js";
import { append, bytesText, limits } from "../core/limits.js";
import { describeUtf8Fault, utf8Fault } from "../core/utf8.js";
import { type AttestationPolicy, attestationFindings, folderScope } from "./attestation.js";
import { Bounds, notRegular, readBounded, realOrUndefined } from "./bounded-read.js";
import { describeFsError, readJsonl } from "./files.js";
import { gitTopLevel } from "./git.js";
import { readRepoFile, trustedFiles } from "./trusted-files.js";
import { readZipFile, type ZipMember } from "./zip-read.js";

/** How to verify and how to name files in problems. */
export interface ReadOptions {
  profile?: VerifyProfile;
  /** How the folder or zip is named in problems (default: the path given). */
  shownAs?: string;
  /**
   * The working directory (default: the process's): the repository root of a folder that is
   * in no git repository and not under submission_runs/, and what repository files are
   * shown relative to.
   */
  cwd?: string;
  /**
   * The repository root, when the caller knows it (a checkout of someone else's files, such
   * as a pull request's): repository files are read from it, and the evidence folder must lie
   * inside it. Default: found from the folder (see `evidenceRoot`).
   */
  root?: string;
  /**
   * The trusted rule: the checkout whose evalset and sweep config count (a pull request's
   * base), not the copies beside the evidence (`TrustedFiles`); what could not be checked
   * is then a problem. Relative to `cwd`.
   */
  trustedRoot?: string;
  /** How messages name the trusted checkout (default: "the trusted checkout <path>"). */
  trustedAs?: string;
  /** How messages name a file of the trusted checkout (default: its path from `cwd`). */
  trustedFile?: (repoPath: string) => string;
  /**
   * What is asked of the evidence's signature (attestation.sigstore.json): default, checked
   * when it is there and not required; false, not looked at (the step that just placed it).
   */
  attestation?: AttestationPolicy | false;
}

/** What verification found: the problems, what could not be checked, and a few facts for the summary line. */
export interface VerifyOutcome {
  problems: Problem[];
  /** What could not be checked and why (the evalset not at hand: the rows were not re-graded). */
  notes: string[];
  /** The run_version checked (the folder's name). */
  runVersion: string;
}

/**
 * Verifies the evidence folder `dir`. A folder that does not exist or cannot be listed is
 * an InputError (exit 2); everything wrong inside it is a problem (exit 1).
 */
export async function verifyEvidenceFolder(dir: string, options: ReadOptions = {}): Promise<VerifyOutcome> {
  const shownAs = options.shownAs ?? dir;
  const cwd = options.cwd ?? process.cwd();
  await requireFolder(dir, shownAs);
  const runVersion = path.basename(path.resolve(dir));
  const root = options.root === undefined ? await evidenceRoot(dir, cwd) : path.resolve(cwd, options.root);
  const bounds = options.root === undefined ? Bounds.none : await Bounds.of(root);
  if (!bounds.inRepository(await realOrUndefined(dir)))
    throw new InputError(`${shownAs}: is a symbolic link leading out of the repository (${root}); not read`);
  const trusted = await trustedOf(options, cwd);
  const verifier = new EvidenceVerifier({
    runVersion,
    profile: options.profile ?? "default",
    nameEvidenceFile: (name) => path.join(shownAs, name),
    ...(trusted ? { trusted } : {}),
  });
  const isJsonl = (name: EvidenceFileName) => name === "eval_rows.jsonl" || name === "trials.jsonl";
  // The JSON files first: they name the evalset that the rows are re-graded against as they stream.
  for (const name of evidenceFileNames.filter((n) => !isJsonl(n))) {
    await readOne(verifier, path.join(dir, name), name, bounds);
  }
  // The repository files they name, as the evidence's own repository has them.
  const named = verifier.namedFiles();
  const beside = new Map<string, NamedFile & { bytes?: Buffer }>();
  const wanted: Array<[string | undefined, number]> = [
    [named.evalSet, limits.evalsetBytes],
    [named.configPath, limits.configBytes],
    [named.sweepConfigPath, limits.configBytes],
  ];
  for (const [file, max] of wanted)
    if (file !== undefined && !beside.has(file))
      beside.set(file, await readRepoFile(root, file, cwd, bounds, max));
  // The sweep config's hash is checked against the manifest's record (under the trusted rule,
  // the trusted checkout's copy is).
  const sweepConfig = named.sweepConfigPath === undefined ? undefined : beside.get(named.sweepConfigPath);
  if (!trusted && named.sweepConfigPath !== undefined && sweepConfig?.bytes)
    verifier.knownHash(named.sweepConfigPath, createHash("sha256").update(sweepConfig.bytes).digest("hex"));
  verifier.repositoryFiles((file) => beside.get(file) ?? { shownAs: file, absent: "was not read" });
  for (const name of evidenceFileNames.filter(isJsonl))
    await readOne(verifier, path.join(dir, name), name, bounds);
  await readGrades(verifier, path.join(dir, gradesFileName), bounds);
  verifier.derivedFiles(await readDerived(dir, bounds));
  const problems = verifier.finish();
  const notes = [...verifier.notes];
  if (options.attestation !== false) {
    const config = named.configPath === undefined ? undefined : beside.get(named.configPath);
    const names = {
      bundle: path.join(shownAs, attestationFileName),
      file: (repoPath: string) => {
        const inside = path.relative(path.relative(root, path.resolve(dir)), repoPath);
        return inside.startsWith("..") ? (config?.shownAs ?? repoPath) : path.join(shownAs, inside);
      },
    };
    const found = await attestationOfFolder(dir, root, bounds, {
      config:
        named.configPath !== undefined && config?.bytes
          ? { repoPath: named.configPath, bytes: config.bytes }
          : undefined,
      policy: options.attestation ?? { required: false },
      names,
    });
    append(problems, found.problems);
    append(notes, found.notes);
  }
  return { problems, notes, runVersion };
}

/** The signature's findings on an evidence folder: its bundle read within bounds, its files hashed. */
async function attestationOfFolder(
  dir: string,
  root: string,
  bounds: Bounds,
  o: {
    config: { repoPath: string; bytes: Buffer } | undefined;
    policy: AttestationPolicy;
    names: { bundle: string; file: (repoPath: string) => string };
  },
): Promise<{ problems: Problem[]; notes: string[] }> {
  const file = path.join(dir, attestationFileName);
  const refused = await bounds.refuse(file);
  if (refused !== undefined)
    return { problems: [{ file: o.names.bundle, path: "", message: refused }], notes: [] };
  let text: string | undefined;
  try {
    const read = await readBounded(file, limits.attestationBytes);
    if ("size" in read)
      return {
        problems: [
          {
            file: o.names.bundle,
            path: "",
            message: `is ${read.size} bytes, over the ${bytesText(limits.attestationBytes)} a bundle may have; not read`,
          },
        ],
        notes: [],
      };
    text = read.bytes.toString("utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      return {
        problems: [{ file: o.names.bundle, path: "", message: `cannot read: ${describeFsError(error)}` }],
        notes: [],
      };
  }
  if (text === undefined && !o.policy.required) return { problems: [], notes: [] };
  const { scope, problems } = await folderScope(path.resolve(dir), root, o.config, o.names);
  const found = await attestationFindings(text, scope, o.policy, o.names);
  return { problems: append(problems, found.problems), notes: found.notes };
}

/**
 * The repository root of an evidence folder: the git top level of the folder; outside git,
 * the folder holding submission_runs/ when the evidence lies in one, else `cwd`.
 */
export async function evidenceRoot(dir: string, cwd: string): Promise<string> {
  const folder = path.resolve(cwd, dir);
  const top = await gitTopLevel(folder);
  if (top !== null) return top;
  return path.basename(path.dirname(folder)) === "submission_runs" ? path.dirname(path.dirname(folder)) : cwd;
}

/** The trusted checkout the options name (`trustedRoot`), or undefined under the default rule. */
function trustedOf(options: ReadOptions, cwd: string): Promise<TrustedFiles | undefined> {
  if (options.trustedRoot === undefined) return Promise.resolve(undefined);
  return trustedFiles(path.resolve(cwd, options.trustedRoot), {
    cwd,
    shownAs: options.trustedAs ?? `the trusted checkout ${options.trustedRoot}`,
    ...(options.trustedFile ? { showFile: options.trustedFile } : {}),
  });
}

/** Verifies a submission zip against its MANIFEST.json, and the evidence inside it. */
export async function verifySubmissionZip(
  zipFile: string,
  options: ReadOptions = {},
): Promise<VerifyOutcome> {
  const shownAs = options.shownAs ?? zipFile;
  const members = await readZipFile(zipFile, shownAs);
  const notes: string[] = [];
  const cwd = options.cwd ?? process.cwd();
  const trusted = await trustedOf(options, cwd);
  const problems = verifySubmission(members, {
    profile: options.profile ?? "default",
    onNote: (note) => notes.push(note),
    ...(trusted ? { trusted } : {}),
  }).map((p) => ({
    ...p,
    // Members are named as paths inside the zip, as Python's zipimport does: `<zip>/<entry>`.
    file: p.file === "" ? shownAs : `${shownAs}/${p.file}`,
  }));
  const manifest = jsonMember(members, "MANIFEST.json") as
    | { run_version?: unknown; run_dir?: unknown }
    | undefined;
  // A broken manifest is already a problem; the summary then has no run_version.
  const runVersion = typeof manifest?.run_version === "string" ? manifest.run_version : "";
  const runDir = typeof manifest?.run_dir === "string" ? manifest.run_dir.replace(/\/+$/, "") : undefined;
  if (options.attestation !== false && runDir !== undefined) {
    const found = await attestationOfZip(
      members,
      runDir,
      options.attestation ?? { required: false },
      shownAs,
    );
    append(problems, found.problems);
    append(notes, found.notes);
  }
  return { problems, notes, runVersion };
}

/** A member's JSON, or undefined when it is not there or not valid JSON evidence (verify says so). */
function jsonMember(members: readonly ZipMember[], name: string): unknown {
  const member = members.find((m) => m.name === name && m.kind === "file");
  if (!member) return undefined;
  try {
    return parseEvidenceJson(member.data.toString("utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The signature's findings on a zip: the bundle in its evidence folder against the members of
 * that folder and the promoted config (the evalset, the README and MANIFEST.json are the
 * package step's, not the aggregate job's, and are checked against MANIFEST.json).
 */
async function attestationOfZip(
  members: readonly ZipMember[],
  runDir: string,
  policy: AttestationPolicy,
  shownAs: string,
): Promise<{ problems: Problem[]; notes: string[] }> {
  const bundleName = `${runDir}/${attestationFileName}`;
  const bundle = members.find((m) => m.name === bundleName && m.kind === "file");
  if (!bundle && !policy.required) return { problems: [], notes: [] };
  const runManifest = jsonMember(members, `${runDir}/run_manifest.json`) as
    | { config_path?: unknown }
    | undefined;
  const configPath = typeof runManifest?.config_path === "string" ? runManifest.config_path : undefined;
  const files = new Map<string, string>();
  for (const m of members) {
    if (m.kind !== "file" || m.name === bundleName) continue;
    if (m.name.startsWith(`${runDir}/`) || m.name === configPath)
      files.set(m.name, createHash("sha256").update(m.data).digest("hex"));
  }
  if (bundle && bundle.data.length > limits.attestationBytes)
    return {
      problems: [
        {
          file: `${shownAs}/${bundleName}`,
          path: "",
          message: `is ${bundle.data.length} bytes, over the ${bytesText(limits.attestationBytes)} a bundle may have; not read`,
        },
      ],
      notes: [],
    };
  return attestationFindings(bundle?.data.toString("utf8"), { runDir, files }, policy, {
    bundle: `${shownAs}/${bundleName}`,
    file: (name) => `${shownAs}/${name}`,
  });
}

async function requireFolder(dir: string, shownAs: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dir);
  } catch (error) {
    throw new InputError(`${shownAs}: cannot read the evidence folder: ${describeFsError(error)}`);
  }
  if (!info.isDirectory())
    throw new InputError(`${shownAs}: is not a folder; expected an evidence folder or a submission .zip`);
}

async function readOne(
  verifier: EvidenceVerifier,
  file: string,
  name: EvidenceFileName,
  bounds: Bounds,
): Promise<void> {
  const refused = await bounds.refuse(file);
  if (refused !== undefined) {
    verifier.unreadable(name, refused);
    return;
  }
  if (name === "eval_rows.jsonl" || name === "trials.jsonl") {
    await streamJsonl(verifier, file, name);
    return;
  }
  const max = name === "kaggle_output_log.txt" ? limits.logFileBytes : limits.jsonFileBytes;
  let text: string;
  try {
    const read = await readBounded(file, max);
    if ("size" in read) {
      verifier.unreadable(
        name,
        `is ${read.size} bytes, over the ${bytesText(max)} a file of evidence may have here; not read`,
      );
      return;
    }
    const fault = utf8Fault(read.bytes);
    if (fault) {
      verifier.unreadable(name, `line ${fault.line}: ${describeUtf8Fault(fault)}`);
      return;
    }
    text = read.bytes.toString("utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") verifier.missing(name);
    else verifier.unreadable(name, describeFsError(error));
    return;
  }
  if (name === "kaggle_output_log.txt") verifier.outputLog(text);
  else verifier.jsonFile(name, text);
}

/** grades.jsonl, streamed, when it is there (its absence is the verifier's to judge). */
async function readGrades(verifier: EvidenceVerifier, file: string, bounds: Bounds): Promise<void> {
  const refused = await bounds.refuse(file);
  if (refused !== undefined) return verifier.gradesUnreadable(refused);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") verifier.gradesUnreadable(describeFsError(error));
    return;
  }
  if (!info.isFile()) return verifier.gradesUnreadable(notRegular().message);
  if (info.size > limits.jsonlFileBytes)
    return verifier.gradesUnreadable(
      `is ${info.size} bytes, over the ${bytesText(limits.jsonlFileBytes)} a file of evidence may have here; not read`,
    );
  verifier.gradesPresent();
  try {
    for await (const entry of readJsonl(file, file, { parse: parseEvidenceJson })) verifier.gradesLine(entry);
  } catch (error) {
    verifier.gradesUnreadable(error instanceof ReadError ? error.reason : describeFsError(error));
  }
}

/** The most charts a sweep draws, and more: past it, charts/ is not read further. */
const maxCharts = 32;

/**
 * The derived files as the folder holds them: leaderboard.md and charts/*.svg, each a plain
 * file within the JSON file limit (one that is not is left out, and so shows as differing).
 */
async function readDerived(
  dir: string,
  bounds: Bounds,
): Promise<{ leaderboard: string | undefined; charts: Map<string, string> }> {
  const text = async (file: string): Promise<string | undefined> => {
    if ((await bounds.refuse(file)) !== undefined) return undefined;
    try {
      const read = await readBounded(file, limits.jsonFileBytes);
      return "size" in read ? undefined : read.bytes.toString("utf8");
    } catch {
      return undefined;
    }
  };
  const charts = new Map<string, string>();
  const names = await readdir(path.join(dir, "charts")).catch(() => [] as string[]);
  for (const name of names
    .filter((n) => n.endsWith(".svg"))
    .sort()
    .slice(0, maxCharts)) {
    const svg = await text(path.join(dir, "charts", name));
    charts.set(name, svg ?? "");
  }
  return { leaderboard: await text(path.join(dir, "leaderboard.md")), charts };
}

async function streamJsonl(
  verifier: EvidenceVerifier,
  file: string,
  name: "eval_rows.jsonl" | "trials.jsonl",
): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
    if (info.isDirectory()) {
      verifier.unreadable(name, "is a directory");
      return;
    }
    if (!info.isFile()) {
      verifier.unreadable(name, notRegular().message);
      return;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") verifier.missing(name);
    else verifier.unreadable(name, describeFsError(error));
    return;
  }
  if (info.size > limits.jsonlFileBytes) {
    verifier.unreadable(
      name,
      `is ${info.size} bytes, over the ${bytesText(limits.jsonlFileBytes)} a file of evidence may have here; not read`,
    );
    return;
  }
  verifier.present(name);
  try {
    for await (const entry of readJsonl(file, file, { parse: parseEvidenceJson })) {
      if (name === "eval_rows.jsonl") verifier.evalRowsLine(entry);
      else verifier.trialsLine(entry);
      if (verifier.full(name)) break;
    }
  } catch (error) {
    // readJsonl's own errors already name the file; keep only the reason.
    const reason = error instanceof ReadError ? error.reason : describeFsError(error);
    verifier.unreadable(name, reason);
  }
}
