/**
 * Signed evidence: what the sweep's aggregate job signs, and what verify asks of the signature.
 *
 * The aggregate job writes the SHA-256 of every evidence file (and of the promoted config),
 * named by its repository path, as a checksums file (`checksumsText`); GitHub's
 * actions/attest-build-provenance signs those subjects with a short-lived certificate that
 * GitHub's OIDC token buys from Sigstore, and the Sigstore bundle it writes goes beside the
 * evidence as attestation.sigstore.json. The bundle's DSSE envelope holds an in-toto
 * statement whose subjects are those files; its certificate says which workflow of which
 * repository signed, at which commit, in which run (Fulcio's OIDs, 1.3.6.1.4.1.57264.1.*).
 *
 * verify then holds the evidence to the signature: every file of the folder and the promoted
 * config must be a subject with the same SHA-256, and every subject under the folder a file
 * there, so an edit (or a MANIFEST.json recomputed after one) shows as "not attested"; the
 * signer must be the repository (and workflow) the caller trusts. The signature itself is
 * checked in sigstore.ts.
 */
import { quote } from "../../errors.js";
import { JsonShapeError, parseEvidenceJson } from "../../json-text.js";
import { attestationFileName } from "../schemas.js";

export { attestationFileName };

/** The most subjects one attestation of actions/attest may have (its own limit). */
export const maxSubjects = 1024;

/** The in-toto statement type and the payload type of its DSSE envelope. */
const statementType = "https://in-toto.io/Statement/v1";
export const inTotoPayloadType = "application/vnd.in-toto+json";

/** A file the statement vouches for: its repository path and SHA-256 (hex). */
export interface Subject {
  name: string;
  sha256: string;
}

/** The subjects of an attestation's statement, or why it has none to give. */
export type StatementSubjects =
  | { ok: true; subjects: Subject[]; predicateType: string }
  | { ok: false; message: string };

/**
 * The subjects of a DSSE payload: an in-toto v1 statement, each subject with a name and a
 * sha256 digest (a subject with only other digests is left out: verify compares SHA-256).
 */
export function statementSubjects(payloadType: string, payload: Buffer): StatementSubjects {
  if (payloadType !== inTotoPayloadType)
    return {
      ok: false,
      message: `holds a payload of type ${quote(payloadType)}; expected ${inTotoPayloadType}`,
    };
  let doc: unknown;
  try {
    doc = parseEvidenceJson(payload.toString("utf8"));
  } catch (error) {
    const reason = error instanceof JsonShapeError ? error.message : "is not valid JSON";
    return { ok: false, message: `its statement ${reason}` };
  }
  const statement = doc as { _type?: unknown; subject?: unknown; predicateType?: unknown } | null;
  if (!statement || typeof statement !== "object" || statement._type !== statementType)
    return { ok: false, message: `its payload is not an in-toto statement (_type ${statementType})` };
  if (!Array.isArray(statement.subject) || statement.subject.length === 0)
    return { ok: false, message: "its statement names no subject" };
  if (statement.subject.length > maxSubjects)
    return {
      ok: false,
      message: `its statement names ${statement.subject.length} subjects; at most ${maxSubjects} (actions/attest's limit)`,
    };
  const subjects: Subject[] = [];
  for (const [i, raw] of statement.subject.entries()) {
    const s = raw as { name?: unknown; digest?: { sha256?: unknown } } | null;
    if (!s || typeof s.name !== "string")
      return { ok: false, message: `its statement's subject ${i} has no name` };
    const sha = s.digest?.sha256;
    if (sha === undefined) continue;
    if (typeof sha !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha))
      return {
        ok: false,
        message: `its statement's subject ${quote(s.name)} has sha256 ${quote(sha)}; expected 64 hex digits`,
      };
    subjects.push({ name: s.name, sha256: sha.toLowerCase() });
  }
  return {
    ok: true,
    subjects,
    predicateType: typeof statement.predicateType === "string" ? statement.predicateType : "",
  };
}

/**
 * The checksums file actions/attest reads as `subject-checksums`: `<sha256>  <name>` per
 * line, as sha256sum writes it. Names are repository paths, which hold no line break.
 */
export function checksumsText(files: readonly Subject[]): string {
  for (const f of files)
    if (/[\r\n]/.test(f.name))
      throw new Error(`checksums: a subject name holds a line break: ${quote(f.name)}`);
  return files.map((f) => `${f.sha256}  ${f.name}\n`).join("");
}

