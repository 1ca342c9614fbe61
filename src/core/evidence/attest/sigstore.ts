/**
 * A Sigstore bundle's signature, checked offline with @sigstore/verify against trusted roots:
 * the certificate chains to a root's certificate authority, was valid when a trusted time
 * says the signature was made, and the signature is over the envelope.
 *
 * Two kinds of Sigstore instance sign GitHub's artifact attestations, and each root says
 * which it is: public-good (public repositories) logs every signature in Rekor and every
 * certificate in a CT log, so a bundle must carry a transparency-log entry and an SCT; GitHub's
 * own instance (private repositories) has no log and time-stamps each signature with an
 * RFC 3161 authority instead. The thresholds follow the root: one log entry when it has logs,
 * one SCT when it has CT logs, and always one trusted time.
 */
import { bundleFromJSON } from "@sigstore/bundle";
import { X509Certificate } from "@sigstore/core";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { messageOf, quote } from "../../errors.js";
import { JsonShapeError, parseEvidenceJson } from "../../json-text.js";
import { type Subject, statementSubjects, type WorkflowSigner } from "./attestation.js";
import { publicGoodTrustedRoot } from "./public-good-root.js";

/** A trusted root, parsed, with the name messages give it. */
export interface SigstoreRoot {
  name: string;
  root: TrustedRoot;
}

/** Sigstore's public-good root, as the installed tunix-rt ships it. */
export function publicGoodRoot(): SigstoreRoot {
  return { name: "Sigstore public-good", root: TrustedRoot.fromJSON(publicGoodTrustedRoot) };
}

/**
 * The trusted roots of a file: one TrustedRoot JSON, or JSON lines of them (what
 * `gh attestation trusted-root` prints: public-good's and GitHub's). Throws Error with a
 * one-line reason.
 */
export function parseTrustedRoots(text: string, shownAs: string): SigstoreRoot[] {
  const trimmed = text.trim();
  const docs: unknown[] = [];
  const parse = (piece: string, where: string) => {
    try {
      docs.push(parseEvidenceJson(piece));
    } catch (error) {
      throw new Error(
        `${where}: ${error instanceof JsonShapeError ? error.message : "is not valid JSON"}; expected a Sigstore trusted root (gh attestation trusted-root)`,
      );
    }
  };
  if (trimmed.startsWith("{") && !/\}\s*\n\s*\{/.test(trimmed)) parse(trimmed, shownAs);
  else
    trimmed.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() !== "") parse(line, `${shownAs}:${i + 1}`);
    });
  if (docs.length === 0) throw new Error(`${shownAs}: holds no trusted root`);
  return docs.map((doc, i) => {
    const mediaType = (doc as { mediaType?: unknown } | null)?.mediaType;
    if (typeof mediaType !== "string" || !mediaType.startsWith("application/vnd.dev.sigstore.trustedroot"))
      throw new Error(
        `${shownAs}${docs.length > 1 ? `:${i + 1}` : ""}: mediaType: got ${quote(mediaType)}; expected a Sigstore trusted root (application/vnd.dev.sigstore.trustedroot+json)`,
      );
    const root = TrustedRoot.fromJSON(doc);
    const ca = root.certificateAuthorities[0]?.uri;
    return {
      name: `${shownAs}${docs.length > 1 ? ` (${i + 1}: ${ca ?? "no certificate authority"})` : ""}`,
      root,
    };
  });
}

/** A bundle that verified: who signed it and what it vouches for. */
export interface VerifiedAttestation {
  signer: WorkflowSigner;
  subjects: Subject[];
  predicateType: string;
  /** The root whose authority issued the signing certificate. */
  root: string;
}

/** What a bundle holds before its signature is checked: its statement's subjects. */
export type BundleContent =
  | {
      ok: true;
      subjects: Subject[];
      predicateType: string;
      verify: (roots: readonly SigstoreRoot[]) => VerifyResult;
    }
  | { ok: false; message: string };

export type VerifyResult = { ok: true; value: VerifiedAttestation } | { ok: false; message: string };

/**
 * Reads a bundle (JSON text): its statement's subjects at once, and a `verify` that checks
 * the signature against roots. Never throws: what is wrong is the message.
 */
