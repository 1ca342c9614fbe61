/**
 * With a root given (a pull request's head checked out as data, evidence.yml), verify reads
 * only files inside it: a symbolic link in the evidence (or the evalset, promoted config or
 * sweep config it names) that leads out of it is refused, not followed, so a link to
 * /proc/self/environ or a runner file cannot put their text into annotations or the job
 * summary. Links inside it are followed. Without a root (your own files: the CLI), links are
 * followed as before; the package step has its own gate for them.
 */
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { verifyEvidenceFolder } from "../src/runtime/evidence-read.js";
import { tempDir } from "./helpers/cli.js";
import { evidenceTexts, repoTexts, writeEvidenceFolder } from "./helpers/evidence-fixture.js";

const secret = "TOP-SECRET-RUNNER-LINE";
let work: string;
let outside: string;
let counter = 0;

beforeAll(async () => {
  work = await tempDir("tunix-rt-links-");
  outside = path.join(work, "outside");
  await mkdir(outside, { recursive: true });
  // Outside every repository below: well-formed files carrying a secret line.
  const texts = evidenceTexts();
  await writeFile(path.join(outside, "eval_rows.jsonl"), `${texts["eval_rows.jsonl"]}{"id": "${secret}"}\n`);
  await writeFile(
    path.join(outside, "run_manifest.json"),
    texts["run_manifest.json"].replace("}", `, "x": "${secret}"}`),
  );
  const evalset = repoTexts().evalset?.text ?? "";
  await writeFile(
    path.join(outside, "eval_v1.jsonl"),
    `${evalset}{"id": "${secret}", "prompt": "p", "expected_answer": "a"}\n`,
  );
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A repository (outside git: the folder holding submission_runs/) with one evidence folder. */
async function repository(): Promise<{ root: string; dir: string }> {
  const root = path.join(work, `repo${counter++}`);
  const dir = await writeEvidenceFolder(path.join(root, "submission_runs"));
  return { root, dir };
}

async function replaceWithLink(file: string, target: string): Promise<void> {
  await rm(file, { force: true });
  await symlink(target, file);
}

const mentions = (
  outcome: { problems: { message: string; file: string }[]; notes: string[] },
  text: string,
) => JSON.stringify(outcome).includes(text);

describe("verify and symbolic links", () => {
  it("the fixture verifies as written (so each case below breaks one thing)", async () => {
    const { root, dir } = await repository();
    const outcome = await verifyEvidenceFolder(dir, { cwd: root });
    expect(outcome.problems).toEqual([]);
  });

  it("an evidence file linked out of the root is refused, unread", async () => {
    const { root, dir } = await repository();
    await replaceWithLink(path.join(dir, "eval_rows.jsonl"), path.join(outside, "eval_rows.jsonl"));
    await replaceWithLink(path.join(dir, "run_manifest.json"), path.join(outside, "run_manifest.json"));
    const outcome = await verifyEvidenceFolder(dir, { cwd: root, root });
    for (const name of ["eval_rows.jsonl", "run_manifest.json"]) {
      expect(outcome.problems).toContainEqual(
        expect.objectContaining({
          file: path.join(dir, name),
          message: expect.stringMatching(/is a symbolic link leading out of the repository .*; not read/),
        }),
      );
    }
    expect(mentions(outcome, secret)).toBe(false);
  });

  it("an evalset linked out of the root is not read, and the outcome says why", async () => {
    const { root, dir } = await repository();
    const evalset = path.join(root, repoTexts().evalset?.path as string);
    await replaceWithLink(evalset, path.join(outside, "eval_v1.jsonl"));
    const outcome = await verifyEvidenceFolder(dir, { cwd: root, root });
    expect(mentions(outcome, "leads out of the repository")).toBe(true);
    expect(mentions(outcome, secret)).toBe(false);
  });

  it("a link that stays inside the root is followed", async () => {
    const { root, dir } = await repository();
    const kept = path.join(root, "kept");
    await mkdir(kept, { recursive: true });
    await writeFile(path.join(kept, "eval_rows.jsonl"), evidenceTexts()["eval_rows.jsonl"]);
    await replaceWithLink(path.join(dir, "eval_rows.jsonl"), "../../kept/eval_rows.jsonl");
    const outcome = await verifyEvidenceFolder(dir, { cwd: root, root });
    expect(outcome.problems).toEqual([]);
  });

  it("without a root (your own files), links are followed wherever they lead", async () => {
    const { root, dir } = await repository();
    const elsewhere = path.join(outside, `rows${counter++}.jsonl`);
    await writeFile(elsewhere, evidenceTexts()["eval_rows.jsonl"]);
    await replaceWithLink(path.join(dir, "eval_rows.jsonl"), elsewhere);
    const outcome = await verifyEvidenceFolder(dir, { cwd: root });
    expect(outcome.problems).toEqual([]);
  });

  it("with a root given, an evidence folder that is a link out of it is an input error", async () => {
    const { root } = await repository();
    const elsewhere = await writeEvidenceFolder(path.join(outside, "store"), { runVersion: "rt_link_v1" });
    const linked = path.join(root, "submission_runs/rt_link_v1");
    await symlink(elsewhere, linked);
    await expect(verifyEvidenceFolder(linked, { cwd: root, root })).rejects.toThrow(InputError);
    await expect(verifyEvidenceFolder(linked, { cwd: root, root })).rejects.toThrow(
      /is a symbolic link leading out of the repository/,
    );
  });

  it("with a root given, repository files are read from it, not from the git top level of the folder", async () => {
    const { root, dir } = await repository();
    // The evalset at the root given is right; a cwd elsewhere holds none.
    const outcome = await verifyEvidenceFolder(dir, { cwd: root, root });
    expect(outcome.problems).toEqual([]);
    expect(outcome.notes).toEqual([]);
  });
});
