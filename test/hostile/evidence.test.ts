/**
 * The findings of the attack on the pull-request check (issue 19), each a test that failed
 * before its fix: names from evidence becoming paths, strings reaching a terminal or a job
 * log raw, work that grew with the input's shape (crashes and hangs), and edits verify took
 * without a word. Evidence is the reference run's, edited as a fork's pull request could.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rm, stat, symlink, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ZipArchive } from "archiver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { searchSpaceOf } from "../../src/core/config/space.js";
import { recommend } from "../../src/core/search/recommend.js";
import type { TrialRecord } from "../../src/core/types.js";
import { runBundle } from "../actions/helpers.js";
import { tempDir } from "../helpers/cli.js";
import { attestFolder, TestSigstore } from "../helpers/sigstore.js";
import { editJson, editJsonl, evidence, file, linesOf, referenceRepo, runCliWithin } from "./helpers.js";

let work: string;
beforeAll(async () => {
  work = await tempDir("tunix-rt-hostile-work-");
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("names from evidence never become paths unchecked", () => {
  it("report refuses a run_version that would leave runs/, and writes nothing outside", async () => {
    // The repository lies three folders down, so ../../../../victim from runs/ is beside them.
    const repo = path.join(work, "a/b/c/repo");
    await mkdir(repo, { recursive: true });
    const source = await referenceRepo();
    execFileSync("cp", ["-r", `${source}/.`, repo]);
    const victim = path.join(work, "a/victim");
    await mkdir(path.join(victim, "charts"), { recursive: true });
    await writeFile(path.join(victim, "charts/keep.svg"), "<svg/>");
    await editJson(file(repo, "run_manifest.json"), (m) => {
      m.run_version = "../../../../victim";
    });
    const run = await runCliWithin(["report", evidence], { cwd: repo });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'run_manifest.json run_version: got "../../../../victim"; expected letters, digits',
    );
    expect(await readFile(path.join(victim, "charts/keep.svg"), "utf8")).toBe("<svg/>");
    await expect(stat(path.join(victim, "report.html"))).rejects.toThrow();
  });
});

describe("strings from evidence reach a terminal and a job log as one line, starting no command", () => {
  const forged = "x\n::warning::forged by evidence\n::add-mask::hunter2\n::stop-commands::off";

  it("a dirty tree's file list and trial ids in verify-evidence's notes", async () => {
    const repo = await referenceRepo();
    await editJsonl(file(repo, "trials.jsonl"), (t) => ({
      ...t,
      trial_id: t.trial_id === "t0000" ? `t0000${forged}` : t.trial_id,
      worktree: { dirty: true, changed: 1, files: [forged], diff_sha256: "a".repeat(64) },
    }));
    const step = await runBundle("dist/verify-evidence.js", { path: evidence }, { workspace: repo });
    expect(step.code).toBe(1);
    const commands = linesOf(step.stdout).filter((l) =>
      /^::(warning|add-mask|stop-commands|notice)::/.test(l),
    );
    expect(commands).toEqual([]);
    expect(step.stdout).toContain("\\u000a::warning::forged by evidence");
  });

  it("a zip member's name on the CLI's stdout", async () => {
    // A name with a non-ASCII letter is stored as UTF-8 (flag bit 11), so its newline is one.
    const zip = path.join(work, "named.zip");
    execFileSync("python3", [
      "-c",
      `import zipfile\nz = zipfile.ZipFile(${JSON.stringify(zip)}, "w")\nz.writestr(${JSON.stringify(`submission_runs/é_v1/run_manifest.json${forged}`)}, "{}")\nz.close()`,
    ]);
    const run = await runCliWithin(["verify", zip], { cwd: work });
    expect(run.code).toBe(1);
    expect(linesOf(run.stdout).filter((l) => l.startsWith("::"))).toEqual([]);
    expect(run.stdout).toContain("\\u000a::warning::forged by evidence");
  });

  it("an evalset's file name in a problem line of the CLI", async () => {
    // eval_summary.json names an evalset that is there, under a name with line breaks: such a
    // name is no repository path (a control character), so it is not read, and the note that
    // says so shows the name on its line.
    const repo = await referenceRepo();
    const name = `training/e${forged}.jsonl`;
    await writeFile(path.join(repo, name), "{not json\n");
    await editJson(file(repo, "eval_summary.json"), (s) => {
      s.eval_set = name;
    });
    const run = await runCliWithin(["verify", evidence], { cwd: repo });
    expect(run.code).toBe(0);
    const out = `${run.stdout}${run.stderr}`;
    expect(linesOf(out).filter((l) => l.startsWith("::"))).toEqual([]);
    expect(run.stderr).toContain(
      'note: eval_rows.jsonl was not re-graded: eval_summary.json eval_set "training/ex\\n::warning::forged by evidence\\n::add-mask::hunter2\\n::stop-comm... is not a repository path (relative, inside it, no control character)',
    );
  });
});

describe("Markdown from evidence or a trainer shows as text: no image, link or mention", () => {
  const payload = "![pixel](https://evil.example/p.png) [click](https://evil.example) @org/team <img src=x>";

  it("in verify-evidence's job summary", async () => {
    const repo = await referenceRepo();
    await editJson(file(repo, "best_params.json"), (b) => {
      b.trial_id = payload;
    });
    const step = await runBundle("dist/verify-evidence.js", { path: evidence }, { workspace: repo });
    expect(step.code).toBe(1);
    expect(step.summary).toContain("evil.example");
    expect(step.summary).not.toMatch(/!\[pixel\]\(/);
    expect(step.summary).not.toMatch(/\[click\]\(/);
    expect(step.summary).not.toMatch(/@org\//);
    expect(step.summary).not.toContain("<img");
  });

  it("in leaderboard.md (the evidence pull request's body): a trainer's stderr", async () => {
    const repo = await referenceRepo("tunix-rt-hostile-trainer-", { git: true });
    await writeFile(
      path.join(repo, "training/noisy.mjs"),
      `process.stderr.write(${JSON.stringify(`${payload}\n`)}); process.exit(1);\n`,
    );
    const config = path.join(repo, "training/noisy.yaml");
    const text = await readFile(path.join(repo, "training/example/sweep.yaml"), "utf8");
    await writeFile(
      config,
      text
        .replace("run_version: example_v1", "run_version: noisy_v1")
        .replace("num_samples: 8", "num_samples: 2")
        .replace(/command:\n(\s+- .*\n)+/, "command: [node, training/noisy.mjs]\n"),
    );
    // Every trial fails: the leaderboard lists each with its stderr.
    const run = await runCliWithin(["sweep", "--config", "training/noisy.yaml"], {
      cwd: repo,
      limitMs: 60_000,
    });
    expect(run.timedOut).toBe(false);
    const board = await readFile(path.join(repo, "runs/noisy_v1/trials/leaderboard.md"), "utf8").catch(() =>
      readFile(path.join(repo, "runs/noisy_v1/leaderboard.md"), "utf8"),
    );
    expect(board).toContain("evil.example");
    expect(board).not.toMatch(/!\[pixel\]\(/);
    expect(board).not.toMatch(/@org\//);
    expect(board).not.toContain("<img");
  }, 60_000);
});

describe("work on an input is bounded by its size, never its shape", () => {
  it("a 2 GiB eval_rows.jsonl is refused by its size, at once", async () => {
    const repo = await referenceRepo();
    await truncate(file(repo, "eval_rows.jsonl"), 2 * 1024 ** 3);
    const run = await runCliWithin(["verify", evidence], { cwd: repo });
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("eval_rows.jsonl: cannot read: is 2147483648 bytes, over the 512 MiB");
  });

  it("a YAML billion laughs in the promoted config is a problem, and the folders after it are checked", async () => {
    const repo = await referenceRepo();
    const lol = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      lol.push(
        `${next}: &${next} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`,
      );
    }
    await writeFile(path.join(repo, "training/configs/example_v1_best.yaml"), `${lol.join("\n")}\n`);
    const run = await runCliWithin(["verify", evidence], { cwd: repo });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/training\/configs\/example_v1_best\.yaml: not valid YAML: .*alias/i);
    expect(run.stderr).not.toContain("internal error");
    // In the action, a later folder still gets its verdict.
    execFileSync("cp", ["-r", file(repo, ""), path.join(repo, "submission_runs/other_v1")]);
    const step = await runBundle(
      "dist/verify-evidence.js",
      { path: `${evidence} submission_runs/other_v1` },
      { workspace: repo },
    );
    expect(step.code).toBe(1);
    expect(step.summary).toContain("in `submission_runs/other_v1`");
  });

  it("a zip member over 256 MiB uncompressed is refused before it is inflated", async () => {
    const zip = path.join(work, "big-member.zip");
    const archive = new ZipArchive({ zlib: { level: 1 } });
    const done = pipeline(archive, createWriteStream(zip));
    const size = 608 * 1024 ** 2;
    const chunk = Buffer.alloc(1024 ** 2);
    let sent = 0;
    const zeros = new Readable({
      read() {
        if (sent >= size) return void this.push(null);
        sent += chunk.length;
        this.push(chunk);
      },
    });
    archive.append(zeros, { name: "submission_runs/big_v1/eval_rows.jsonl" });
    await archive.finalize();
    await done;
    const run = await runCliWithin(["verify", zip], { cwd: work });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("would inflate to 637534208 bytes, over the 256 MiB a member may have");
  }, 60_000);

  it("a zip of 70,000 members (ZIP64) is refused past 10,000, before any is read", async () => {
    const zip = path.join(work, "many.zip");
    execFileSync("python3", [
      "-c",
      `import zipfile\nz = zipfile.ZipFile(${JSON.stringify(zip)}, "w")\nfor i in range(70000): z.writestr(f"m/{i}", b"")\nz.close()`,
    ]);
    const run = await runCliWithin(["verify", zip], { cwd: work });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("it holds more than 10000 members");
  }, 60_000);

  it("a sweep of a million trials: the recommendation takes no argument list of them all", () => {
    // Math.max(...counts) over every configuration overflowed the stack at this size.
    const records: TrialRecord[] = Array.from({ length: 300_000 }, (_, i) => ({
      trial_id: `t${String(i).padStart(6, "0")}`,
      params: { x: i / 300_000 },
      status: "completed",
      primary_score: (i % 97) / 97,
    }));
    const space = searchSpaceOf({ x: { type: "uniform", min: 0, max: 1 } });
    const result = recommend(space, records, { rule: "best_observed", seed: 1, metricMode: "max" });
    expect(result.best?.observed).toBeCloseTo(96 / 97);
  });

  it("150,000 trials in trials.jsonl: read up to the cap, then one problem", async () => {
    const repo = await referenceRepo();
    const out = createWriteStream(file(repo, "trials.jsonl"));
    for (let i = 0; i < 150_000; i++) {
      const line = `{"trial_id":"x${i}","params":{"learning_rate":0.1},"status":"completed","primary_score":0.5}\n`;
      if (!out.write(line)) await new Promise<void>((r) => out.once("drain", () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
    const run = await runCliWithin(["verify", evidence], { cwd: repo, limitMs: 120_000 });
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("trials.jsonl: holds more than 100000 trials; not read further");
  }, 180_000);

  it("lines of a duplicated id: the first 100 problems listed, the rest counted", async () => {
    const repo = await referenceRepo();
    const row = (await readFile(file(repo, "eval_rows.jsonl"), "utf8")).split("\n")[0] as string;
    await writeFile(file(repo, "eval_rows.jsonl"), `${`${row}\n`.repeat(150_000)}`);
    const run = await runCliWithin(["verify", evidence], { cwd: repo, limitMs: 120_000 });
    expect(run.timedOut).toBe(false);
    const lines = linesOf(run.stdout).filter(
      (l) => l.includes("eval_rows.jsonl:") && l.includes(": id: got"),
    );
    expect(lines.length).toBe(100);
    expect(run.stdout).toContain("eval_rows.jsonl: id: and 149899 more problems of this file and field");
  }, 180_000);

  it("JSON nested 100,000 deep: refused at the depth bound, in linear time", async () => {
    const repo = await referenceRepo();
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    await editJson(file(repo, "run_manifest.json"), (m) => {
      m.extra = "DEEP";
    });
    const text = (await readFile(file(repo, "run_manifest.json"), "utf8")).replace('"DEEP"', deep);
    await writeFile(file(repo, "run_manifest.json"), text);
    const run = await runCliWithin(["verify", evidence], { cwd: repo, limitMs: 10_000 });
    expect(run.timedOut).toBe(false);
    expect(run.stdout).toContain("run_manifest.json");
    expect(run.stdout).toContain("nests objects and arrays deeper than 64 levels");
  });

  it("a stream without end (a link to /dev/zero, a named pipe) is refused, never read", async () => {
    const repo = await referenceRepo();
    await rm(file(repo, "kaggle_output_log.txt"));
    await symlink("/dev/zero", file(repo, "kaggle_output_log.txt"));
    await rm(file(repo, "eval_rows.jsonl"));
    execFileSync("mkfifo", [file(repo, "eval_rows.jsonl")]);
    const run = await runCliWithin(["verify", evidence], { cwd: repo, limitMs: 10_000 });
    expect(run.timedOut).toBe(false);
    expect(run.stdout).toContain(
      "kaggle_output_log.txt: cannot read: is not a regular file (a device or a pipe)",
    );
    expect(run.stdout).toContain("eval_rows.jsonl: cannot read: is not a regular file (a device or a pipe)");
  });
});

describe("what verify took without a word", () => {
  it("a JSON key given twice, in a JSON file and in a line of JSONL", async () => {
    const repo = await referenceRepo();
    const manifest = (await readFile(file(repo, "run_manifest.json"), "utf8")).replace(
      '"trial_id": "t0007",',
      '"trial_id": "t0003",\n  "trial_id": "t0007",',
    );
    await writeFile(file(repo, "run_manifest.json"), manifest);
    const rows = (await readFile(file(repo, "eval_rows.jsonl"), "utf8")).split("\n");
    rows[0] = (rows[0] as string).replace('"metrics":', '"metrics":{"answer_correctness":0},"metrics":');
    await writeFile(file(repo, "eval_rows.jsonl"), rows.join("\n"));
    const run = await runCliWithin(["verify", evidence], { cwd: repo });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/run_manifest\.json:\d+: trial_id: gives the key "trial_id" twice/);
    expect(run.stdout).toContain('eval_rows.jsonl:1: gives the key "metrics" twice');
  });

  it("the recommendation block's observed score changed, or the block deleted", async () => {
    const repo = await referenceRepo();
    const best = JSON.parse(await readFile(file(repo, "best_params.json"), "utf8"));
    await writeFile(
      file(repo, "best_params.json"),
      JSON.stringify({ ...best, recommendation: { ...best.recommendation, observed: 1 } }),
    );
    const observed = await runCliWithin(["verify", evidence], { cwd: repo });
    expect(observed.code).toBe(1);
    expect(observed.stdout).toContain("recommendation.observed: got 1;");
    const { recommendation: _, ...without } = best;
    await writeFile(file(repo, "best_params.json"), JSON.stringify(without));
    const dropped = await runCliWithin(["verify", evidence], { cwd: repo });
    expect(dropped.code).toBe(1);
    expect(dropped.stdout).toContain("recommendation: missing;");
  });

  it("a Gemma model_id claimed for a sweep of another model fails, the kaggle profile too", async () => {
    const repo = await referenceRepo();
    await editJson(file(repo, "run_manifest.json"), (m) => {
      m.model_id = "google/gemma-3-1b-it";
    });
    const run = await runCliWithin(["verify", evidence, "--profile", "kaggle"], { cwd: repo });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'model_id: got "google/gemma-3-1b-it"; best_params.json sweep_config.base_model_id is "tunix-rt/example-digit-adder"',
    );
  });

  it("the command and the evaluation time rewritten: checked against the best trial's record", async () => {
    const repo = await referenceRepo();
    await editJson(file(repo, "run_manifest.json"), (m) => {
      m.command = "python train.py --the-best-settings";
    });
    await editJson(file(repo, "eval_summary.json"), (s) => {
      s.evaluated_at = "2026-01-01T00:00:00Z";
    });
    const run = await runCliWithin(["verify", evidence], { cwd: repo });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /run_manifest\.json:\d+: command: got "python train\.py --the-best-settings"; trials\.jsonl line 8 \(t0007\) ran "node training\/example\/train\.mjs/,
    );
    expect(run.stdout).toMatch(
      /eval_summary\.json:\d+: evaluated_at: got "2026-01-01T00:00:00Z"; trials\.jsonl line 8 \(t0007\) finished at/,
    );
  });
});

describe("a zip whose MANIFEST.json was recomputed after an edit", () => {
  it("verifies on its MANIFEST alone, and fails as not attested against the signature it carries", async () => {
    const repo = await referenceRepo("tunix-rt-hostile-signed-");
    const sigstore = await TestSigstore.create(path.join(work, "sigstore"));
    const root = await sigstore.writeTrustedRoot(path.join(work, "trusted_root.json"));
    const signer = { repository: "octo/tuning", workflow: ".github/workflows/tunix-rt-sweep.yml" };
    await attestFolder(sigstore, repo, evidence, signer);
    execFileSync("git", ["init", "-q"], { cwd: repo });
    const pack = await runCliWithin(["package", "--run-dir", evidence], {
      cwd: repo,
      env: { SOURCE_DATE_EPOCH: "1764547200" },
    });
    expect(pack.code, pack.stderr).toBe(0);
    const zip = path.resolve(repo, pack.stdout.trim().split("\n").pop() as string);
    // The edit, and MANIFEST.json recomputed for it (with or without the bundle), by hand.
    const rewrite = (out: string, dropBundle: boolean) =>
      execFileSync("python3", [
        "-c",
        [
          "import hashlib, json, sys, zipfile",
          "src, out, drop = sys.argv[1], sys.argv[2], sys.argv[3] == '1'",
          "z = zipfile.ZipFile(src)",
          "members = {n: z.read(n) for n in z.namelist()}",
          `log = '${evidence}/kaggle_output_log.txt'`,
          "members[log] = b'trial t0007: primary_score 1.0 (a log rewritten after signing)\\n'",
          `bundle = '${evidence}/attestation.sigstore.json'`,
          "if drop: members.pop(bundle)",
          "m = json.loads(members['MANIFEST.json'])",
          "m['files'] = [f for f in m['files'] if f['path'] in members]",
          "for f in m['files']:",
          "    f['size'] = len(members[f['path']]); f['sha256'] = hashlib.sha256(members[f['path']]).hexdigest()",
          "members['MANIFEST.json'] = (json.dumps(m, indent=2) + '\\n').encode()",
          "w = zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED)",
          "for n in sorted(members): w.writestr(n, members[n])",
          "w.close()",
        ].join("\n"),
        zip,
        out,
        dropBundle ? "1" : "0",
      ]);
    const unsigned = path.join(work, "recomputed-unsigned.zip");
    rewrite(unsigned, true);
    const alone = await runCliWithin(["verify", unsigned], { cwd: work });
    expect(alone.code, alone.stdout).toBe(0); // MANIFEST.json alone cannot tell
    const required = await runCliWithin(
      ["verify", unsigned, "--attestation-repo", "octo/tuning", "--sigstore-root", root],
      { cwd: work },
    );
    expect(required.code).toBe(1);
    expect(required.stdout).toContain(`${unsigned}/${evidence}/attestation.sigstore.json: missing;`);
    const signed = path.join(work, "recomputed-signed.zip");
    rewrite(signed, false);
    const run = await runCliWithin(["verify", signed, "--sigstore-root", root], { cwd: work });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      new RegExp(
        `^${signed.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/${evidence}/kaggle_output_log\\.txt: is not attested: its SHA-256 is [0-9a-f]{64}, and attestation\\.sigstore\\.json signed [0-9a-f]{64} \\(the file was changed after it was signed\\)$`,
        "m",
      ),
    );
  }, 60_000);
});
