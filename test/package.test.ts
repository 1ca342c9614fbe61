import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  entryNameProblem,
  findSecrets,
  planArchive,
  verifySubmission,
} from "../src/core/evidence/archive.js";
import { zipBytes } from "../src/runtime/archive-write.js";
import { packageDate } from "../src/runtime/package.js";
import { readZipFile } from "../src/runtime/zip-read.js";
import { runCli, scratchFolder } from "./helpers/cli.js";
import { type EvidenceFixture, type FolderOptions, writeEvidenceFolder } from "./helpers/evidence-fixture.js";

const unzip = ["/usr/bin/unzip", "/bin/unzip"].find((p) => existsSync(p));
const hasGit = (() => {
  try {
    execFileSync("git", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** 2025-12-27T00:00:00Z: the date every test zip carries. */
const epoch = { SOURCE_DATE_EPOCH: "1766793600" };
const zipName = "submission/tunix_rt_rt_test_v1_2025-12-27_nogit.zip";

const scratch = scratchFolder("tunix-rt-package-");

/**
 * A repository-like folder: evidence in submission_runs/rt_test_v1 and the files it names
 * (the fixture writes its promoted config and evalset; the sweep config is added here).
 */
async function repo(fixture: EvidenceFixture = {}, options: FolderOptions = {}): Promise<string> {
  const root = scratch.fresh("repo");
  await writeEvidenceFolder(path.join(root, "submission_runs"), fixture, options);
  await mkdir(path.join(root, "training"), { recursive: true });
  await writeFile(path.join(root, "training/sweep.yaml"), "name: Tuning Sweep\nrun_version: rt_test_v1\n");
  return root;
}

function pack(cwd: string, ...args: string[]) {
  return runCli(["package", "--run-dir", "submission_runs/rt_test_v1", ...args], { cwd, env: epoch });
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

describe("package", () => {
  it("writes submission/tunix_rt_<run_version>_<date>_<sha>.zip, byte-identical on a rerun", async () => {
    const cwd = await repo();
    const first = await pack(cwd);
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe(`${zipName}\n`);
    expect(first.code).toBe(0);
    const bytes1 = await readFile(path.join(cwd, zipName));
    const again = await pack(cwd);
    expect(again.stdout).toBe(`${zipName}\n`);
    const bytes2 = await readFile(path.join(cwd, zipName));
    expect(sha256(bytes2)).toBe(sha256(bytes1));
    // Nothing but the zip in the output folder (the temp file was renamed).
    expect(await readdir(path.join(cwd, "submission"))).toEqual([path.basename(zipName)]);
  });

  it("holds every evidence file, the configs, the evalset, a README and a MANIFEST of hashes", async () => {
    const cwd = await repo();
    expect((await pack(cwd)).code).toBe(0);
    const members = await readZipFile(path.join(cwd, zipName));
    expect(members.map((m) => m.name)).toEqual([
      "MANIFEST.json",
      "README_SUBMISSION.md",
      "submission_runs/rt_test_v1/best_params.json",
      "submission_runs/rt_test_v1/eval_rows.jsonl",
      "submission_runs/rt_test_v1/eval_summary.json",
      "submission_runs/rt_test_v1/grades.jsonl",
      "submission_runs/rt_test_v1/kaggle_output_log.txt",
      "submission_runs/rt_test_v1/run_manifest.json",
      "submission_runs/rt_test_v1/trials.jsonl",
      "training/configs/best.yaml",
      "training/evalsets/eval_v1.jsonl",
      "training/sweep.yaml",
    ]);
    for (const member of members.filter(
      (m) => m.name.startsWith("submission_runs/") || m.name.startsWith("training/"),
    )) {
      expect(member.data.equals(await readFile(path.join(cwd, member.name)))).toBe(true);
    }
    const readme = members.find((m) => m.name === "README_SUBMISSION.md")?.data.toString("utf8") ?? "";
    expect(readme).toContain("| primary_score | 0.75 (recomputable from the 4 rows of eval_rows.jsonl) |");
    expect(readme).toContain("| best trial | t0001 (sweep 3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d) |");
    expect(readme).toContain("npx tunix-rt verify tunix_rt_rt_test_v1_2025-12-27_nogit.zip");
  });

  it.skipIf(!unzip)("passes unzip -t, and MANIFEST.json's hashes match what unzip -p extracts", async () => {
    const cwd = await repo();
    expect((await pack(cwd)).code).toBe(0);
    const zip = path.join(cwd, zipName);
    const tested = execFileSync(unzip as string, ["-t", zip], { encoding: "utf8" });
    expect(tested).toMatch(/No errors detected/);
    const manifest = JSON.parse(
      execFileSync(unzip as string, ["-p", zip, "MANIFEST.json"], { encoding: "utf8" }),
    ) as {
      files: { path: string; size: number; sha256: string }[];
    };
    expect(manifest.files).toHaveLength(11);
    for (const file of manifest.files) {
      const data = execFileSync(unzip as string, ["-p", zip, file.path]);
      expect({ path: file.path, size: data.length, sha256: sha256(data) }).toEqual(file);
    }
    // Every entry dated 1980-01-01 00:00 with mode 0644: nothing depends on mtimes or the clock.
    const listing = execFileSync(unzip as string, ["-Z", "-T", zip], { encoding: "utf8" });
    const entries = listing.split("\n").filter((l) => /^[-l]/.test(l));
    expect(entries).toHaveLength(12);
    for (const line of entries) expect(line).toMatch(/^-rw-r--r-- .* 19800101\.000000 /);
  });

  it("verifies its own zip: tunix-rt verify ZIP exits 0", async () => {
    const cwd = await repo();
    expect((await pack(cwd)).code).toBe(0);
    const result = await runCli(["verify", zipName], { cwd });
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`verify: ${zipName}: valid\n`);
    expect(result.code).toBe(0);
  });

  it.skipIf(!hasGit)("names the zip after the short commit sha and records the full sha", async () => {
    const cwd = await repo();
    const git = (...args: string[]) =>
      execFileSync(
        "git",
        ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args],
        {
          cwd,
          encoding: "utf8",
        },
      ).trim();
    git("init", "-q");
    git("add", ".");
    git("commit", "-q", "-m", "evidence");
    const full = git("rev-parse", "HEAD");
    const short = git("rev-parse", "--short", "HEAD");
    const result = await pack(cwd);
    expect(result.stdout).toBe(`submission/tunix_rt_rt_test_v1_2025-12-27_${short}.zip\n`);
    const members = await readZipFile(path.join(cwd, result.stdout.trim()));
    const manifest = JSON.parse(
      members.find((m) => m.name === "MANIFEST.json")?.data.toString("utf8") ?? "{}",
    );
    expect(manifest.commit).toBe(full);
  });

  it("writes where --out says", async () => {
    const cwd = await repo();
    const result = await pack(cwd, "--out", "dist/assets");
    expect(result.stdout).toBe("dist/assets/tunix_rt_rt_test_v1_2025-12-27_nogit.zip\n");
    expect(existsSync(path.join(cwd, "dist/assets/tunix_rt_rt_test_v1_2025-12-27_nogit.zip"))).toBe(true);
  });
});

describe("package gates (exit 2, nothing written)", () => {
  it("refuses a zip over --max-size, naming the size and the largest members", async () => {
    const cwd = await repo({ log: `${"step loss 1.0\n".repeat(20)}` });
    const result = await pack(cwd, "--max-size", "1000");
    expect(result.stderr).toMatch(
      /^tunix-rt package: tunix_rt_rt_test_v1_2025-12-27_nogit\.zip: the zip would be \d+ bytes, over the size limit of 1000 \(--max-size\); largest members, uncompressed: MANIFEST\.json \(\d+ bytes\), README_SUBMISSION\.md \(\d+ bytes\), submission_runs\/rt_test_v1\/eval_rows\.jsonl \(\d+ bytes\)\n$/,
    );
    expect(result.code).toBe(2);
    expect(existsSync(path.join(cwd, "submission"))).toBe(false);
  });

  it("refuses a symlink in the run dir whose target leaves the repository", async () => {
    const cwd = await repo({}, { omit: ["kaggle_output_log.txt"] });
    const outside = `${scratch.fresh("outside")}.txt`;
    await writeFile(outside, "a secret-ish file outside the repository\n");
    await symlink(outside, path.join(cwd, "submission_runs/rt_test_v1/kaggle_output_log.txt"));
    const result = await pack(cwd);
    expect(result.stderr).toBe(
      `tunix-rt package: submission_runs/rt_test_v1/kaggle_output_log.txt: is a symbolic link (or lies under one) to ${outside}, outside the repository; refusing to package it\n`,
    );
    expect(result.code).toBe(2);
    expect(existsSync(path.join(cwd, "submission"))).toBe(false);
  });

  it("refuses a symlinked folder inside the run dir that leaves the repository", async () => {
    const cwd = await repo();
    const outside = scratch.fresh("outside-dir");
    await mkdir(outside);
    await writeFile(path.join(outside, "notes.txt"), "x\n");
    await symlink(outside, path.join(cwd, "submission_runs/rt_test_v1/extra"));
    const result = await pack(cwd);
    expect(result.stderr).toContain(
      "submission_runs/rt_test_v1/extra: is a symbolic link (or lies under one) to",
    );
    expect(result.code).toBe(2);
  });

  it("follows a symlink that stays in the repository and stores it as a plain file", async () => {
    const cwd = await repo({}, { omit: ["kaggle_output_log.txt"] });
    await mkdir(path.join(cwd, "logs"));
    await writeFile(path.join(cwd, "logs/best.log"), "trial t0001: done\n");
    await symlink("../../logs/best.log", path.join(cwd, "submission_runs/rt_test_v1/kaggle_output_log.txt"));
    const result = await pack(cwd);
    expect(result.code).toBe(0);
    const members = await readZipFile(path.join(cwd, zipName));
    const log = members.find((m) => m.name === "submission_runs/rt_test_v1/kaggle_output_log.txt");
    expect(log?.kind).toBe("file");
    expect(log?.data.toString("utf8")).toBe("trial t0001: done\n");
  });

  it("refuses text that looks like a credential, naming the file and line", async () => {
    const token = `ghp_${"A1b2C3d4E5".repeat(4)}`;
    const cwd = await repo({ log: `step 1\nGITHUB_TOKEN=${token}\n` });
    const result = await pack(cwd);
    expect(result.stderr).toBe(
      "tunix-rt package: submission_runs/rt_test_v1/kaggle_output_log.txt:2: looks like a GitHub token (ghp_A1b2...); refusing to package a secret (remove it, and revoke it if it was ever pushed)\n",
    );
    expect(result.code).toBe(2);
  });

  it("refuses a promoted config that run_manifest.json names but the repository lacks", async () => {
    const cwd = await repo(
      { manifest: { config_path: "training/configs/gone.yaml" } },
      { omitRepo: ["promotedConfig"] },
    );
    // Verify finds it first (the evidence names a file that is not there: exit 1) ...
    const verified = await pack(cwd);
    expect(verified.stderr).toBe(
      `submission_runs/rt_test_v1/run_manifest.json:5: config_path: got "training/configs/gone.yaml"; the promoted config is not in the repository (${cwd})\n` +
        "tunix-rt package: submission_runs/rt_test_v1: the evidence is invalid (1 problem); fix it, or pass --no-verify\n",
    );
    expect(verified.code).toBe(1);
    // ... and without verify, gathering the members still refuses it (exit 2).
    const result = await pack(cwd, "--no-verify");
    expect(result.stderr).toBe(
      "tunix-rt package: training/configs/gone.yaml: cannot read the promoted config (run_manifest.json config_path): no such file or directory\n",
    );
    expect(result.code).toBe(2);
  });

  it("refuses a config path outside the repository", async () => {
    const cwd = await repo();
    const result = await pack(cwd, "--config", "../elsewhere.yaml");
    expect(result.stderr).toBe(
      "tunix-rt package: ../elsewhere.yaml: is outside the repository; the sweep config that ran must be a repository path\n",
    );
    expect(result.code).toBe(2);
  });

  it("rejects a bad --max-size, a missing --run-dir and a bad SOURCE_DATE_EPOCH", async () => {
    const cwd = await repo();
    const size = await pack(cwd, "--max-size", "lots");
    expect(size.stderr).toMatch(/--max-size: got "lots"; expected a whole number >= 1/);
    expect(size.code).toBe(2);
    const none = await runCli(["package"], { cwd });
    expect(none.stderr).toMatch(/package: --run-dir is required/);
    expect(none.code).toBe(2);
    const date = await runCli(["package", "--run-dir", "submission_runs/rt_test_v1"], {
      cwd,
      env: { SOURCE_DATE_EPOCH: "soon" },
    });
    expect(date.stderr).toBe(
      'tunix-rt package: SOURCE_DATE_EPOCH: got "soon"; expected whole seconds since 1970-01-01 (UTC)\n',
    );
    expect(date.code).toBe(2);
  });
});

describe("package and invalid evidence", () => {
  it("exits 1 with the problems on stderr, and packages anyway with --no-verify", async () => {
    const cwd = await repo({ summary: { primary_score: 0.7 } });
    const refused = await pack(cwd);
    expect(refused.stderr).toBe(
      "submission_runs/rt_test_v1/eval_summary.json:7: primary_score: got 0.7; expected 0.75, the primary_score recomputed from eval_rows.jsonl (4 of 4 rows counted)\n" +
        "tunix-rt package: submission_runs/rt_test_v1: the evidence is invalid (1 problem); fix it, or pass --no-verify\n",
    );
    expect(refused.code).toBe(1);
    expect(existsSync(path.join(cwd, "submission"))).toBe(false);
    const forced = await pack(cwd, "--no-verify");
    expect(forced.stdout).toBe(`${zipName}\n`);
    expect(forced.code).toBe(0);
    // The zip is faithful to the folder, so verifying it finds the same problem.
    const verified = await runCli(["verify", zipName], { cwd });
    expect(verified.stdout).toBe(
      `${zipName}/submission_runs/rt_test_v1/eval_summary.json:7: primary_score: got 0.7; expected 0.75, the primary_score recomputed from eval_rows.jsonl (4 of 4 rows counted)\n`,
    );
    expect(verified.code).toBe(1);
  });
});

describe("verify ZIP against its MANIFEST.json", () => {
  it("finds a member changed after packaging, an unlisted member and a listed one that is gone", async () => {
    const cwd = await repo();
    expect((await pack(cwd)).code).toBe(0);
    const members = await readZipFile(path.join(cwd, zipName));
    const plan = planArchive({
      runVersion: "rt_test_v1",
      date: "2025-12-27",
      shortSha: "nogit",
      commit: null,
      tool: "test",
      runDir: "submission_runs/rt_test_v1",
      files: [],
    });
    const manifest = members.find((m) => m.name === "MANIFEST.json");
    const tampered = members
      .filter((m) => m.name !== "training/sweep.yaml")
      .map((m) =>
        m.name === "training/configs/best.yaml" ? { ...m, data: Buffer.from("learning_rate: 1.0\n") } : m,
      );
    tampered.push({ name: "extra.txt", kind: "file", data: Buffer.from("x") });
    const zip = await zipBytes({
      ...plan,
      members: tampered.map((m) => ({
        name: m.name,
        data: m.data,
        size: m.data.length,
        sha256: sha256(m.data),
      })),
    });
    await writeFile(path.join(cwd, "tampered.zip"), zip);
    const result = await runCli(["verify", "tampered.zip"], { cwd });
    const lines = result.stdout.split("\n").filter(Boolean);
    const listedLine =
      (manifest?.data
        .toString("utf8")
        .split("\n")
        .findIndex((l) => l.includes('"path": "training/sweep.yaml"')) ?? -2) + 1;
    const configSize = (await readFile(path.join(cwd, "training/configs/best.yaml"))).length;
    expect(lines).toEqual([
      `tampered.zip/training/configs/best.yaml: is 19 bytes; MANIFEST.json lists ${configSize} (the member was changed after packaging)`,
      `tampered.zip/MANIFEST.json:${listedLine}: files.10.path: got "training/sweep.yaml"; no such member in the zip`,
      "tampered.zip/extra.txt: is not listed in MANIFEST.json",
      // The changed member is also no longer this evidence's promoted config.
      'tampered.zip/training/configs/best.yaml: run_version: missing; this evidence is of run_version "rt_test_v1"',
      "tampered.zip/training/configs/best.yaml: provenance: missing; expected the sweep and trial the config was promoted from",
      'tampered.zip/training/configs/best.yaml: params: missing; best_params.json has {"learning_rate":0.00005,"per_device_batch_size":4}',
    ]);
    expect(result.code).toBe(1);
  });

  it("reports a zip without MANIFEST.json, and still checks the evidence in it", () => {
    const problems = verifySubmission([
      { name: "submission_runs/x_v1/run_manifest.json", kind: "file", data: Buffer.from("{}") },
      { name: "../evil", kind: "file", data: Buffer.from("") },
      { name: "link", kind: "symlink", data: Buffer.from("/etc/passwd") },
    ]);
    expect(problems[0]).toEqual({
      file: "../evil",
      path: "",
      message: "entry name contains '..'; entries must stay inside the zip",
    });
    expect(problems[1]).toEqual({
      file: "link",
      path: "",
      message: "is a symbolic link; a submission holds plain files",
    });
    expect(problems[2]).toEqual({
      file: "MANIFEST.json",
      path: "",
      message: "missing; a submission zip lists its members with their SHA-256 there",
    });
    expect(
      problems.some(
        (p) => p.file === "submission_runs/x_v1/eval_rows.jsonl" && p.message.startsWith("missing;"),
      ),
    ).toBe(true);
  });
});

describe("the archive plan", () => {
  const base = {
    runVersion: "rt_v1",
    date: "2025-12-27",
    shortSha: "abc1234",
    commit: null,
    tool: "test",
    runDir: "submission_runs/rt_v1",
  };

  it("rejects absolute, '..', backslash and duplicate entry names", () => {
    expect(entryNameProblem("/etc/passwd")).toMatch(/absolute/);
    expect(entryNameProblem("C:/x")).toMatch(/absolute/);
    expect(entryNameProblem("a/../../b")).toMatch(/'\.\.'/);
    expect(entryNameProblem("a\\b")).toMatch(/backslash/);
    expect(entryNameProblem("a//b")).toMatch(/empty/);
    expect(entryNameProblem("training/configs/best.yaml")).toBeUndefined();
    expect(() => planArchive({ ...base, files: [{ name: "../x", data: Buffer.from("") }] })).toThrow(
      /zip entry "\.\.\/x" contains '\.\.'/,
    );
    const twice = [
      { name: "a", data: Buffer.from("1") },
      { name: "a", data: Buffer.from("2") },
    ];
    expect(() => planArchive({ ...base, files: twice })).toThrow(/appears twice/);
    expect(() => planArchive({ ...base, runVersion: "../up", files: [] })).toThrow(/run_version/);
  });

  it("sorts members by name and is the same plan for the same input in any order", () => {
    const files = [
      { name: "z.txt", data: Buffer.from("z") },
      { name: "a/b.txt", data: Buffer.from("b") },
    ];
    const plan = planArchive({ ...base, files });
    expect(plan.zipName).toBe("tunix_rt_rt_v1_2025-12-27_abc1234.zip");
    expect(plan.members.map((m) => m.name)).toEqual([
      "MANIFEST.json",
      "README_SUBMISSION.md",
      "a/b.txt",
      "z.txt",
    ]);
    const reversed = planArchive({ ...base, files: [...files].reverse() });
    expect(reversed.members.map((m) => m.sha256)).toEqual(plan.members.map((m) => m.sha256));
  });

  it("finds credentials and leaves ordinary text alone", () => {
    expect(findSecrets("-----BEGIN OPENSSH PRIVATE KEY-----\n")).toEqual([
      { line: 1, kind: "private key", preview: "-----BEG..." },
    ]);
    expect(findSecrets(`x\nHF_TOKEN=hf_${"a".repeat(34)}`)[0]?.kind).toBe("Hugging Face token");
    expect(findSecrets('{"username": "me", "key": "0123456789abcdef0123456789abcdef"}')[0]?.kind).toBe(
      "Kaggle API key",
    );
    expect(findSecrets("loss 0.25, lr 5e-5, sha 40a90d6, ghp_short")).toEqual([]);
  });

  it("takes the date from SOURCE_DATE_EPOCH, else today (UTC)", () => {
    expect(packageDate({ SOURCE_DATE_EPOCH: "1766793600" })).toBe("2025-12-27");
    expect(packageDate({}, new Date("2026-03-04T23:59:59Z"))).toBe("2026-03-04");
    expect(() => packageDate({ SOURCE_DATE_EPOCH: "-1" })).toThrow(/SOURCE_DATE_EPOCH/);
  });
});
