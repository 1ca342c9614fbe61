import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { primaryScore } from "../src/core/grading/score.js";
import { repoRoot, runProcess, tempDir } from "./helpers/cli.js";
import { auditWorkflow } from "./workflows/audit.js";
import { chainScenarios, jobGraph, waveCount } from "./workflows/chain.js";
import { diagnostics } from "./workflows/diagnostics.js";

/**
 * The package as a user gets it: `npm pack` of this repository, installed into a project of its
 * own that has its own trainer, evalset and sweep config, and run there through `npx tunix-rt`:
 * a sweep, then `init`, whose workflows are read by GitHub's language service and expression
 * engine. It is packed from a clean commit of this working tree's files (`cleanSnapshot`), so
 * its build record names a commit init can pin. `npm install` reads the packages from npm's
 * cache (filled by `npm ci`). The git install runs `prepare` with every devDependency in a
 * clone, over a minute, so it runs only with TUNIX_RT_GIT_INSTALL=1 (`npm run test:install`).
 */

const pkg = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")) as { version: string };
const gitInstall = process.env.TUNIX_RT_GIT_INSTALL === "1";
const npmFlags = ["--prefer-offline", "--no-audit", "--no-fund"];

/**
 * The environment of a user's shell: without the npm_* variables that `npm test` sets (npm reads
 * npm_config_local_prefix as its project folder) and without this repository's node_modules/.bin.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== "INIT_CWD") env[key] = value;
  }
  env.PATH = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => !dir.startsWith(repoRoot))
    .join(path.delimiter);
  env.NO_COLOR = "1";
  return env;
}

const run = (argv: string[], cwd: string) => runProcess(argv, { cwd, env: userEnv() });
/** `npx tunix-rt …`; `--no` keeps npx from fetching a tunix-rt from the registry when none is installed. */
const npx = (args: string[], cwd: string) => run(["npx", "--no", "--", "tunix-rt", ...args], cwd);
const git = (args: string[], cwd: string) =>
  execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", ...args], {
    cwd,
    stdio: "pipe",
    encoding: "utf8",
  });

const evalset = [
  ["q1", "What is 2 + 3?", "5"],
  ["q2", "What is 7 - 4?", "3"],
  ["q3", "What is 6 * 2?", "12"],
  ["q4", "What is 9 + 9?", "18"],
  ["q5", "What is 10 - 1?", "9"],
  ["q6", "What is 3 * 3?", "9"],
].map(([id, prompt, expected_answer]) => ({ id, prompt, expected_answer }));

/**
 * A Python trainer of the user's own that honours the trial contract: `level` comes from its argv,
 * `bonus` from TUNIX_RT_PARAMS_FILE, and it answers the first level + bonus evalset items right,
 * so each trial's primary_score is min(level + bonus, 6) / 6.
 */
const trainer = `import argparse, json, os

parser = argparse.ArgumentParser()
parser.add_argument("--level", type=int, required=True)
level = parser.parse_args().level
with open(os.environ["TUNIX_RT_PARAMS_FILE"]) as f:
    bonus = json.load(f)["bonus"]
with open(os.environ["TUNIX_RT_EVALSET"]) as f:
    items = [json.loads(line) for line in f if line.strip()]
with open(os.path.join(os.environ["TUNIX_RT_OUTPUT_DIR"], "predictions.jsonl"), "w") as out:
    for i, item in enumerate(items):
        answer = item["expected_answer"] if i < level + bonus else "?"
        out.write(json.dumps({"id": item["id"], "prediction": "<answer>" + answer + "</answer>"}) + "\\n")
print("trained: level", level, "bonus", bonus)
`;

const sweepConfig = `name: Install test sweep
run_version: install_v1
dataset_key: install-test
base_model_id: install-test/none
metric_name: answer_correctness
metric_mode: max
num_samples: 4
max_concurrent_trials: 2
seed: 7
sampler: random
evalset: training/evalsets/eval.jsonl
search_space:
  level: {type: randint, min: 0, max: 6}
  bonus: {type: choice, values: [0, 1]}
trainer:
  command: [python3, training/train.py, --level, "{level}"]
  timeout_minutes: 1
`;

