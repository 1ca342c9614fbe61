import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { evidenceBranch, gitBlobSha, normalizeEvidenceContent } from "../../src/core/evidence/changes.js";
import { GitHubApiError } from "../../src/github/errors.js";
import { type PublishEvidenceOptions, publishEvidence } from "../../src/github/evidence-pr.js";
import { evidenceFiles, type Harness, startHarness } from "./helpers.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.standIn.close();
});

const branch = evidenceBranch("m34_v1");

function options(overrides: Partial<PublishEvidenceOptions> = {}): PublishEvidenceOptions {
  return {
    owner: "octo",
    repo: "sweeps",
    base: "main",
    runVersion: "m34_v1",
    files: evidenceFiles({ runVersion: "m34_v1" }),
    title: "tunix-rt evidence m34_v1: t0001 (0.7500)",
    body: "## Leaderboard\n\n| rank | trial |\n|---|---|\n| 1 | t0001 |\n\n[run](https://github.com/octo/sweeps/actions/runs/1)\n",
    commitMessage: "tunix-rt: evidence for m34_v1",
    ...overrides,
  };
}

describe("publishEvidence", () => {
  it("first run: commits the files through the Git database API and opens the pull request", async () => {
    const result = await publishEvidence(h.octokit, options());
    const repo = h.standIn.repo();
    expect(result).toMatchObject({ operation: "created", number: 1, branch, committed: true });
    expect(result.url).toBe("https://github.com/octo/sweeps/pull/1");
    expect(result.headSha).toBe(repo.branchHead(branch));
    // One commit on top of main, whose parent is main's head; the files are all there.
    const commit = repo.commit(result.headSha);
    expect(commit.parents).toEqual([repo.branchHead("main")]);
    expect(commit.verified).toBe(true);
    expect(commit.message).toBe("tunix-rt: evidence for m34_v1");
    for (const f of options().files) expect(repo.readFile(branch, f.path)).toBe(f.content);
    expect(repo.readFile(branch, "README.md")).toBe("# sweeps\n");
    const pull = repo.pulls[0];
    expect(pull).toMatchObject({ headRef: branch, baseRef: "main", state: "open", title: options().title });
    expect(pull?.body).toContain("| 1 | t0001 |");
    h.standIn.assertClean();
  });

  it("second run with new evidence: a new commit on the branch, the same pull request updated", async () => {
    const first = await publishEvidence(h.octokit, options());
    const better = evidenceFiles({
      runVersion: "m34_v1",
      trials: [{ trial_id: "t0001", params: { learning_rate: 5e-5 }, status: "completed", primary_score: 1 }],
      rows: [
        {
          id: "q1",
          prediction: "yes",
          expected_answer: "yes",
          metrics: { answer_correctness: 1 },
          score: 100,
        },
      ],
    });
    const second = await publishEvidence(h.octokit, options({ files: better, body: "new leaderboard" }));
    const repo = h.standIn.repo();
    expect(second).toMatchObject({ operation: "updated", number: first.number, committed: true });
    expect(second.headSha).not.toBe(first.headSha);
    expect(repo.commit(second.headSha).parents).toEqual([first.headSha]);
    expect(repo.pulls).toHaveLength(1);
    expect(repo.pulls[0]?.body).toBe("new leaderboard");
    expect(repo.readFile(branch, "submission_runs/m34_v1/trials.jsonl")).toContain('"primary_score":1');
    h.standIn.assertClean();
  });

  it("same evidence again, other timestamps and run URL: no commit, operation unchanged", async () => {
    const first = await publishEvidence(h.octokit, options());
    const commitsBefore = h.standIn.count("git/create-commit");
    const rerun = evidenceFiles(
      { runVersion: "m34_v1" },
      { timestamp: "2026-01-02T03:04:05Z", runUrl: "https://github.com/octo/sweeps/actions/runs/2" },
    );
    expect(rerun.find((f) => f.path.endsWith("run_manifest.json"))?.content).toContain("runs/2");
    const second = await publishEvidence(h.octokit, options({ files: rerun, body: "refreshed body" }));
    expect(second).toMatchObject({
      operation: "unchanged",
      number: first.number,
      headSha: first.headSha,
      committed: false,
    });
    expect(h.standIn.count("git/create-commit")).toBe(commitsBefore);
    expect(h.standIn.count("git/create-blob")).toBe(8);
    expect(h.standIn.repo().pulls[0]?.body).toBe("refreshed body");
    h.standIn.assertClean();
  });

  it("identical bytes: reads no blob and makes no request that writes", async () => {
    await publishEvidence(h.octokit, options());
    const before = h.standIn.requests.length;
    const again = await publishEvidence(h.octokit, options());
    expect(again.operation).toBe("unchanged");
    const later = h.standIn.requests.slice(before).map((r) => r.operationId);
    expect(later).not.toContain("git/get-blob");
    expect(later).not.toContain("pulls/update");
    expect(later.filter((op) => op?.startsWith("git/create"))).toEqual([]);
    h.standIn.assertClean();
  });

  it("a change next to a timestamp change is a change: a commit with every differing file", async () => {
    await publishEvidence(h.octokit, options());
    const files = evidenceFiles(
      { runVersion: "m34_v1", log: "another log\n" },
      { timestamp: "2026-01-01T00:00:00Z" },
    );
    const result = await publishEvidence(h.octokit, options({ files }));
    expect(result).toMatchObject({ operation: "updated", committed: true });
    const repo = h.standIn.repo();
    expect(repo.readFile(branch, "submission_runs/m34_v1/kaggle_output_log.txt")).toBe("another log\n");
    expect(repo.readFile(branch, "submission_runs/m34_v1/run_manifest.json")).toContain(
      "2026-01-01T00:00:00Z",
    );
    h.standIn.assertClean();
  });

  it("keeps a person's commit on the branch: the next commit stacks on it (fast-forward)", async () => {
    const first = await publishEvidence(h.octokit, options());
    const repo = h.standIn.repo();
    const human = repo.commitFiles(branch, { "NOTES.md": "reviewed\n" }, "review notes");
    const files = evidenceFiles({ runVersion: "m34_v1", log: "v2\n" });
    const second = await publishEvidence(h.octokit, options({ files }));
    expect(repo.commit(second.headSha).parents).toEqual([human]);
    expect(repo.readFile(branch, "NOTES.md")).toBe("reviewed\n");
    expect(second.number).toBe(first.number);
    h.standIn.assertClean();
  });

  it("a push that lands between reading the head and moving the ref: redone once on the new head", async () => {
    await publishEvidence(h.octokit, options());
    const repo = h.standIn.repo();
    let pushed = "";
    h.standIn.inject("git/update-ref", {
      before: () => {
        pushed = repo.commitFiles(branch, { "OTHER.md": "x\n" }, "concurrent push");
      },
    });
    const result = await publishEvidence(
      h.octokit,
      options({ files: evidenceFiles({ runVersion: "m34_v1", log: "v3\n" }) }),
    );
    expect(result.committed).toBe(true);
    expect(repo.commit(result.headSha).parents).toEqual([pushed]);
    expect(h.standIn.count("git/update-ref")).toBe(2);
    h.standIn.assertClean();
  });

  it("looks up the default branch when no base is given", async () => {
    const result = await publishEvidence(h.octokit, { ...options(), base: undefined });
    expect(result.operation).toBe("created");
    expect(h.standIn.count("repos/get")).toBe(1);
    expect(h.standIn.repo().pulls[0]?.baseRef).toBe("main");
    h.standIn.assertClean();
  });

  it("422 'already exists' on creation (another run opened it meanwhile): finds and updates that pull request", async () => {
    const repo = h.standIn.repo();
    h.standIn.inject("pulls/create", {
      before: () => {
        repo.openPull(branch, "opened by a concurrent run", "old body");
      },
    });
    const result = await publishEvidence(h.octokit, options());
    expect(result).toMatchObject({ operation: "updated", number: 1 });
    expect(repo.pulls).toHaveLength(1);
    expect(repo.pulls[0]).toMatchObject({ title: options().title, body: options().body });
    expect(h.standIn.requests.find((r) => r.operationId === "pulls/create")?.status).toBe(422);
    h.standIn.assertClean();
  });

  it("after the pull request was merged, the same evidence opens nothing: unchanged, pointing at the merged one", async () => {
    const first = await publishEvidence(h.octokit, options());
    h.standIn.repo().mergePull(first.number as number);
    const again = await publishEvidence(h.octokit, options());
    expect(again).toMatchObject({ operation: "unchanged", number: first.number, committed: false });
    expect(h.standIn.repo().pulls).toHaveLength(1);
    h.standIn.assertClean();
  });

  it("branch deleted after merge and the base already holds the evidence: no commit, no branch", async () => {
    const first = await publishEvidence(h.octokit, options());
    const repo = h.standIn.repo();
    repo.mergePull(first.number as number);
    repo.refs.delete(`refs/heads/${branch}`);
    const again = await publishEvidence(h.octokit, options());
    expect(again).toMatchObject({ operation: "unchanged", number: first.number, committed: false });
    expect(again.headSha).toBe(repo.branchHead("main"));
    expect(repo.branchHead(branch)).toBeUndefined();
    h.standIn.assertClean();
  });

  it("after a merge, new evidence opens a new pull request", async () => {
    const first = await publishEvidence(h.octokit, options());
    h.standIn.repo().mergePull(first.number as number);
    const next = await publishEvidence(
      h.octokit,
      options({ files: evidenceFiles({ runVersion: "m34_v1", log: "v2\n" }) }),
    );
    expect(next).toMatchObject({ operation: "created", number: 2, committed: true });
    h.standIn.assertClean();
  });

  it("403 on creating the pull request names the permission and the repository setting", async () => {
    h.standIn.inject("pulls/create", {
      status: 403,
      message: "GitHub Actions is not permitted to create or approve pull requests.",
    });
    const error = await publishEvidence(h.octokit, options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    const message = (error as Error).message;
    expect(message).toContain("creating the pull request in octo/sweeps failed: GitHub answered 403");
    expect(message).toContain("GitHub Actions is not permitted to create or approve pull requests.");
    expect(message).toContain('"pull-requests: write"');
    expect(message).toContain("Allow GitHub Actions to create and approve pull requests");
    expect(message).not.toContain("\n");
    h.standIn.assertClean();
  });

  it("403 on writing the commit names contents: write", async () => {
    h.standIn.inject("git/create-blob", { status: 403 });
    const error = await publishEvidence(h.octokit, options()).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /writing the evidence commit to tunix-rt\/evidence\/m34_v1 in octo\/sweeps failed: GitHub answered 403 \(Resource not accessible by integration\); the token needs "contents: write"/,
    );
    expect(h.standIn.repo().pulls).toHaveLength(0);
    h.standIn.assertClean();
  });

  it("5xx answers are retried, then the run succeeds", async () => {
    h.standIn.inject("git/create-tree", { status: 502, times: 2 });
    h.standIn.inject("pulls/create", { status: 500 });
    const result = await publishEvidence(h.octokit, options());
    expect(result.operation).toBe("created");
    expect(
      h.standIn.requests.filter((r) => r.operationId === "git/create-tree").map((r) => r.status),
    ).toEqual([502, 502, 201]);
    expect(h.standIn.requests.filter((r) => r.operationId === "pulls/create").map((r) => r.status)).toEqual([
      500, 201,
    ]);
    h.standIn.assertClean();
  });

  it("a 5xx that persists fails with a clear message", async () => {
    h.standIn.inject("git/create-commit", { status: 503, times: 10 });
    const error = await publishEvidence(h.octokit, options()).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/GitHub answered 503 .*try again later/);
    expect(h.standIn.count("git/create-commit")).toBe(4);
    h.standIn.assertClean();
  });

  it("a missing base branch is an error naming it", async () => {
    const error = await publishEvidence(h.octokit, options({ base: "trunk" })).catch((e: unknown) => e);
    expect((error as Error).message).toContain('the base branch "trunk" does not exist');
    h.standIn.assertClean();
  });

  it("rejects a run version that cannot name a branch, and paths that leave the repository", async () => {
    await expect(publishEvidence(h.octokit, options({ runVersion: "a..b" }))).rejects.toThrow(/runVersion/);
    await expect(
      publishEvidence(h.octokit, options({ files: [{ path: "../x.json", content: "{}" }] })),
    ).rejects.toThrow(/relative path/);
    expect(h.standIn.requests).toHaveLength(0);
  });

  it("redacts token shapes from the title and body", async () => {
    const leaked = "hf_abcdefghijklmnopqrstuvwxyz0123456789";
    await publishEvidence(h.octokit, options({ body: `log: ${leaked}`, title: `run ${leaked}` }));
    const pull = h.standIn.repo().pulls[0];
    expect(pull?.body).toBe("log: ***");
    expect(pull?.title).toBe("run ***");
    h.standIn.assertClean();
  });
});

