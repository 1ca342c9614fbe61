/**
 * Signed evidence. Two kinds of signature go through the same verifier (@sigstore/verify):
 *
 * - real ones, made on GitHub Actions through Sigstore's public-good instance (the GitHub
 *   CLI's test data, test/fixtures/attestation), checked offline against the root tunix-rt
 *   ships: what GitHub signs verifies, and a changed byte anywhere does not;
 * - ones made here by a Sigstore instance shaped as GitHub's own (test/helpers/sigstore.ts:
 *   openssl's certificate authority and RFC 3161 time stamps), over the reference evidence,
 *   through `tunix-rt verify` as a user runs it.
 */
import { execFileSync } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signerProblem, subjectProblems } from "../src/core/evidence/attest/attestation.js";
import { publicGoodRoot, readBundle } from "../src/core/evidence/attest/sigstore.js";
import { runCli, tempDir } from "./helpers/cli.js";
import { attestFolder, sha256, TestSigstore } from "./helpers/sigstore.js";
import { editJson, editJsonl, evidence, file, referenceRepo } from "./hostile/helpers.js";

const fixtures = path.resolve(import.meta.dirname, "fixtures/attestation");
const fixture = (name: string) => readFile(path.join(fixtures, name), "utf8");

describe("real GitHub attestations, checked offline against Sigstore's public-good root", () => {
  it("an artifact attestation of actions/attest-build-provenance verifies, and names its signer and subject", async () => {
    const content = readBundle(await fixture("reusable-workflow-attestation.sigstore.json"));
    expect(content.ok).toBe(true);
    if (!content.ok) return;
    const artifact = await readFile(path.join(fixtures, "reusable-workflow-artifact"));
    expect(content.subjects).toEqual([
      { name: "github_provenance_demo-0.0.0-py3-none-any.whl", sha256: sha256(artifact) },
    ]);
    const verified = content.verify([publicGoodRoot()]);
    expect(verified).toMatchObject({ ok: true, value: { root: "Sigstore public-good" } });
    if (!verified.ok) return;
    expect(verified.value.signer).toEqual({
      issuer: "https://token.actions.githubusercontent.com",
      workflow:
        "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d",
      repository: "https://github.com/malancas/attest-demo",
      commit: "95baf27389e83e6a5c48f42e190d48d7abcea19e",
      ref: "refs/heads/main",
      run: "https://github.com/malancas/attest-demo/actions/runs/9228858953/attempts/1",
    });
    // The signer policy: the repository it ran for, and the workflow file that signed.
    const policy = { repository: "malancas/attest-demo", serverUrl: "https://github.com" };
    expect(signerProblem(verified.value.signer, policy)).toBeUndefined();
    expect(signerProblem(verified.value.signer, { ...policy, repository: "someone/else" })).toBe(
      "was signed by a workflow of https://github.com/malancas/attest-demo; expected one of https://github.com/someone/else",
    );
    expect(
      signerProblem(verified.value.signer, { ...policy, workflow: ".github/workflows/shared.yml" }),
    ).toContain(
      "was signed by the workflow https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d; expected https://github.com/malancas/attest-demo/.github/workflows/shared.yml at any ref",
    );
  });

  it("the npm provenance of sigstore@2.1.0 verifies: another GitHub workflow, an older bundle", async () => {
    const content = readBundle(await fixture("sigstore-js-2.1.0-bundle.json"));
    expect(content.ok).toBe(true);
    if (!content.ok) return;
    const verified = content.verify([publicGoodRoot()]);
    expect(verified.ok && verified.value.signer.workflow).toBe(
      "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
    );
  });

  it("one changed byte fails: in the artifact, the statement, the signature or the certificate", async () => {
    const text = await fixture("reusable-workflow-attestation.sigstore.json");
    const content = readBundle(text);
    if (!content.ok) throw new Error(content.message);
    // The artifact: its digest is no longer the subject's.
    const artifact = await readFile(path.join(fixtures, "reusable-workflow-artifact"));
    artifact[100] = (artifact[100] as number) ^ 1;
    const name = "github_provenance_demo-0.0.0-py3-none-any.whl";
    expect(
      subjectProblems(content.subjects, { runDir: "dist", files: new Map([[name, sha256(artifact)]]) }),
    ).toEqual([
      [
        name,
        expect.stringMatching(
          /^is not attested: its SHA-256 is [0-9a-f]{64}, and attestation\.sigstore\.json signed 49a3aa60/,
        ),
      ],
    ]);
    const bundle = JSON.parse(text);
    const flip = (b64: string, at: number) => {
      const bytes = Buffer.from(b64, "base64");
      bytes[at] = (bytes[at] as number) ^ 1;
      return bytes.toString("base64");
    };
    // The statement: a subject's digest rewritten, as an edit would need it to be.
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString("utf8"));
    statement.subject[0].digest.sha256 = sha256(artifact);
    const edits: Array<[string, (b: typeof bundle) => void]> = [
      [
        "statement",
        (b) => (b.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64")),
      ],
      ["signature", (b) => (b.dsseEnvelope.signatures[0].sig = flip(b.dsseEnvelope.signatures[0].sig, 20))],
      [
        "certificate",
        (b) =>
          (b.verificationMaterial.certificate.rawBytes = flip(
            b.verificationMaterial.certificate.rawBytes,
            300,
          )),
      ],
    ];
    for (const [what, edit] of edits) {
      const copy = structuredClone(bundle);
      edit(copy);
      const edited = readBundle(JSON.stringify(copy));
      const result = edited.ok ? edited.verify([publicGoodRoot()]) : edited;
      expect(result.ok, what).toBe(false);
    }
  });
});

