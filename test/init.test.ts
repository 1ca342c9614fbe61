/**
 * `tunix-rt init` at its edges, through the CLI in real git repositories (the packed
 * package's main path is test/install.test.ts), and the build record it pins from
 * (scripts/write-build-info.mjs) in a clean, a dirty and a non-git folder.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBuildInfo } from "../src/runtime/build-info.js";
import { actionPin } from "../src/runtime/init.js";
import { repoRoot, runCli, runProcess, tempDir } from "./helpers/cli.js";
import { exampleRepo, gitCommitAll } from "./helpers/example-repo.js";

const run = promisify(execFile);
const commit = "c".repeat(40);
let work: string;

beforeAll(async () => {
  work = await tempDir("tunix-rt-init-");
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** init in `dir`, pinned to a given commit (this checkout's own build may be dirty). */
const init = (dir: string, ...args: string[]) => runCli(["init", "--commit", commit, ...args], { cwd: dir });

describe("tunix-rt init", () => {
  it("writes three files, and a second init with the same options changes none", async () => {
    const repo = await exampleRepo({ git: true, sweepYaml: true });
    const first = await init(repo);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.split("\n").filter((l) => /^(wrote|unchanged) /.test(l))).toEqual([
      "wrote .github/workflows/tunix-rt-sweep.yml",
      "wrote .github/workflows/tunix-rt-evidence.yml",
      "wrote .github/workflows/tunix-rt-release.yml",
    ]);
    const second = await init(repo);
    expect(second.stdout.split("\n").filter((l) => /^(wrote|unchanged) /.test(l))).toEqual([
      "unchanged .github/workflows/tunix-rt-sweep.yml",
      "unchanged .github/workflows/tunix-rt-evidence.yml",
      "unchanged .github/workflows/tunix-rt-release.yml",
    ]);
    // New options write over files init wrote and nobody edited.
    const relabelled = await init(repo, "--runner-labels", "self-hosted,a100");
    expect(relabelled.code, relabelled.stderr).toBe(0);
    expect(await readFile(path.join(repo, ".github/workflows/tunix-rt-sweep.yml"), "utf8")).toContain(
      "runs-on: [self-hosted, a100]",
    );
  });

  it("never writes over a file it did not write without --force, and then writes nothing at all", async () => {
    const repo = await exampleRepo({ git: true, sweepYaml: true });
    await mkdir(path.join(repo, ".github/workflows"), { recursive: true });
    await writeFile(path.join(repo, ".github/workflows/tunix-rt-release.yml"), "name: mine\non: push\n");
    const refused = await init(repo);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'tunix-rt init: .github/workflows/tunix-rt-release.yml: has no "# tunix-rt-init: {...}" line in its first comment block; not a file tunix-rt init wrote; --force writes over it (nothing was written)\n',
    );
    await expect(readFile(path.join(repo, ".github/workflows/tunix-rt-sweep.yml"))).rejects.toThrow();
    const forced = await init(repo, "--force");
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(path.join(repo, ".github/workflows/tunix-rt-release.yml"), "utf8")).toContain(
      "# tunix-rt-init: ",
    );
  });

  it("refuses bad options in one line naming the flag, the value and what was expected", async () => {
    const repo = await exampleRepo({ git: true, sweepYaml: true });
    // biome-ignore-start lint/suspicious/noTemplateCurlyInString: workflow expressions, refused.
    const cases: Array<[string[], string]> = [
      [
        ["--setup-command", "echo ${{ github.event.issue.title }}"],
        'tunix-rt init: --setup-command: got "echo ${{ github.event.issue.title }}"; expected no ${{ }} expression: GitHub would expand it into the script (pass values through env instead) (see tunix-rt init --help)\n',
      ],
      // biome-ignore-end lint/suspicious/noTemplateCurlyInString: workflow expressions, refused.
      [
        ["--runner-labels", "self-hosted,,gpu"],
        'tunix-rt init: --runner-labels: got ""; expected a runner label, not an empty string (see tunix-rt init --help)\n',
      ],
      [
        ["--out", "../elsewhere"],
        `tunix-rt init: --out: "../elsewhere" is outside the repository (${repo}) (see tunix-rt init --help)\n`,
      ],
      [
        ["--check"],
        "tunix-rt init: --check takes the options from the files' headers; drop --commit (see tunix-rt init --help)\n",
      ],
    ];
    for (const [args, stderr] of cases) {
      const result = await init(repo, ...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toBe(stderr);
    }
  });

  it("--check without the files says each is missing (exit 1); --upgrade without them has nothing to do (exit 2)", async () => {
    const repo = await exampleRepo({ git: true, sweepYaml: true });
    const check = await runCli(["init", "--check"], { cwd: repo });
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(
      "tunix-rt init --check: .github/workflows/tunix-rt-sweep.yml: missing; run tunix-rt init",
    );
    const upgrade = await runCli(["init", "--upgrade"], { cwd: repo });
    expect(upgrade.code).toBe(2);
    expect(upgrade.stderr).toContain("no workflow in .github/workflows was written by tunix-rt init");
  });

  it("needs a config, and one whose every wave fits a matrix", async () => {
    const none = await tempDir("tunix-rt-init-empty-");
    await gitCommitAll(none);
    const missing = await init(none);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("training/sweep.yaml does not exist");
    const big = await exampleRepo({
      git: true,
      sweepYaml: (t) =>
        t
          .replace("num_samples: 8", "num_samples: 300")
          .replace("max_concurrent_trials: 2", "max_concurrent_trials: 300"),
    });
    const over = await init(big);
    expect(over.code).toBe(2);
    expect(over.stderr).toBe(
      "tunix-rt init: training/sweep.yaml: a wave of 300 trials (num_samples 300 in 1 wave) exceeds the 256 jobs one GitHub matrix may hold; raise waves to at least 2 or lower num_samples\n",
    );
  });
});

