/**
 * verify-evidence on a pull request, as evidence.yml runs it: the committed bundle, in a
 * shallow checkout of the base commit (as actions/checkout leaves it), with the pull
 * request's head only at refs/pull/<n>/head of the remote (as a fork's is). The head is
 * fetched and read as data; its evidence is verified against the base's evalset and sweep
 * config. Each fixture is a real commit of a real git repository.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliBin, runProcess, tempDir } from "../helpers/cli.js";
import { unpackReference } from "../helpers/example-repo.js";
import { attestFolder, TestSigstore } from "../helpers/sigstore.js";
import { runBundle, type StepResult } from "./helpers.js";

const run = promisify(execFile);
const bundle = "dist/verify-evidence.js";

let work: string;
let author: string;
let checkout: string;
let base: string;
let next = 1;

const git = async (cwd: string, ...args: string[]) =>
  (await run("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd })).stdout.trim();

/** The reference evidence (submission_runs/example_v1 and its promoted config) written into `dir`. */
async function addEvidence(dir: string): Promise<void> {
  const scratch = await tempDir("tunix-rt-reference-");
  await unpackReference(scratch);
  await run("cp", ["-r", path.join(scratch, "submission_runs"), path.join(dir, "submission_runs")]);
  await mkdir(path.join(dir, "training/configs"), { recursive: true });
  await run("cp", [
    path.join(scratch, "training/configs/example_v1_best.yaml"),
    path.join(dir, "training/configs/"),
  ]);
  await rm(scratch, { recursive: true, force: true });
}

/** A pull request: a commit on the base, pushed only to refs/pull/<n>/head of the remote. */
async function pullRequest(edit: (dir: string) => Promise<void>): Promise<{ n: number; head: string }> {
  const n = next++;
  await git(author, "checkout", "-q", "-B", `pr-${n}`, base);
  await edit(author);
  await git(author, "add", "-A");
  await git(author, "commit", "-q", "--allow-empty", "-m", `pull request ${n}`);
  const head = await git(author, "rev-parse", "HEAD");
  await git(author, "push", "-q", path.join(work, "origin.git"), `HEAD:refs/pull/${n}/head`);
  await git(author, "checkout", "-q", "main");
  return { n, head };
}

/** The bundle on a pull request, in the base checkout. */
function verifyPullRequest(pr: { n: number; head: string }, baseSha = base): Promise<StepResult> {
  return runBundle(
    bundle,
    { "pull-request": String(pr.n), "base-sha": baseSha, "head-sha": pr.head, profile: "default" },
    { workspace: checkout },
  );
}

/** Edits a JSONL file line by line. */
async function editJsonl(file: string, edit: (row: Record<string, unknown>) => Record<string, unknown>) {
  const rows = (await readFile(file, "utf8")).split("\n").filter(Boolean);
  await writeFile(file, rows.map((l) => `${JSON.stringify(edit(JSON.parse(l)))}\n`).join(""));
}

/** A shallow clone of the origin's main branch at `dest`, as actions/checkout leaves one. */
const shallowClone = (dest: string) =>
  run("git", [
    "clone",
    "-q",
    "--depth",
    "1",
    "--branch",
    "main",
    `file://${path.join(work, "origin.git")}`,
    dest,
  ]);