describe("tunix-rt verify of signed evidence (a Sigstore instance shaped as GitHub's own)", () => {
  let work: string;
  let sigstore: TestSigstore;
  let root: string;
  const signer = { repository: "octo/tuning", workflow: ".github/workflows/tunix-rt-sweep.yml" };
  const trust = ["--attestation-repo", "octo/tuning", "--signer-workflow", signer.workflow];

  beforeAll(async () => {
    work = await tempDir("tunix-rt-attest-");
    sigstore = await TestSigstore.create(path.join(work, "sigstore"));
    root = await sigstore.writeTrustedRoot(path.join(work, "trusted_root.json"));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  const signed = async () => {
    const repo = await referenceRepo("tunix-rt-attest-repo-");
    await attestFolder(sigstore, repo, evidence, signer);
    return repo;
  };
  const verify = (repo: string, ...flags: string[]) =>
    runCli(["verify", evidence, "--sigstore-root", root, ...flags], { cwd: repo });

  it("evidence signed by the trusted workflow verifies, and the note says who signed", async () => {
    const repo = await signed();
    const run = await verify(repo, ...trust);
    expect(run.stdout).toBe("");
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /note: submission_runs\/example_v1\/attestation\.sigstore\.json: the evidence is attested: signed by the workflow https:\/\/github\.com\/octo\/tuning\/\.github\/workflows\/tunix-rt-sweep\.yml@refs\/heads\/main at commit 000000000000 \(run https:\/\/github\.com\/octo\/tuning\/actions\/runs\/\d+\/attempts\/1\)/,
    );
    // Asked whom to trust, or not: the signer is named either way.
    const untold = await verify(repo);
    expect(untold.code).toBe(0);
    expect(untold.stderr).toContain("nothing said whom to trust, so the signer was not checked");
  });

  it("every commit_sha rewritten consistently: every other check passes, the signature does not", async () => {
    const repo = await signed();
    const bundle = await readFile(file(repo, "attestation.sigstore.json"), "utf8");
    const forged = "f".repeat(40);
    await editJsonl(file(repo, "trials.jsonl"), (t) => ({ ...t, commit_sha: forged }));
    await editJson(file(repo, "run_manifest.json"), (m) => {
      m.commit_sha = forged;
    });
    // Without the signature, nothing else can tell.
    await rm(file(repo, "attestation.sigstore.json"));
    expect((await runCli(["verify", evidence], { cwd: repo })).code).toBe(0);
    // With it, each edited file is named.
    await writeFile(file(repo, "attestation.sigstore.json"), bundle);
    const run = await verify(repo, ...trust);
    expect(run.code).toBe(1);
    expect(run.stdout.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(
        /^submission_runs\/example_v1\/run_manifest\.json: is not attested: its SHA-256 is [0-9a-f]{64}, and attestation\.sigstore\.json signed [0-9a-f]{64} \(the file was changed after it was signed\)$/,
      ),
      expect.stringMatching(/^submission_runs\/example_v1\/trials\.jsonl: is not attested/),
    ]);
  });

  it("required and missing, signed by another repository or workflow, or checked against public-good alone: each fails, named", async () => {
    const repo = await referenceRepo("tunix-rt-attest-repo-");
    const missing = await verify(repo, ...trust);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(
      "submission_runs/example_v1/attestation.sigstore.json: missing; the evidence must be signed (the sweep's aggregate job signs it with actions/attest-build-provenance) by a workflow of octo/tuning",
    );
    await attestFolder(sigstore, repo, evidence, { ...signer, repository: "fork/tuning" });
    const other = await verify(repo, ...trust);
    expect(other.stdout).toContain(
      "attestation.sigstore.json: was signed by a workflow of https://github.com/fork/tuning; expected one of https://github.com/octo/tuning",
    );
    await attestFolder(sigstore, repo, evidence, { ...signer, workflow: ".github/workflows/other.yml" });
    const workflow = await verify(repo, ...trust);
    expect(workflow.stdout).toContain(
      "expected https://github.com/octo/tuning/.github/workflows/tunix-rt-sweep.yml at any ref",
    );
    await attestFolder(sigstore, repo, evidence, signer);
    const publicGood = await runCli(["verify", evidence, ...trust], { cwd: repo });
    expect(publicGood.code).toBe(1);
    expect(publicGood.stdout).toMatch(
      /attestation\.sigstore\.json: its signature does not verify against the trusted root \(Sigstore public-good: .*\); a private repository's attestations are signed by GitHub's own Sigstore instance: give its root \(gh attestation trusted-root\) as --sigstore-root/,
    );
  });

  it("a signed folder packaged into a zip verifies; the bundle travels in it", async () => {
    const repo = await signed();
    execFileSync("git", ["init", "-q"], { cwd: repo });
    const pack = await runCli(["package", "--run-dir", evidence], {
      cwd: repo,
      env: { SOURCE_DATE_EPOCH: "1764547200" },
    });
    expect(pack.code).toBe(0);
    const zip = pack.stdout.trim().split("\n").pop() as string;
    const listing = execFileSync("unzip", ["-Z1", path.resolve(repo, zip)], { encoding: "utf8" });
    expect(listing).toContain("submission_runs/example_v1/attestation.sigstore.json");
    const run = await runCli(["verify", zip, "--sigstore-root", root, ...trust], { cwd: repo });
    expect(run.stdout).toBe("");
    expect(run.code).toBe(0);
  });

  it("--sigstore-root takes the JSON lines gh attestation trusted-root prints, and refuses what is not a root", async () => {
    const repo = await signed();
    const lines = path.join(work, "roots.jsonl");
    const { publicGoodTrustedRoot } = await import("../src/core/evidence/attest/public-good-root.js");
    await writeFile(
      lines,
      `${JSON.stringify(publicGoodTrustedRoot)}\n${JSON.stringify(await sigstore.trustedRoot())}\n`,
    );
    const run = await runCli(["verify", evidence, "--sigstore-root", lines, ...trust], { cwd: repo });
    expect(run.code).toBe(0);
    const notRoot = path.join(work, "not-root.json");
    await writeFile(notRoot, '{"mediaType": "text/plain"}');
    const refused = await runCli(["verify", evidence, "--sigstore-root", notRoot], { cwd: repo });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `${notRoot}: mediaType: got "text/plain"; expected a Sigstore trusted root (application/vnd.dev.sigstore.trustedroot+json)`,
    );
  });
});

describe("the shipped public-good root", () => {
  it("is what the installed @sigstore/tuf's seed holds (scripts/write-sigstore-root.mjs --check)", async () => {
    const { runProcess } = await import("./helpers/cli.js");
    const check = await runProcess([process.execPath, "scripts/write-sigstore-root.mjs", "--check"], {
      cwd: path.resolve(import.meta.dirname, ".."),
      env: process.env,
    });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(
      /^src\/core\/evidence\/attest\/public-good-root\.ts matches @sigstore\/tuf \d/,
    );
  });
});