describe("the build record init pins from (scripts/write-build-info.mjs)", () => {
  /** A folder holding the script and a package.json, as a checkout of tunix-rt would. */
  async function packageFolder(name: string, git: boolean): Promise<string> {
    const dir = path.join(work, name);
    await mkdir(path.join(dir, "scripts"), { recursive: true });
    await copyFile(
      path.join(repoRoot, "scripts/write-build-info.mjs"),
      path.join(dir, "scripts/write-build-info.mjs"),
    );
    await writeFile(
      path.join(dir, "package.json"),
      JSON.stringify({
        name: "tunix-rt",
        repository: { type: "git", url: "git+https://github.com/tunix-rt/tunix-rt.git" },
      }),
    );
    await writeFile(path.join(dir, ".gitignore"), "lib/\n");
    if (git) await gitCommitAll(dir);
    return dir;
  }
  const build = async (dir: string) => {
    const ran = await runProcess([process.execPath, "scripts/write-build-info.mjs"], { cwd: dir });
    expect(ran.code, ran.stderr).toBe(0);
    return readBuildInfo(path.join(dir, "lib/build-info.json"));
  };

  it("a clean checkout: its repository and commit, which init pins", async () => {
    const dir = await packageFolder("clean", true);
    const head = (await run("git", ["rev-parse", "HEAD"], { cwd: dir })).stdout.trim();
    const info = await build(dir);
    expect(info).toMatchObject({ repository: "tunix-rt/tunix-rt", commit: head, dirty: false, reason: null });
    expect(actionPin({}, info)).toEqual({
      kind: "pinned",
      repository: "tunix-rt/tunix-rt",
      commit: head,
      version: info.version,
    });
  });

  it("uncommitted changes: no commit holds the build, and init says so unless told one", async () => {
    const dir = await packageFolder("dirty", true);
    await writeFile(path.join(dir, "scripts/extra.mjs"), "// not committed\n");
    const info = await build(dir);
    expect(info.dirty).toBe(true);
    expect(info.reason).toBe(
      "built from uncommitted changes to 1 path (first: scripts/extra.mjs), so no commit holds this build's code",
    );
    expect(() => actionPin({}, info)).toThrow(
      "no commit to pin tunix-rt's actions to: built from uncommitted changes to 1 path (first: scripts/extra.mjs), so no commit holds this build's code; install a build of a clean commit, or pass --commit <the 40-hex sha of a pushed tunix-rt commit>",
    );
    expect(actionPin({ commit }, info).commit).toBe(commit);
  });

  it("outside git: no commit, and why", async () => {
    const dir = await packageFolder("plain", false);
    const info = await build(dir);
    expect(info).toMatchObject({
      commit: null,
      reason: "built outside a git checkout of tunix-rt, so no commit is known",
    });
  });
});