/** A user's project folder, a git repository with one commit; `withSweep` adds a trainer, evalset and config. */
async function userProject(dir: string, withSweep: boolean): Promise<string> {
  await mkdir(path.join(dir, "training/evalsets"), { recursive: true });
  await writeFile(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name: "user-project", version: "1.0.0", private: true }, null, 2)}\n`,
  );
  await writeFile(path.join(dir, ".gitignore"), "node_modules/\nruns/\n");
  if (withSweep) {
    await writeFile(path.join(dir, "training/train.py"), trainer);
    await writeFile(path.join(dir, "training/sweep.yaml"), sweepConfig);
    await writeFile(
      path.join(dir, "training/evalsets/eval.jsonl"),
      evalset.map((row) => `${JSON.stringify(row)}\n`).join(""),
    );
  }
  git(["init", "-q"], dir);
  git(["add", "."], dir);
  git(["commit", "-q", "-m", "a user's project"], dir);
  return dir;
}

/** Checks an install: no engine warning, the CLI's code and nothing of the actions' dependencies. */
async function expectCleanInstall(project: string, install: { code: number | null; stderr: string }) {
  expect(install.stderr).not.toMatch(/EBADENGINE/);
  expect(install.code).toBe(0);
  const installed = path.join(project, "node_modules");
  expect((await readdir(path.join(installed, "tunix-rt/lib"))).sort()).toEqual([
    "build-info.json",
    "cli",
    "core",
    "runtime",
  ]);
  for (const scope of ["@actions", "@octokit", "@azure"]) {
    expect(existsSync(path.join(installed, scope)), scope).toBe(false);
  }
  const version = await npx(["--version"], project);
  expect(version.stderr).toBe("");
  expect(version.stdout.trim()).toBe(pkg.version);
  expect(version.code).toBe(0);
}

/**
 * This working tree's files (tracked and untracked, ignored ones aside) and its built lib/,
 * committed into a repository of their own: a clean commit to build from. Its build record
 * (scripts/write-build-info.mjs, as `npm run build` writes it) names that commit.
 */
async function cleanSnapshot(dest: string): Promise<string> {
  const listed = git(["ls-files", "-co", "--exclude-standard", "-z"], repoRoot).split("\0").filter(Boolean);
  for (const file of listed) {
    const from = path.join(repoRoot, file);
    if (!(await stat(from).catch(() => undefined))?.isFile()) continue;
    await mkdir(path.dirname(path.join(dest, file)), { recursive: true });
    await copyFile(from, path.join(dest, file));
  }
  await cp(path.join(repoRoot, "lib"), path.join(dest, "lib"), { recursive: true });
  git(["init", "-q"], dest);
  git(["add", "-A"], dest);
  git(["commit", "-q", "-m", "a clean build"], dest);
  const built = await run([process.execPath, "scripts/write-build-info.mjs"], dest);
  expect(built.code, built.stderr).toBe(0);
  return git(["rev-parse", "HEAD"], dest).trim();
}

let work: string;
let snapshot: string;
let commit: string;
/** The user's project with the packed tunix-rt installed (the first test installs it). */
let project: string;
beforeAll(async () => {
  work = await tempDir("tunix-rt-install-");
  snapshot = path.join(work, "tunix-rt");
  commit = await cleanSnapshot(snapshot);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("the packed package, installed in another project", () => {
  it("packs the CLI, installs without the actions' dependencies, and sweeps, packages and verifies there", async () => {
    // `npm test` has just built lib/ (copied into the snapshot). `--ignore-scripts` keeps `npm
    // pack` from running `prepare` again; the git install test runs `prepare` for real.
    expect(existsSync(path.join(repoRoot, "lib/cli/main.js")), "lib/ is built by `npm run build`").toBe(true);
    const packed = await run(
      ["npm", "pack", "--ignore-scripts", "--json", "--pack-destination", work],
      snapshot,
    );
    expect(packed.code, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info?.files.map((f) => f.path) ?? [];
    expect(files).toContain("bin/tunix-rt.js");
    expect(files).toContain("lib/cli/main.js");
    expect(files).toContain("schema/sweep-config.schema.json");
    expect(files).toContain("lib/build-info.json");
    const shipped =
      /^(bin|lib\/(cli|core|runtime)|schema)\/|^(README\.md|package\.json|LICENSE|lib\/build-info\.json)$/;
    expect(files.filter((f) => !shipped.test(f))).toEqual([]);

    project = await userProject(path.join(work, "tarball-project"), true);
    const tarball = path.join(work, info?.filename ?? "");
    await expectCleanInstall(project, await run(["npm", "install", ...npmFlags, tarball], project));

    // The README's claim: the package's dependencies by name, and how many packages they bring.
    const readme = await readFile(path.join(repoRoot, "README.md"), "utf8");
    const claim = /depends on ([^:]+): (\d+) packages in all/.exec(readme.replace(/\s+/g, " "));
    expect(claim, "the README says what the package depends on").not.toBeNull();
    const { dependencies } = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const name of Object.keys(dependencies))
      expect(claim?.[1], `the README names ${name}`).toContain(name.replace(/^@sigstore\/.*/, "@sigstore"));
    const listed = await run(["npm", "ls", "--all", "--parseable"], project);
    const installed = listed.stdout.split("\n").filter(Boolean).length - 1; // less the project itself
    // The project's own dependencies besides tunix-rt: none in this test's package.json.
    expect(Number(claim?.[2])).toBe(installed);

    // Every shipped module loads with the installed dependencies alone, the lazily loaded commands too.
    const lib = path.join(project, "node_modules/tunix-rt/lib");
    const modules = (await readdir(lib, { recursive: true })).filter((f) => f.endsWith(".js"));
    expect(modules.length).toBeGreaterThan(20);
    const loads = await run(
      [
        process.execPath,
        "--input-type=module",
        "-e",
        `for (const f of ${JSON.stringify(modules)}) await import(${JSON.stringify(`${lib}/`)} + f);`,
      ],
      project,
    );
    expect(loads.stderr).toBe("");
    expect(loads.code).toBe(0);

    // Its own training/sweep.yaml is the default config; max_concurrent_trials (2) at a time.
    const sweep = await npx(["sweep"], project);
    expect(sweep.stderr).toContain("2 at a time");
    expect(sweep.code, sweep.stderr).toBe(0);
    const runDir = path.join(project, "submission_runs/install_v1");
    const trials = (await readFile(path.join(runDir, "trials.jsonl"), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { status: string; primary_score: number; params: Record<string, number> });
    expect(trials).toHaveLength(4);
    // Each trial's score is what the user's trainer gives for the params it was told.
    for (const t of trials) {
      expect(t.status).toBe("completed");
      expect(t.primary_score).toBeCloseTo(Math.min((t.params.level ?? 0) + (t.params.bonus ?? 0), 6) / 6, 10);
    }
    const summary = JSON.parse(await readFile(path.join(runDir, "eval_summary.json"), "utf8"));
    // The evidence names the trial its recommendation chose, with that trial's own score.
    const best = JSON.parse(await readFile(path.join(runDir, "best_params.json"), "utf8"));
    expect(best.recommendation.trial_id).toBe(summary.trial_id);
    const named = trials.find((t) => (t as { trial_id?: string }).trial_id === summary.trial_id);
    expect(summary.primary_score).toBe(named?.primary_score);
    const rows = (await readFile(path.join(runDir, "eval_rows.jsonl"), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(primaryScore(rows)).toBe(summary.primary_score);

    const zips = await readdir(path.join(project, "submission"));
    const sha = git(["rev-parse", "--short", "HEAD"], project).trim();
    expect(zips).toHaveLength(1);
    expect(zips[0]).toMatch(new RegExp(`^tunix_rt_install_v1_\\d{4}-\\d{2}-\\d{2}_${sha}\\.zip$`));
    const verify = await npx(["verify", path.join("submission", zips[0] ?? "")], project);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 180_000);

  /** The workflows init wrote into `dir` (relative to the project), by file name. */
  async function written(dir = ".github/workflows"): Promise<Record<string, string>> {
    const files: Record<string, string> = {};
    for (const name of (await readdir(path.join(project, dir))).sort())
      files[name] = await readFile(path.join(project, dir, name), "utf8");
    return files;
  }

  it("init writes the sweep, evidence and release workflows, pinned to the installed build's commit", async () => {
    expect(project, "the package is installed").toBeDefined();
    const init = await npx(["init"], project);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain("wrote .github/workflows/tunix-rt-sweep.yml");
    // What the user does next: secrets, runner labels, the required status and its source.
    for (const step of [
      "HF_TOKEN",
      "--labels gpu",
      '"tunix-rt / verify-evidence"',
      "expected source set to GitHub Actions",
    ])
      expect(init.stdout).toContain(step);
    const files = await written();
    expect(Object.keys(files)).toEqual([
      "tunix-rt-evidence.yml",
      "tunix-rt-release.yml",
      "tunix-rt-sweep.yml",
    ]);
    for (const [name, text] of Object.entries(files)) {
      // Every step of tunix-rt's calls its action across repositories at the build's commit.
      const uses = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)].map(
        (m) => [m[1] as string, m[2] as string] as const,
      );
      const ours = uses.filter(([u]) => u.includes("tunix-rt"));
      expect(ours.length, name).toBeGreaterThan(0);
      for (const [u, comment] of ours) {
        expect(u, name).toMatch(
          /^tunix-rt\/tunix-rt\/actions\/(sweep|score|verify-evidence|package)@[0-9a-f]{40}$/,
        );
        expect(u.split("@")[1], name).toBe(commit);
        expect(comment.trim(), name).toBe(`# v${pkg.version}`);
      }
      // No reusable workflow of another repository (its jobs would not reach your runners).
      expect(text, name).not.toMatch(/uses:\s*\S+\/\.github\/workflows\//);
      expect(await diagnostics(`.github/workflows/${name}`, text, { root: project })).toEqual([]);
      expect(auditWorkflow(text, name)).toEqual([]);
    }
    // The project's config: 4 trials, 2 at a time, no waves key: ceil(4 / 2) = 2 waves.
    expect(waveCount(await jobGraph(files["tunix-rt-sweep.yml"] as string))).toBe(2);
  }, 60_000);

  it("init writes as many waves as the config's schedule takes, and the chain holds for each", async () => {
    const configs: Array<[string, string, number]> = [
      // 4 trials, 4 at a time: one round of the runners.
      ["one", "num_samples: 4\nmax_concurrent_trials: 4", 1],
      ["three", "num_samples: 9\nmax_concurrent_trials: 2\nwaves: 3", 3],
      ["twelve", "num_samples: 24\nmax_concurrent_trials: 2\nwaves: 12", 12],
      // Rung 0 at once (9 configurations, budget 1), then rungs 1 and 2 (budgets 3, 9): 3 waves.
      [
        "halving",
        "num_samples: 9\nmax_concurrent_trials: 9\nfidelity: {min_budget: 1, max_budget: 9, eta: 3}",
        3,
      ],
    ];
    const base = sweepConfig.replace(/num_samples: 4\nmax_concurrent_trials: 2\n/, "");
    for (const [name, schedule, waves] of configs) {
      await writeFile(path.join(project, `training/${name}.yaml`), `${schedule}\n${base}`);
      const init = await npx(["init", "--config", `training/${name}.yaml`, "--out", `gen/${name}`], project);
      expect(init.code, init.stderr).toBe(0);
      const sweep = (await written(`gen/${name}`))["tunix-rt-sweep.yml"] as string;
      const graph = await jobGraph(sweep);
      expect(waveCount(graph), name).toBe(waves);
      expect(await diagnostics(`gen/${name}/tunix-rt-sweep.yml`, sweep, { root: project })).toEqual([]);
      for (const scenario of chainScenarios(graph))
        expect(scenario.failures, `${name}: ${scenario.name}`).toEqual([]);
    }
  }, 60_000);

  it("init --check: 0 after init, 1 with a diff after a hand edit, 0 after --upgrade; an upgraded tunix-rt shows", async () => {
    expect((await npx(["init", "--check"], project)).code).toBe(0);
    const file = path.join(project, ".github/workflows/tunix-rt-sweep.yml");
    const original = await readFile(file, "utf8");
    await writeFile(file, original.replace("timeout-minutes: 10", "timeout-minutes: 11"));
    const edited = await npx(["init", "--check"], project);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain(
      "tunix-rt-sweep.yml: differs from what this tunix-rt writes (edited by hand",
    );
    expect(edited.stdout).toContain("-    timeout-minutes: 11");
    expect(edited.stdout).toContain("+    timeout-minutes: 10");
    // A plain init does not write over the edit.
    const again = await npx(["init"], project);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("edited by hand since tunix-rt init wrote it");
    expect(await readFile(file, "utf8")).not.toBe(original);
    const upgraded = await npx(["init", "--upgrade"], project);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(upgraded.stderr).toContain("its hand edit is gone");
    expect(await readFile(file, "utf8")).toBe(original);
    expect((await npx(["init", "--check"], project)).code).toBe(0);

    // Another build of tunix-rt installed (another commit): the pins differ, --upgrade moves them.
    const record = path.join(project, "node_modules/tunix-rt/lib/build-info.json");
    const info = JSON.parse(await readFile(record, "utf8"));
    await writeFile(record, JSON.stringify({ ...info, commit: "b".repeat(40) }));
    const stale = await npx(["init", "--check"], project);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("written by another tunix-rt");
    expect(stale.stdout).toContain(
      `+        uses: tunix-rt/tunix-rt/actions/sweep@${"b".repeat(40)} # v${pkg.version}`,
    );
    expect((await npx(["init", "--upgrade"], project)).code).toBe(0);
    expect((await npx(["init", "--check"], project)).code).toBe(0);
    // A build from uncommitted changes has no commit to pin.
    await writeFile(
      record,
      JSON.stringify({ ...info, dirty: true, reason: "built from uncommitted changes" }),
    );
    const dirty = await npx(["init", "--force"], project);
    expect(dirty.code).toBe(2);
    expect(dirty.stderr).toContain("no commit to pin tunix-rt's actions to: built from uncommitted changes");
    await writeFile(record, JSON.stringify(info));
  }, 60_000);
});

describe.skipIf(!gitInstall)("a git install (TUNIX_RT_GIT_INSTALL=1)", () => {
  it("builds lib/ through prepare in a clean clone and installs a working CLI", async () => {
    const clone = path.join(work, "clone");
    git(["clone", "-q", repoRoot, clone], work);
    expect(existsSync(path.join(clone, "lib"))).toBe(false);
    const commit = git(["rev-parse", "HEAD"], clone).trim();
    const project = await userProject(path.join(work, "git-project"), false);
    const install = await run(["npm", "install", ...npmFlags, `git+file://${clone}#${commit}`], project);
    await expectCleanInstall(project, install);
  }, 600_000);
});