describe("normalizeEvidenceContent", () => {
  it("drops volatile keys at any depth in JSON, JSONL and YAML; keeps logs as they are", () => {
    const a = normalizeEvidenceContent(
      "x/run_manifest.json",
      '{"a":1,"timestamp":"t1","trials":{"started_at":"s"}}',
    );
    const b = normalizeEvidenceContent(
      "x/run_manifest.json",
      '{"a":1,"timestamp":"t2","trials":{"started_at":"z"}}',
    );
    expect(a).toBe(b);
    expect(normalizeEvidenceContent("t.jsonl", '{"id":1,"duration_s":3}\n')).toBe(
      normalizeEvidenceContent("t.jsonl", '{"id":1,"duration_s":4}\n\n'),
    );
    expect(normalizeEvidenceContent("best.yaml", "# c\np: 1\nprovenance:\n  date: x\n")).toBe(
      normalizeEvidenceContent("best.yaml", "p: 1\nprovenance:\n  date: y\n"),
    );
    expect(normalizeEvidenceContent("kaggle_output_log.txt", "timestamp: 1")).not.toBe(
      normalizeEvidenceContent("kaggle_output_log.txt", "timestamp: 2"),
    );
    expect(normalizeEvidenceContent("a.json", '{"a":1}')).not.toBe(
      normalizeEvidenceContent("a.json", '{"a":2}'),
    );
  });

  it("gitBlobSha is git's blob id", () => {
    // `printf 'hello\n' | git hash-object --stdin`
    expect(gitBlobSha(Buffer.from("hello\n"))).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
  });
});
