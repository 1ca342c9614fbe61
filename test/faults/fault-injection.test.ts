// The fault-injection suite (`npm run test:faults`; the same cases, with a smaller log flood,
// run in `npm test`). A fault trainer meets every trainer-side fault in one real sweep; the
// aggregate-side faults are injected into a copy of its records laid out as matrix
// artifacts. Each fault is counted as injected, and as handled when its outcome is exactly
// the specified one; the suite ends by printing the figure line.
import { chmod, cp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../src/core/config/config.js";
import { runTrial } from "../../src/runtime/trial.js";
import { readJsonl, runCli, tempDir } from "../helpers/cli.js";
import { evalsetText, faultTrainer, writeFaultConfig } from "../helpers/fault-sweep.js";

const full = process.env.TUNIX_RT_FAULTS_FULL === "1";
const logMb = full ? 100 : 8;

const tally = { injected: 0, handled: 0, lost: 0, missed: [] as string[] };
/** Counts one injected fault, handled when `check` holds (and the test asserts it too). */
function fault(name: string, handled: boolean) {
  tally.injected++;
  if (handled) tally.handled++;
  else tally.missed.push(name);
  expect(handled, `fault ${name} was not handled as specified`).toBe(true);
}

afterAll(() => {
  const line = `faults: ${tally.injected} injected, ${tally.handled} handled as specified, ${tally.lost} completed trials lost${tally.missed.length ? ` (not handled: ${tally.missed.join(", ")})` : ""}`;
  console.log(line);
});

type Trial = {
  trial_id: string;
  params: Record<string, unknown>;
  status: string;
  primary_score: number | null;
  error: string | null;
  note?: string;
  rows?: number;
  counted?: number;
};

describe("fault injection", { timeout: 120_000 }, () => {
  let dir: string;
  let trials: Trial[];

  it("runs one sweep that meets every trainer fault, and finishes with the best of the rest", async () => {
    dir = await tempDir("tunix-rt-faults-");
    const faults = [
      "ok",
      "exit3",
      "signal",
      "hang",
      "no-predictions",
      "malformed",
      "truncated",
      "partial",
      "duplicate",
      "extra-id",
      "rows-nonnumeric",
      "rows-out-of-range",
      "big-log",
      "leak-secret",
    ];
    await writeFaultConfig(dir, {
      faults,
      timeoutMinutes: 0.05,
      extra: `  env: {HF_TOKEN_FILE_HINT: "x"}\n`,
    });
    // The flood size is a parameter the fault trainer reads from its params file.
    const config = (await readFile(path.join(dir, "sweep.yaml"), "utf8")).replace(
      "  quality: {type: choice, values: [1]}",
      `  quality: {type: choice, values: [1]}\n  log_mb: {type: choice, values: [${logMb}]}`,
    );
    await writeFile(path.join(dir, "sweep.yaml"), config);
    const secret = `hf_${"s3cr3tT0k3n".repeat(4)}`;
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "2"], {
      cwd: dir,
      env: { HF_TOKEN: secret },
    });
    expect(r.stderr).not.toContain("internal error");
    expect(r.code).toBe(0);
    trials = await readJsonl(path.join(dir, "submission_runs/fault_v1/trials.jsonl"));
    const of = (f: string) => trials.find((t) => t.params.fault === f) as Trial;
    fault(
      "non-zero exit",
      of("exit3").status === "failed" && /exited with code 3/.test(of("exit3").error ?? ""),
    );
    fault("killed by a signal", of("signal").status === "failed" && /SIGKILL/.test(of("signal").error ?? ""));
    fault("hangs past its timeout with a child", of("hang").status === "timeout");
    fault(
      "exits 0 without predictions",
      of("no-predictions").status === "failed" &&
        /no predictions\.jsonl/.test(of("no-predictions").error ?? ""),
    );
    fault(
      "malformed predictions",
      of("malformed").status === "failed" && /3 malformed lines/.test(of("malformed").error ?? ""),
    );
    fault(
      "partial last line",
      of("truncated").status === "failed" && /malformed/.test(of("truncated").error ?? ""),
    );
    fault("missing predictions", of("partial").status === "completed" && of("partial").primary_score === 0.5);
    fault(
      "duplicated predictions",
      of("duplicate").status === "failed" && /duplicated id/.test(of("duplicate").error ?? ""),
    );
    fault(
      "extra-id predictions",
      of("extra-id").status === "completed" &&
        of("extra-id").primary_score === 1 &&
        of("extra-id").error === null &&
        /not in the evalset/.test(of("extra-id").note ?? ""),
    );
    fault(
      "non-numeric metrics in eval_rows",
      of("rows-nonnumeric").status === "completed" &&
        of("rows-nonnumeric").counted === 5 &&
        of("rows-nonnumeric").primary_score === 1,
    );
    fault(
      "out-of-range metrics in eval_rows",
      of("rows-out-of-range").status === "completed" &&
        of("rows-out-of-range").counted === 5 &&
        of("rows-out-of-range").primary_score === 0.5,
    );
    fault(`${logMb} MB of log output`, of("big-log").status === "completed");
    const best = JSON.parse(
      await readFile(path.join(dir, "submission_runs/fault_v1/best_params.json"), "utf8"),
    );
    expect(best.primary_score).toBe(1);
    // The secret printed by a trainer never reaches evidence or the zip.
    const evidence = await Promise.all(
      (await readdir(path.join(dir, "submission_runs/fault_v1"), { recursive: true, withFileTypes: true }))
        .filter((f) => f.isFile())
        .map((f) => readFile(path.join(f.parentPath, f.name), "utf8")),
    );
    const zips = await readdir(path.join(dir, "submission"));
    const zipText = (await readFile(path.join(dir, "submission", zips[0] as string))).toString("latin1");
    const leak = trials.find((t) => t.params.fault === "leak-secret") as Trial;
    const trialLog = await readFile(
      path.join(dir, "runs/fault_v1/trials", leak.trial_id, "output.log"),
      "utf8",
    );
    fault(
      "secret printed by a trainer",
      !evidence.some((text) => text.includes(secret) || text.includes(`ghp_${"A".repeat(36)}`)) &&
        !zipText.includes(secret) &&
        !trialLog.includes(secret) &&
        trialLog.includes("token=***") &&
        ![...evidence, zipText, trialLog].some((text) => text.includes("keyBodyLine")),
    );
    // Every completed trial's record is in the evidence.
    const records = await Promise.all(
      trials.map(async (t) =>
        JSON.parse(await readFile(path.join(dir, "runs/fault_v1/trials", t.trial_id, "trial.json"), "utf8")),
      ),
    );
    tally.lost += records.filter(
      (rec) =>
        rec.status === "completed" &&
        !trials.some((t) => t.trial_id === rec.trial_id && t.status === "completed"),
    ).length;
  });

  it("names a trainer binary that is missing or not executable, and an unwritable output folder", async () => {
    const base = await tempDir("tunix-rt-spawn-");
    await writeFile(path.join(base, "evalset.jsonl"), `${evalsetText()}\n`);
    const script = path.join(base, "train.sh");
    await writeFile(script, "#!/bin/sh\nexit 0\n");
    await chmod(script, 0o644);
    const configFor = (command: string[]) => {
      const r = validateConfig(
        {
          evalset: path.join(base, "evalset.jsonl"),
          search_space: { x: { type: "choice", values: [1] } },
          trainer: { command },
        },
        "c.yaml",
        { trainer: true },
      );
      if (!r.ok) throw new Error("bad config");
      return r.value;
    };
    const trial = {
      sweep_id: "22222222-2222-4222-8222-222222222222",
      trial_id: "t0000",
      seed: 1,
      params: { x: 1 },
    };
    const missing = await runTrial({
      config: configFor(["/nonexistent/trainer"]),
      trial,
      outDir: path.join(base, "a"),
      cwd: base,
      env: process.env,
    });
    fault("trainer binary not found", missing.status === "failed" && /not found/.test(missing.error ?? ""));
    const noexec = await runTrial({
      config: configFor([script]),
      trial,
      outDir: path.join(base, "b"),
      cwd: base,
      env: process.env,
    });
    fault("trainer not executable", noexec.status === "failed" && /not executable/.test(noexec.error ?? ""));
    await writeFile(path.join(base, "taken"), "a file, not a folder");
    const config = path.join(base, "c.yaml");
    await writeFile(
      config,
      JSON.stringify({
        evalset: "evalset.jsonl",
        search_space: { x: { type: "choice", values: [1] } },
        trainer: { command: ["node", faultTrainer] },
      }),
    );
    const r = await runCli(
      [
        "trial",
        "--config",
        config,
        "--trial",
        JSON.stringify(trial),
        "--out",
        path.join(base, "taken", "t0000"),
      ],
      { cwd: base },
    );
    fault(
      "output folder not writable",
      r.code === 2 && /not writable/.test(r.stderr) && r.stderr.trim().split("\n").length === 1,
    );
  });

  it("aggregates through a missing artifact, a truncated record, another sweep's record and a duplicate", async () => {
    const sweep = JSON.parse(await readFile(path.join(dir, "runs/fault_v1/sweep.json"), "utf8"));
    const plan = sweep.plan;
    await writeFile(path.join(dir, "plan.json"), JSON.stringify(plan));
    const artifacts = path.join(dir, "artifacts");
    for (const t of plan.trials) {
      await cp(
        path.join(dir, "runs/fault_v1/trials", t.trial_id),
        path.join(artifacts, `tunix-rt-trial-${plan.sweep_id}-${t.trial_id}`),
        { recursive: true },
      );
    }
    const art = (id: string) => path.join(artifacts, `tunix-rt-trial-${plan.sweep_id}-${id}`);
    const ok = trials.find((t) => t.params.fault === "ok") as Trial;
    const partial = trials.find((t) => t.params.fault === "partial") as Trial;
    const exit3 = trials.find((t) => t.params.fault === "exit3") as Trial;
    const signal = trials.find((t) => t.params.fault === "signal") as Trial;
    // Missing artifact of a failed trial; truncated record of another failed one.
    await rm(art(exit3.trial_id), { recursive: true });
    const truncated = await readFile(path.join(art(signal.trial_id), "trial.json"), "utf8");
    await writeFile(path.join(art(signal.trial_id), "trial.json"), truncated.slice(0, truncated.length / 2));
    // A record from another sweep that would otherwise win.
    const foreign = path.join(artifacts, "tunix-rt-trial-other-t0999");
    await cp(art(ok.trial_id), foreign, { recursive: true });
    const rec = JSON.parse(await readFile(path.join(foreign, "trial.json"), "utf8"));
    await writeFile(
      path.join(foreign, "trial.json"),
      JSON.stringify({
        ...rec,
        trial_id: "t0999",
        sweep_id: "33333333-3333-4333-8333-333333333333",
        primary_score: 1,
      }),
    );
    // Two records with one trial id: an earlier failed attempt beside the completed one.
    const dup = path.join(artifacts, "attempt-1", partial.trial_id);
    await cp(art(partial.trial_id), dup, { recursive: true });
    const prec = JSON.parse(await readFile(path.join(dup, "trial.json"), "utf8"));
    await writeFile(
      path.join(dup, "trial.json"),
      JSON.stringify({
        ...prec,
        status: "failed",
        primary_score: null,
        finished_at: "2000-01-01T00:00:00.000Z",
      }),
    );

    const r = await runCli(
      [
        "aggregate",
        "--config",
        "sweep.yaml",
        "--trials",
        "artifacts",
        "--plan",
        "plan.json",
        "--run-dir",
        "out/fault_v1",
        "--best-config",
        "out/best.yaml",
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const agg: Trial[] = await readJsonl(path.join(dir, "out/fault_v1/trials.jsonl"));
    const find = (id: string) => agg.find((t) => t.trial_id === id);
    fault(
      "missing trial artifact",
      find(exit3.trial_id)?.status === "failed" &&
        /no trial record/.test(find(exit3.trial_id)?.error ?? "") &&
        /planned trial has no record/.test(r.stderr),
    );
    fault("truncated trial.json", /truncated/.test(r.stderr) && find(signal.trial_id)?.status === "failed");
    fault("record from another sweep", find("t0999") === undefined && /another sweep/.test(r.stderr));
    fault(
      "two records with one trial id",
      find(partial.trial_id)?.status === "completed" && /second record/.test(r.stderr),
    );
    expect(agg).toHaveLength(plan.trials.length);
    // Completed trials with intact records all made it.
    const intact = trials.filter((t) => t.status === "completed");
    tally.lost += intact.filter((t) => find(t.trial_id)?.status !== "completed").length;
    expect((await runCli(["verify", "out/fault_v1"], { cwd: dir })).code).toBe(0);
  });

  it("loses no completed trial", () => {
    expect(tally.lost).toBe(0);
    expect(tally.injected).toBeGreaterThanOrEqual(19);
  });
});
