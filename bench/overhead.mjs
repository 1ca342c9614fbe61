// Per-trial overhead of `tunix-rt sweep`: a sweep of N trials of a trainer that only writes
// its predictions, with --parallel 2, next to a pool of 2 spawning the same N processes bare
// (same command, same contract env), measured in the same run, alternating, several rounds.
// The sweep runs in a git repository holding its config, as a user's does (each trial then
// records its commit and working tree); BENCH_GIT=0 measures it outside git.
import { execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const trainer = path.join(root, "bench/fixtures/predict-only.mjs");
const cli = path.join(root, "bin/tunix-rt.js");
const trials = Number(process.env.BENCH_TRIALS ?? 100);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const inGit = process.env.BENCH_GIT !== "0";

const run = (argv, opts) =>
  new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "pipe"], ...opts });
    let err = "";
    child.stderr?.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${argv.join(" ")} exited ${code}: ${err.slice(-500)}`)),
    );
  });

async function setup() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tunix-rt-bench-overhead-"));
  const evalset = path.join(dir, "evalset.jsonl");
  await writeFile(
    evalset,
    `${Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ id: `q${i}`, prompt: `${i}+${i}`, expected_answer: String(2 * i) }),
    ).join("\n")}\n`,
  );
  await writeFile(
    path.join(dir, "sweep.yaml"),
    [
      "run_version: bench_v1",
      `num_samples: ${trials}`,
      "sampler: random",
      `evalset: ${evalset}`,
      "search_space:",
      "  learning_rate: {type: loguniform, min: 1.0e-5, max: 1.0e-1}",
      "  warmup_steps: {type: choice, values: [0, 10, 20]}",
      "trainer:",
      `  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(trainer)}, "--lr", "{learning_rate}"]`,
      "  timeout_minutes: 1",
    ].join("\n"),
  );
  if (inGit) {
    // The bench's own files (the bare pool's folders, the profiles) are ignored, as a user's
    // scratch would be: the tree the trials record stays clean.
    await writeFile(path.join(dir, ".gitignore"), "bare/\nprofile-*.json\n");
    const git = (...args) =>
      execFileSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.com", ...args], {
        cwd: dir,
        stdio: "ignore",
      });
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "-m", "the bench's repository");
  }
  return { dir, evalset };
}

async function timeSweep(dir, profileFile) {
  await rm(path.join(dir, "runs"), { recursive: true, force: true });
  const t = performance.now();
  await run(
    [process.execPath, cli, "sweep", "--config", "sweep.yaml", "--parallel", "2", "--max-size", "10000000"],
    { cwd: dir, env: { ...process.env, ...(profileFile ? { TUNIX_RT_PROFILE: profileFile } : {}) } },
  );
  return performance.now() - t;
}

async function timeBare(dir, evalset) {
  const base = path.join(dir, "bare");
  await rm(base, { recursive: true, force: true });
  let next = 0;
  const t = performance.now();
  const worker = async () => {
    while (next < trials) {
      const i = next++;
      const out = path.join(base, `t${i}`);
      await mkdir(out, { recursive: true });
      const env = {
        ...process.env,
        TUNIX_RT_EVALSET: evalset,
        TUNIX_RT_OUTPUT_DIR: out,
        TUNIX_RT_TRIAL_ID: `t${i}`,
        TUNIX_RT_SEED: String(i),
      };
      await run([process.execPath, trainer, "--lr", "0.001"], { cwd: dir, env });
    }
  };
  await Promise.all([worker(), worker()]);
  return performance.now() - t;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const { dir, evalset } = await setup();
const sweep = [];
const bare = [];
const profiles = [];
for (let r = 0; r < rounds; r++) {
  bare.push(await timeBare(dir, evalset));
  const profileFile = path.join(dir, `profile-${r}.json`);
  sweep.push(await timeSweep(dir, profileFile));
  profiles.push(JSON.parse(await readFile(profileFile, "utf8")));
}
const perTrial = (median(sweep) - median(bare)) / trials;
console.log(
  `bench:overhead: ${trials} trials, --parallel 2, ${rounds} rounds (median), ${inGit ? "in a git repository" : "outside git (BENCH_GIT=0)"}, ${os.cpus().length} CPUs, node ${process.version}`,
);
console.log(`| what | wall time | per trial |`);
console.log(`|---|---|---|`);
console.log(
  `| bare pool of 2 spawning the trainer | ${(median(bare) / 1000).toFixed(2)} s | ${(median(bare) / trials).toFixed(1)} ms |`,
);
console.log(
  `| tunix-rt sweep --parallel 2 (plan, trials, grading, aggregate, verify, zip) | ${(median(sweep) / 1000).toFixed(2)} s | ${(median(sweep) / trials).toFixed(1)} ms |`,
);
console.log(
  `overhead per trial beyond the bare spawn: ${perTrial.toFixed(1)} ms (target < 25 ms: ${perTrial < 25 ? "PASS" : "MISS"}); ratio ${(median(sweep) / median(bare)).toFixed(2)}x`,
);
// Where the time went (TUNIX_RT_PROFILE), the median round's: each phase's time summed over
// the workers, per trial for the trials' phases, whole for the once-per-sweep ones.
const middle = profiles[sweep.indexOf(median(sweep))] ?? profiles[0];
console.log(`\nWhere the sweep's time went (the median round; per-trial phases summed over both workers):`);
console.log(`| phase | total | count | per trial |`);
console.log(`|---|---|---|---|`);
for (const [phase, { ms, count }] of Object.entries(middle).sort((a, b) => b[1].ms - a[1].ms)) {
  const perTrial = phase.startsWith("once") || phase === "total" ? "" : `${(ms / trials).toFixed(2)} ms`;
  console.log(`| ${phase} | ${ms.toFixed(0)} ms | ${count} | ${perTrial} |`);
}
await rm(dir, { recursive: true, force: true });
