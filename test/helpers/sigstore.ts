/**
 * A Sigstore instance for tests, shaped as GitHub's own (the one that signs a private
 * repository's artifact attestations): a certificate authority that issues short-lived
 * certificates carrying the workflow's identity in Fulcio's extensions, and an RFC 3161 time
 * stamp authority; no transparency log. Every certificate and time stamp is made by openssl
 * (`req`, `x509`, `ts -reply`), and each bundle is what actions/attest writes: a v0.3 bundle
 * with a DSSE envelope over an in-toto statement. Nothing here is a stand-in for the
 * verifier: bundles go through @sigstore/verify as GitHub's do.
 */
import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey, sign } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** Who signs: the GitHub Actions identity the certificate carries. */
export interface TestSigner {
  /** `owner/name`. */
  repository: string;
  /** `.github/workflows/<file>`. */
  workflow: string;
  commit?: string;
  ref?: string;
  issuer?: string;
}

/** A subject: the file's repository path and its SHA-256. */
export interface TestSubject {
  name: string;
  sha256: string;
}

const der = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s/g, ""), "base64");

export class TestSigstore {
  #count = 0;
  private constructor(readonly dir: string) {}

  /** A new instance in `dir`: its authority's and its time stamp authority's keys and certificates. */
  static async create(dir: string): Promise<TestSigstore> {
    await mkdir(dir, { recursive: true });
    const s = new TestSigstore(dir);
    s.#ssl("ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", "ca.key");
    await s.#write(
      "ca.cnf",
      "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nO=tunix-rt test\nCN=test authority\n[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
    );
    s.#ssl(
      "req",
      "-new",
      "-x509",
      "-key",
      "ca.key",
      "-config",
      "ca.cnf",
      "-extensions",
      "ext",
      "-days",
      "30",
      "-set_serial",
      "1",
      "-out",
      "ca.pem",
    );
    s.#ssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "tsa.key");
    await s.#write(
      "tsa.cnf",
      "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nO=tunix-rt test\nCN=test time stamps\n[ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    );
    s.#ssl("req", "-new", "-key", "tsa.key", "-config", "tsa.cnf", "-out", "tsa.csr");
    s.#ssl(
      "x509",
      "-req",
      "-in",
      "tsa.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-set_serial",
      "2",
      "-days",
      "30",
      "-extfile",
      "tsa.cnf",
      "-extensions",
      "ext",
      "-out",
      "tsa.pem",
    );
    await s.#write(
      "tsa-reply.cnf",
      `[tsa]\ndefault_tsa=t\n[t]\nserial=${path.join(dir, "tsa.serial")}\nsigner_digest=sha256\ndefault_policy=1.3.6.1.4.1.57264.2\ndigests=sha256\naccuracy=secs:1\nordering=no\ness_cert_id_alg=sha256\n`,
    );
    await s.#write("tsa.serial", "01\n");
    return s;
  }

  /** The instance's trusted root (TrustedRoot JSON), as `gh attestation trusted-root` prints one. */
  async trustedRoot(): Promise<Record<string, unknown>> {
    const ca = der(await readFile(path.join(this.dir, "ca.pem"), "utf8")).toString("base64");
    const tsa = der(await readFile(path.join(this.dir, "tsa.pem"), "utf8")).toString("base64");
    const start = new Date(Date.now() - 3_600_000).toISOString();
    return {
      mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
      tlogs: [],
      ctlogs: [],
      certificateAuthorities: [
        {
          subject: { organization: "tunix-rt test", commonName: "test authority" },
          uri: "https://fulcio.test.invalid",
          certChain: { certificates: [{ rawBytes: ca }] },
          validFor: { start },
        },
      ],
      timestampAuthorities: [
        {
          subject: { organization: "tunix-rt test", commonName: "test time stamps" },
          uri: "https://tsa.test.invalid",
          certChain: { certificates: [{ rawBytes: tsa }, { rawBytes: ca }] },
          validFor: { start },
        },
      ],
    };
  }

  /** Writes the trusted root to `file` and returns its path. */
  async writeTrustedRoot(file: string): Promise<string> {
    await writeFile(file, `${JSON.stringify(await this.trustedRoot())}\n`);
    return file;
  }

  /** A bundle (JSON text) over `subjects`, signed as `signer`'s workflow signs. */
  async sign(subjects: readonly TestSubject[], signer: TestSigner): Promise<string> {
    const n = ++this.#count;
    const key = `leaf${n}.key`;
    this.#ssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key);
    const server = "https://github.com";
    const workflowUri = `${server}/${signer.repository}/${signer.workflow}@${signer.ref ?? "refs/heads/main"}`;
    const utf8 = (oid: number, value: string) => `1.3.6.1.4.1.57264.1.${oid}=ASN1:UTF8String:${value}`;
    await this.#write(
      `leaf${n}.cnf`,
      [
        "[req]",
        "distinguished_name=dn",
        "prompt=no",
        "[dn]",
        "O=sigstore.dev",
        "[ext]",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=codeSigning",
        `subjectAltName=critical,URI:${workflowUri}`,
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid",
        utf8(8, signer.issuer ?? "https://token.actions.githubusercontent.com"),
        utf8(9, workflowUri),
        utf8(12, `${server}/${signer.repository}`),
        utf8(13, signer.commit ?? "0".repeat(40)),
        utf8(14, signer.ref ?? "refs/heads/main"),
        utf8(21, `${server}/${signer.repository}/actions/runs/${1000 + n}/attempts/1`),
        "",
      ].join("\n"),
    );
    this.#ssl("req", "-new", "-key", key, "-config", `leaf${n}.cnf`, "-out", `leaf${n}.csr`);
    this.#ssl(
      "x509",
      "-req",
      "-in",
      `leaf${n}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-set_serial",
      String(100 + n),
      "-days",
      "1",
      "-extfile",
      `leaf${n}.cnf`,
      "-extensions",
      "ext",
      "-out",
      `leaf${n}.pem`,
    );
    const statement = {
      _type: "https://in-toto.io/Statement/v1",
      subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
      predicateType: "https://slsa.dev/provenance/v1",
      predicate: { buildDefinition: { buildType: "https://actions.github.io/buildtypes/workflow/v1" } },
    };
    const payload = Buffer.from(JSON.stringify(statement));
    const type = "application/vnd.in-toto+json";
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
    const signature = sign("sha256", pae, createPrivateKey(await readFile(path.join(this.dir, key))));
    await writeFile(path.join(this.dir, `sig${n}.bin`), signature);
    this.#ssl("ts", "-query", "-data", `sig${n}.bin`, "-sha256", "-cert", "-no_nonce", "-out", `q${n}.tsq`);
    this.#ssl(
      "ts",
      "-reply",
      "-config",
      "tsa-reply.cnf",
      "-queryfile",
      `q${n}.tsq`,
      "-signer",
      "tsa.pem",
      "-inkey",
      "tsa.key",
      "-chain",
      "ca.pem",
      "-out",
      `r${n}.tsr`,
    );
    const bundle = {
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      verificationMaterial: {
        certificate: {
          rawBytes: der(await readFile(path.join(this.dir, `leaf${n}.pem`), "utf8")).toString("base64"),
        },
        tlogEntries: [],
        timestampVerificationData: {
          rfc3161Timestamps: [
            { signedTimestamp: (await readFile(path.join(this.dir, `r${n}.tsr`))).toString("base64") },
          ],
        },
      },
      dsseEnvelope: {
        payload: payload.toString("base64"),
        payloadType: type,
        signatures: [{ sig: signature.toString("base64"), keyid: "" }],
      },
    };
    return `${JSON.stringify(bundle)}\n`;
  }

  #ssl(...args: string[]): void {
    execFileSync("openssl", args, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] });
  }

  async #write(name: string, text: string): Promise<void> {
    await writeFile(path.join(this.dir, name), text);
  }
}

/** SHA-256 (hex) of bytes. */
export const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/**
 * The subjects the sweep's aggregate job signs for an evidence folder of `repo`: every file
 * under `runDir` (dot-files and the bundle aside) and the promoted config, by repository path.
 */
export async function evidenceSubjects(repo: string, runDir: string): Promise<TestSubject[]> {
  const { readdir } = await import("node:fs/promises");
  const subjects: TestSubject[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(path.join(repo, dir), { withFileTypes: true })) {
      const name = `${dir}/${entry.name}`;
      if (entry.name.startsWith(".") || entry.name === "attestation.sigstore.json") continue;
      if (entry.isDirectory()) await walk(name);
      else subjects.push({ name, sha256: sha256(await readFile(path.join(repo, name))) });
    }
  };
  await walk(runDir);
  const manifest = JSON.parse(await readFile(path.join(repo, runDir, "run_manifest.json"), "utf8"));
  if (typeof manifest.config_path === "string")
    subjects.push({
      name: manifest.config_path,
      sha256: sha256(await readFile(path.join(repo, manifest.config_path))),
    });
  return subjects.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Signs an evidence folder of `repo` as `signer` and writes the bundle beside it. */
export async function attestFolder(
  sigstore: TestSigstore,
  repo: string,
  runDir: string,
  signer: TestSigner,
): Promise<void> {
  const bundle = await sigstore.sign(await evidenceSubjects(repo, runDir), signer);
  await writeFile(path.join(repo, runDir, "attestation.sigstore.json"), bundle);
}