export function readBundle(text: string): BundleContent {
  let json: unknown;
  try {
    json = parseEvidenceJson(text);
  } catch (error) {
    return { ok: false, message: error instanceof JsonShapeError ? error.message : "is not valid JSON" };
  }
  let bundle: ReturnType<typeof bundleFromJSON>;
  try {
    bundle = bundleFromJSON(json);
  } catch (error) {
    return { ok: false, message: `is not a Sigstore bundle: ${messageOf(error)}` };
  }
  if (bundle.content.$case !== "dsseEnvelope")
    return {
      ok: false,
      message: "signs a message, not a DSSE envelope; expected an attestation (actions/attest)",
    };
  const envelope = bundle.content.dsseEnvelope;
  const statement = statementSubjects(envelope.payloadType, Buffer.from(envelope.payload));
  if (!statement.ok) return statement;
  const material = bundle.verificationMaterial.content;
  const der =
    material.$case === "certificate"
      ? material.certificate.rawBytes
      : material.$case === "x509CertificateChain"
        ? material.x509CertificateChain.certificates[0]?.rawBytes
        : undefined;
  if (!der)
    return {
      ok: false,
      message: "is signed with a key, not a certificate; expected a GitHub Actions signature",
    };
  return {
    ok: true,
    subjects: statement.subjects,
    predicateType: statement.predicateType,
    verify: (roots) => {
      const failures: string[] = [];
      for (const { name, root } of roots) {
        try {
          const verifier = new Verifier(toTrustMaterial(root), {
            tlogThreshold: root.tlogs.length > 0 ? 1 : 0,
            ctlogThreshold: root.ctlogs.length > 0 ? 1 : 0,
            timestampThreshold: 1,
          });
          verifier.verify(toSignedEntity(bundle));
          return {
            ok: true,
            value: {
              signer: signerOfCertificate(Buffer.from(der)),
              subjects: statement.subjects,
              predicateType: statement.predicateType,
              root: name,
            },
          };
        } catch (error) {
          failures.push(`${name}: ${messageOf(error)}`);
        }
      }
      return {
        ok: false,
        message: `its signature does not verify against ${roots.length === 1 ? "the trusted root" : `any of ${roots.length} trusted roots`} (${failures.join("; ")})`,
      };
    },
  };
}

/** Fulcio's certificate extensions for a GitHub Actions token (v2: DER UTF8String values). */
const fulcioOid = {
  issuer: "1.3.6.1.4.1.57264.1.8",
  buildSignerUri: "1.3.6.1.4.1.57264.1.9",
  sourceRepositoryUri: "1.3.6.1.4.1.57264.1.12",
  sourceRepositoryDigest: "1.3.6.1.4.1.57264.1.13",
  sourceRepositoryRef: "1.3.6.1.4.1.57264.1.14",
  runInvocationUri: "1.3.6.1.4.1.57264.1.21",
} as const;

/** The signer a certificate (DER) names. Throws on a certificate that cannot be parsed. */
export function signerOfCertificate(der: Buffer): WorkflowSigner {
  const cert = X509Certificate.parse(Buffer.from(der));
  const text = (oid: string): string | undefined => {
    const ext = cert.extension(oid);
    if (!ext) return undefined;
    const value = ext.value;
    // A DER UTF8String (tag 12) of short or long length.
    if (value[0] !== 12 || value.length < 2) return undefined;
    const first = value[1] as number;
    let start = 2;
    let length = first;
    if (first & 0x80) {
      const octets = first & 0x7f;
      if (octets < 1 || octets > 3) return undefined;
      length = 0;
      for (let i = 0; i < octets; i++) length = length * 256 + (value[2 + i] as number);
      start = 2 + octets;
    }
    if (start + length !== value.length) return undefined;
    return value.subarray(start).toString("utf8");
  };
  const signer: WorkflowSigner = {};
  const set = (key: keyof WorkflowSigner, oid: string) => {
    const v = text(oid);
    if (v !== undefined) signer[key] = v;
  };
  set("issuer", fulcioOid.issuer);
  set("workflow", fulcioOid.buildSignerUri);
  set("repository", fulcioOid.sourceRepositoryUri);
  set("commit", fulcioOid.sourceRepositoryDigest);
  set("ref", fulcioOid.sourceRepositoryRef);
  set("run", fulcioOid.runInvocationUri);
  return signer;
}
