/**
 * The signature on evidence, as verify checks it (core/attest): the bundle beside the
 * evidence, the files it must vouch for, the roots its signature is checked against, and
 * whom to trust. Absent, it is a problem only when the caller requires it (`required`, as
 * the pull-request check of a repository whose sweeps sign does); present, it is always
 * checked, since a wrong signature beside evidence is never right.
 *
 * The verifier (@sigstore/verify, in core/attest/sigstore.ts) loads only when there is a
 * bundle or a root to read: every command that reads evidence would pay its start-up else.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { InputError, messageOf, type Problem } from "../core/errors.js";
import {
  type AttestedScope,
  attestationFileName,
  describeSigner,
  maxSubjects,
  type SignerPolicy,
  signerProblem,
  subjectProblems,
} from "../core/evidence/attest/attestation.js";
import type { SigstoreRoot } from "../core/evidence/attest/sigstore.js";
import { bytesText, limits } from "../core/limits.js";
import { describeFsError, sha256OfFile } from "./files.js";

/** What verify asks of the signature. */
export interface AttestationPolicy {
  /** A missing bundle is a problem. */
  required: boolean;
  /** Whom to trust; undefined: whoever the roots vouch for, named in a note. */
  signer?: SignerPolicy;
  /** The roots the signature is checked against; default Sigstore's public-good one. */
  roots?: readonly SigstoreRoot[];
}

/** How the findings name files: the bundle, and each file by its repository path. */
export interface AttestationNames {
  bundle: string;
  file: (repoPath: string) => string;
}

/** The trusted roots of a file (`--sigstore-root`): InputError when it cannot be used. */
export async function readTrustedRootsFile(file: string, shownAs = file): Promise<SigstoreRoot[]> {
  let text: string;
  try {
    const info = await lstat(file);
    if (!info.isFile())
      throw new InputError(`${shownAs}: is not a regular file; expected a Sigstore trusted root`);
    if (info.size > limits.configBytes)
      throw new InputError(
        `${shownAs}: is ${info.size} bytes, over the ${bytesText(limits.configBytes)} a trusted root may have`,
      );
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${shownAs}: cannot read the trusted root: ${describeFsError(error)}`);
  }
  const { parseTrustedRoots } = await import("../core/evidence/attest/sigstore.js");
  try {
    return parseTrustedRoots(text, shownAs);
  } catch (error) {
    throw new InputError(messageOf(error));
  }
}

/**
 * The signature's findings on evidence whose files are `scope`: `bundleText` is the bundle
 * (undefined: there is none). Problems name the bundle, or a file by `names.file`.
 */
export async function attestationFindings(
  bundleText: string | undefined,
  scope: AttestedScope,
  policy: AttestationPolicy,
  names: AttestationNames,
): Promise<{ problems: Problem[]; notes: string[] }> {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const onBundle = (message: string) => problems.push({ file: names.bundle, path: "", message });
  if (bundleText === undefined) {
    if (policy.required)
      onBundle(
        `missing; the evidence must be signed (the sweep's aggregate job signs it with actions/attest-build-provenance)${policy.signer ? ` by a workflow of ${policy.signer.repository}` : ""}`,
      );
    return { problems, notes };
  }
  const { publicGoodRoot, readBundle } = await import("../core/evidence/attest/sigstore.js");
  const content = readBundle(bundleText);
  if (!content.ok) {
    onBundle(content.message);
    return { problems, notes };
  }
  for (const [name, message] of subjectProblems(content.subjects, scope))
    problems.push({ file: names.file(name), path: "", message });
  const roots = policy.roots ?? [publicGoodRoot()];
  const verified = content.verify(roots);
  if (!verified.ok) {
    const hint = policy.roots
      ? ""
      : "; a private repository's attestations are signed by GitHub's own Sigstore instance: give its root (gh attestation trusted-root) as --sigstore-root";
    // Asked for nothing (no signer required, no roots given), a signature this verifier cannot
    // check is said, not held against the evidence: without the bundle it would pass too.
    if (policy.required || policy.roots) onBundle(`${verified.message}${hint}`);
    else notes.push(`${names.bundle}: not checked: ${verified.message}${hint}`);
    return { problems, notes };
  }
  const { signer } = verified.value;
  if (policy.signer) {
    const wrong = signerProblem(signer, policy.signer);
    if (wrong) onBundle(wrong);
    else if (problems.length === 0)
      notes.push(`${names.bundle}: the evidence is attested: signed by ${describeSigner(signer)}`);
  } else {
    notes.push(
      `${names.bundle}: signed by ${describeSigner(signer)}, of ${signer.repository ?? "an unknown repository"}; nothing said whom to trust, so the signer was not checked (--attestation-repo OWNER/NAME requires it)`,
    );
  }
  return { problems, notes };
}

/**
 * What an evidence folder holds for the signature: each plain file under it (dot-files and
 * the bundle aside), by repository path, with its SHA-256, and the promoted config's. A
 * folder of more files than an attestation may name, or a file over the largest evidence
 * file, is refused by a problem rather than hashed.
 */
export async function folderScope(
  dir: string,
  repoRoot: string,
  config: { repoPath: string; bytes: Buffer } | undefined,
  names: AttestationNames,
): Promise<{ scope: AttestedScope; problems: Problem[] }> {
  const toRepo = (file: string) => path.relative(repoRoot, file).split(path.sep).join("/");
  const runDir = toRepo(dir);
  const files = new Map<string, string>();
  const problems: Problem[] = [];
  const walk = async (folder: string, depth: number): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const file = path.join(folder, entry.name);
      if (depth === 0 && entry.name === attestationFileName) continue;
      if (files.size > maxSubjects) break;
      if (entry.isDirectory() && depth < 2) await walk(file, depth + 1);
      else if (!entry.isFile())
        problems.push({
          file: names.file(toRepo(file)),
          path: "",
          message: "is not a plain file; it cannot be attested",
        });
      else {
        const { size } = await lstat(file);
        if (size > limits.jsonlFileBytes)
          problems.push({
            file: names.file(toRepo(file)),
            path: "",
            message: `is ${size} bytes, over the ${bytesText(limits.jsonlFileBytes)} of the largest evidence file; not compared with the attestation`,
          });
        else files.set(toRepo(file), await sha256OfFile(file));
      }
    }
  };
  await walk(dir, 0);
  if (files.size > maxSubjects)
    problems.push({
      file: names.bundle,
      path: "",
      message: `the folder holds more than ${maxSubjects} files, more than one attestation may name`,
    });
  if (config) files.set(config.repoPath, createHash("sha256").update(config.bytes).digest("hex"));
  return { scope: { runDir, files }, problems };
}