/** What the evidence holds, for the comparison: each file's repository path and SHA-256. */
export interface AttestedScope {
  /** The evidence folder's repository path (`submission_runs/<run_version>`). */
  runDir: string;
  /** Every file of the folder but the bundle, and the promoted config, by repository path. */
  files: ReadonlyMap<string, string>;
}

/**
 * The files the statement does not vouch for, and the subjects of this evidence that are not
 * there: each as [repository path, message]. Subjects outside the folder and the files given
 * are not this evidence's and are left alone.
 */
export function subjectProblems(subjects: readonly Subject[], scope: AttestedScope): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const signed = new Map<string, string[]>();
  for (const s of subjects) {
    const list = signed.get(s.name);
    if (list) list.push(s.sha256);
    else signed.set(s.name, [s.sha256]);
  }
  for (const [name, sha] of [...scope.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const digests = signed.get(name);
    if (!digests)
      found.push([name, `is not attested: ${attestationFileName} names no subject ${quote(name)}`]);
    else if (!digests.includes(sha))
      found.push([
        name,
        `is not attested: its SHA-256 is ${sha}, and ${attestationFileName} signed ${digests.join(" or ")} (the file was changed after it was signed)`,
      ]);
  }
  const inFolder = `${scope.runDir}/`;
  for (const name of [...signed.keys()].sort()) {
    if (name.startsWith(inFolder) && name !== `${inFolder}${attestationFileName}` && !scope.files.has(name))
      found.push([name, `is missing: ${attestationFileName} signed it as part of this evidence`]);
  }
  return found;
}

/** Who signed, as the certificate says: each field undefined when the certificate lacks it. */
export interface WorkflowSigner {
  /** The OIDC issuer: https://token.actions.githubusercontent.com for GitHub Actions. */
  issuer?: string;
  /** The workflow file that signed, with its ref: https://github.com/o/r/.github/workflows/x.yml@refs/heads/main. */
  workflow?: string;
  /** The repository the workflow ran for: https://github.com/o/r. */
  repository?: string;
  /** The commit it ran at. */
  commit?: string;
  /** The ref it ran on. */
  ref?: string;
  /** The run: https://github.com/o/r/actions/runs/1/attempts/1. */
  run?: string;
}

/** Whom the caller trusts to sign evidence. */
export interface SignerPolicy {
  /** `owner/name`: a workflow of this repository must have signed. */
  repository: string;
  /** `.github/workflows/<file>`: that workflow of the repository, at any ref; undefined: any of its workflows. */
  workflow?: string;
  /** The GitHub server's URL (https://github.com, or a GitHub Enterprise Server's). */
  serverUrl: string;
}

/** GitHub Actions' OIDC issuer (an enterprise with a custom issuer adds `/<slug>`). */
export const actionsIssuer = "https://token.actions.githubusercontent.com";

/** Why the signer is not the one trusted: one message, or undefined when it is. */
export function signerProblem(signer: WorkflowSigner, policy: SignerPolicy): string | undefined {
  if (signer.issuer !== actionsIssuer && !signer.issuer?.startsWith(`${actionsIssuer}/`))
    return `was signed with a token of ${quote(signer.issuer ?? "an unknown issuer")}; expected GitHub Actions (${actionsIssuer})`;
  const server = policy.serverUrl.replace(/\/+$/, "");
  const repositoryUri = `${server}/${policy.repository}`;
  if (signer.repository?.toLowerCase() !== repositoryUri.toLowerCase())
    return `was signed by a workflow of ${signer.repository ?? "an unknown repository"}; expected one of ${repositoryUri}`;
  if (policy.workflow !== undefined) {
    const prefix = `${repositoryUri}/${policy.workflow}@`.toLowerCase();
    if (!signer.workflow?.toLowerCase().startsWith(prefix))
      return `was signed by the workflow ${signer.workflow ?? "(unknown)"}; expected ${repositoryUri}/${policy.workflow} at any ref`;
  }
  return undefined;
}

/** The signer in words, for a note: `the workflow … of … at commit 1a2b3c4 (run …)`. */
export function describeSigner(signer: WorkflowSigner): string {
  const parts = [`the workflow ${signer.workflow ?? "(unknown)"}`];
  if (signer.commit) parts.push(`at commit ${signer.commit.slice(0, 12)}`);
  if (signer.run) parts.push(`(run ${signer.run})`);
  return parts.join(" ");
}