beforeAll(async () => {
  work = await tempDir("tunix-rt-pull-request-");
  await run("git", ["init", "-q", "--bare", path.join(work, "origin.git")]);
  // The base: the example's evalset, sweep config and trainer; no evidence yet.
  author = path.join(work, "author");
  await mkdir(author);
  await unpackReference(author);
  await rm(path.join(author, "submission_runs"), { recursive: true });
  await rm(path.join(author, "training/configs"), { recursive: true });
  await git(author, "init", "-q", "-b", "main");
  await git(author, "add", "-A");
  await git(author, "commit", "-q", "-m", "the base: evalset and sweep config");
  base = await git(author, "rev-parse", "HEAD");
  await git(author, "push", "-q", path.join(work, "origin.git"), "main");
  // As actions/checkout leaves it: a shallow clone at the base commit.
  checkout = path.join(work, "checkout");
  await shallowClone(checkout);
}, 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("verify-evidence on a pull request (pull-request, base-sha, head-sha)", () => {
  it("a pull request with no change under submission_runs/ gets success: no evidence", async () => {
    const pr = await pullRequest((dir) => writeFile(path.join(dir, "README.md"), "notes\n"));
    const step = await verifyPullRequest(pr);
    expect(step.code, step.stdout + step.stderr).toBe(0);
    expect(step.outputs).toMatchObject({ verdict: "no-evidence", valid: "true", problems: "0" });
    expect(step.outputs.description).toBe("no evidence changes (1 path changed outside submission_runs/)");
    expect(step.summary).toContain("nothing to verify");
  });

  it("the evidence of a sweep, as its aggregate job opens it, verifies against the base", async () => {
    const pr = await pullRequest(addEvidence);
    const step = await verifyPullRequest(pr);
    expect(step.code, step.stdout + step.stderr).toBe(0);
    expect(step.outputs).toMatchObject({
      verdict: "valid",
      valid: "true",
      folders: "submission_runs/example_v1",
      description: "the evidence verifies: submission_runs/example_v1",
    });
    expect(step.errors).toEqual([]);
  });

  it("evidence made against the pull request's own evalset fails, naming the evalset, though it verifies on its own copy", async () => {
    // ex-001 is answered right: its expected answer and its prediction change together, so
    // every score stays what the files say.
    const pr = await pullRequest(async (dir) => {
      await addEvidence(dir);
      await editJsonl(path.join(dir, "training/evalsets/example_eval.jsonl"), (row) =>
        row.id === "ex-001" ? { ...row, expected_answer: "92" } : row,
      );
      await editJsonl(path.join(dir, "submission_runs/example_v1/eval_rows.jsonl"), (row) =>
        row.id === "ex-001" ? { ...row, expected_answer: "92", prediction: "<answer>92</answer>" } : row,
      );
    });
    // The forgery is consistent: the default rule, on the pull request's own tree, finds nothing.
    const own = await tempDir("tunix-rt-pr-tree-");
    await run("git", ["--work-tree", own, "checkout", pr.head, "--", "."], { cwd: author });
    const alone = await runProcess([process.execPath, cliBin, "verify", "submission_runs/example_v1"], {
      cwd: own,
    });
    expect(alone.code, alone.stdout + alone.stderr).toBe(0);

    const step = await verifyPullRequest(pr);
    expect(step.code).toBe(1);
    expect(step.outputs.verdict).toBe("invalid");
    const onEvalset = step.errors.filter((e) => e.properties.file === "training/evalsets/example_eval.jsonl");
    expect(onEvalset.map((e) => e.message)).toEqual([
      `differs from its copy in the base commit ${base.slice(0, 7)}: the evidence is verified against that copy, and a change to the evalset needs a pull request of its own, reviewed and merged before evidence made with it`,
    ]);
    expect(step.errors.map((e) => e.message).join("\n")).toContain(
      `expected_answer: got "92"; training/evalsets/example_eval.jsonl at ${base.slice(0, 7)} has "91" for "ex-001"`,
    );
    await rm(own, { recursive: true, force: true });
  });

  it("a change to the sweep config the evidence names fails, naming it", async () => {
    const pr = await pullRequest(async (dir) => {
      await addEvidence(dir);
      const file = path.join(dir, "training/example/sweep.yaml");
      await writeFile(file, (await readFile(file, "utf8")).replace("num_samples: 8", "num_samples: 9"));
    });
    const step = await verifyPullRequest(pr);
    expect(step.code).toBe(1);
    expect(step.errors.find((e) => e.properties.file === "training/example/sweep.yaml")?.message).toMatch(
      /^differs from its copy in the base commit \w{7}: .* a change to the sweep config needs a pull request of its own/,
    );
  });

  it("evidence naming an evalset the base does not have (renamed in the pull request) fails", async () => {
    const pr = await pullRequest(async (dir) => {
      await addEvidence(dir);
      await run("git", ["mv", "training/evalsets/example_eval.jsonl", "training/evalsets/renamed.jsonl"], {
        cwd: dir,
      });
      const summary = path.join(dir, "submission_runs/example_v1/eval_summary.json");
      await writeFile(
        summary,
        (await readFile(summary, "utf8")).replace(
          "training/evalsets/example_eval.jsonl",
          "training/evalsets/renamed.jsonl",
        ),
      );
    });
    const step = await verifyPullRequest(pr);
    expect(step.code).toBe(1);
    const problem = step.errors.find(
      (e) => e.properties.file === "submission_runs/example_v1/eval_summary.json",
    );
    expect(problem?.message).toMatch(
      /^eval_set: got "training\/evalsets\/renamed.jsonl"; it is not in the base commit \w{7}, and under the trusted rule the rows are re-graded against the evalset in the base commit/,
    );
    // Not a note that passes: the step fails.
    expect(step.outputs.valid).toBe("false");
  });

  it("rows whose predictions were removed, all marked correct, fail", async () => {
    const pr = await pullRequest(async (dir) => {
      await addEvidence(dir);
      await editJsonl(path.join(dir, "submission_runs/example_v1/eval_rows.jsonl"), (row) => {
        const { prediction: _, ...rest } = row;
        return { ...rest, metrics: { answer_correctness: 1 }, score: 100 };
      });
    });
    const step = await verifyPullRequest(pr);
    expect(step.code).toBe(1);
    expect(step.errors.map((e) => e.message)).toContain(
      "prediction: 120 rows of eval_rows.jsonl have no prediction text (first at line 1); their answer_correctness could not be re-graded against training/evalsets/example_eval.jsonl at " +
        `${base.slice(0, 7)}, and under the trusted rule every row is re-graded: each needs its prediction`,
    );
  });

  const strays: Array<[string, (dir: string) => Promise<void>, string, RegExp]> = [
    [
      "a dot-folder",
      async (dir) => {
        await mkdir(path.join(dir, "submission_runs/.cache"), { recursive: true });
        await writeFile(path.join(dir, "submission_runs/.cache/run_manifest.json"), "{}\n");
      },
      "submission_runs/.cache/run_manifest.json",
      /^is in a dot-folder whose name ".cache" is no run_version/,
    ],
    [
      "a loose file",
      async (dir) => {
        await mkdir(path.join(dir, "submission_runs"), { recursive: true });
        await writeFile(path.join(dir, "submission_runs/notes.txt"), "hello\n");
      },
      "submission_runs/notes.txt",
      /^is a loose file in submission_runs\/; it holds only evidence folders/,
    ],
    [
      "a symbolic link",
      async (dir) => {
        await addEvidence(dir);
        await symlink(
          "/etc/hostname",
          path.join(dir, "submission_runs/example_v1/kaggle_output_log.txt.bak"),
        );
      },
      "submission_runs/example_v1/kaggle_output_log.txt.bak",
      /^is a symbolic link; an evidence folder holds plain files only$/,
    ],
  ];
  for (const [what, edit, file, message] of strays) {
    it(`${what} under submission_runs/ fails, named`, async () => {
      const pr = await pullRequest(edit);
      const step = await verifyPullRequest(pr);
      expect(step.code, step.stdout).toBe(1);
      expect(step.outputs.verdict).toBe("invalid");
      expect(step.errors.find((e) => e.properties.file === file)?.message).toMatch(message);
    });
  }

  it("fetches with the token in git's environment: sent as the header, never in argv, the config or the log", async () => {
    const token = "ghs_fetchtoken0123456789abcdefghijklmnopqr";
    const seen: Array<string | undefined> = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const remote = await tempDir("tunix-rt-pull-remote-");
    await shallowClone(remote);
    await git(remote, "remote", "set-url", "origin", `${url}/octo/sweeps`);
    try {
      const step = await runBundle(
        bundle,
        { "pull-request": "99", "base-sha": base, "head-sha": "d".repeat(40), token },
        { workspace: remote, env: { GITHUB_SERVER_URL: url } },
      );
      expect(step.code).toBe(1);
      expect(step.errors.at(-1)?.message).toMatch(
        /^cannot fetch commit d{40} from origin: tried \+refs\/pull\/99\/head/,
      );
      const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
      expect(seen).toContain(`basic ${basic}`);
      expect(step.stdout + step.stderr).not.toContain(token);
      expect(step.stdout).toContain(`::add-mask::${basic}`);
      expect(await readFile(path.join(remote, ".git/config"), "utf8")).not.toContain(basic);
    } finally {
      server.close();
      await rm(remote, { recursive: true, force: true });
    }
  });

  it("refuses a workspace that is not the base commit", async () => {
    const pr = await pullRequest(addEvidence);
    const step = await verifyPullRequest(pr, "f".repeat(40));
    expect(step.code).toBe(1);
    expect(step.errors.at(-1)?.message).toBe(
      `the workspace holds ${base}, not the base commit ${"f".repeat(40)}: check it out first (actions/checkout with ref: \${{ github.event.pull_request.base.sha }})`,
    );
  });
});

describe("signed evidence on a pull request (require-attestation, as init writes evidence.yml)", () => {
  let sigstore: TestSigstore;
  let root: string;
  const signer = { repository: "octo/tuning", workflow: ".github/workflows/tunix-rt-sweep.yml" };
  const evidenceDir = "submission_runs/example_v1";

  beforeAll(async () => {
    sigstore = await TestSigstore.create(path.join(work, "sigstore"));
    root = await sigstore.writeTrustedRoot(path.join(work, "trusted_root.json"));
  });

  /** The bundle on a pull request of octo/tuning, requiring its sweep workflow's signature. */
  const verifySigned = (pr: { n: number; head: string }) =>
    runBundle(
      bundle,
      {
        "pull-request": String(pr.n),
        "base-sha": base,
        "head-sha": pr.head,
        "require-attestation": "true",
        "signer-workflow": signer.workflow,
        "sigstore-root": root,
      },
      { workspace: checkout, env: { GITHUB_REPOSITORY: "octo/tuning" } },
    );

  it("evidence its sweep signed verifies; unsigned, edited after signing or signed by a fork's workflow fails, naming why", async () => {
    const signed = await verifySigned(
      await pullRequest(async (dir) => {
        await addEvidence(dir);
        await attestFolder(sigstore, dir, evidenceDir, signer);
      }),
    );
    expect(signed.code, signed.stdout).toBe(0);
    expect(signed.outputs).toMatchObject({ verdict: "valid", valid: "true" });
    expect(signed.stdout).toContain(
      "the evidence is attested: signed by the workflow https://github.com/octo/tuning/",
    );

    const unsigned = await verifySigned(await pullRequest(addEvidence));
    expect(unsigned.outputs).toMatchObject({ verdict: "invalid", problems: "1" });
    expect(unsigned.errors.map((e) => e.message)).toEqual([
      expect.stringContaining("missing; the evidence must be signed"),
      "1 problem in the evidence of submission_runs/example_v1 (each is annotated and listed in the job summary)",
    ]);

    const edited = await verifySigned(
      await pullRequest(async (dir) => {
        await addEvidence(dir);
        await attestFolder(sigstore, dir, evidenceDir, signer);
        await writeFile(
          path.join(dir, evidenceDir, "kaggle_output_log.txt"),
          "a log rewritten after signing\n",
        );
      }),
    );
    expect(edited.outputs).toMatchObject({ verdict: "invalid", problems: "1" });
    expect(edited.errors[0]).toEqual({
      properties: expect.objectContaining({ file: `${evidenceDir}/kaggle_output_log.txt` }),
      message: expect.stringMatching(
        /^is not attested: its SHA-256 is [0-9a-f]{64}, and attestation\.sigstore\.json signed [0-9a-f]{64} \(the file was changed after it was signed\)$/,
      ),
    });

    const fork = await verifySigned(
      await pullRequest(async (dir) => {
        await addEvidence(dir);
        await attestFolder(sigstore, dir, evidenceDir, { ...signer, repository: "fork/tuning" });
      }),
    );
    expect(fork.outputs).toMatchObject({ verdict: "invalid" });
    expect(fork.stdout).toContain(
      "was signed by a workflow of https://github.com/fork/tuning; expected one of https://github.com/octo/tuning",
    );
  }, 60_000);
});
