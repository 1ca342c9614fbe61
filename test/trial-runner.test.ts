import { readFileSync } from "node:fs";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { validateConfig } from "../src/core/config/config.js";
import { runTrial } from "../src/runtime/trial.js";
import { runCli, tempDir } from "./helpers/cli.js";
import { evalsetText, faultTrainer } from "./helpers/fault-sweep.js";

async function setup(
  fault: string,
  { timeoutMinutes = 0.05, command }: { timeoutMinutes?: number; command?: string[] } = {},
) {
  const dir = await tempDir();
  await writeFile(path.join(dir, "evalset.jsonl"), `${evalsetText()}\n`);
  const raw = {
    evalset: path.join(dir, "evalset.jsonl"),
    search_space: { fault: { type: "choice", values: [fault] } },
    trainer: {
      command: command ?? ["node", faultTrainer, "--trial", "{trial_id}"],
      timeout_minutes: timeoutMinutes,
    },
  };
  const result = validateConfig(raw, "test.yaml", { trainer: true });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const trial = {
    sweep_id: "11111111-1111-4111-8111-111111111111",
    trial_id: "t0000",
    seed: 5,
    params: { fault },
  };
  return { dir, config: result.value, trial, outDir: path.join(dir, "t0000") };
}

/** Whether a process still runs (a zombie left for a non-reaping init counts as ended). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
};

describe("trial runner with real trainer processes", () => {
  it("completes a good trial: contract env, log, graded rows, record", async () => {
    const s = await setup("ok");
    const record = await runTrial({ ...s, cwd: s.dir, env: process.env });
    expect(record.status).toBe("completed");
    expect(record.primary_score).toBe(1);
    expect(record.command).toEqual(["node", faultTrainer, "--trial", "t0000"]);
    const saved = JSON.parse(await readFile(path.join(s.outDir, "trial.json"), "utf8"));
    expect(saved).toMatchObject({
      trial_id: "t0000",
      status: "completed",
      primary_score: 1,
      sweep_id: s.trial.sweep_id,
      seed: 5,
      exit_code: 0,
    });
    expect(await readFile(path.join(s.outDir, "output.log"), "utf8")).toContain(
      "fault trainer: ok, trial t0000",
    );
    const rows = (await readFile(path.join(s.outDir, "eval_rows.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(6);
    expect(rows[0]).toMatchObject({
      id: "q0",
      expected_answer: "0",
      metrics: { answer_correctness: 1 },
      score: 100,
    });
  });

  it("records a crash with its exit code", async () => {
    const s = await setup("exit3");
    const record = await runTrial({ ...s, cwd: s.dir, env: process.env });
    expect(record).toMatchObject({ status: "failed", exit_code: 3, primary_score: null });
    expect(record.error).toContain("exited with code 3");
  });

  it("records a kill by a signal", async () => {
    const s = await setup("signal");
    const record = await runTrial({ ...s, cwd: s.dir, env: process.env });
    expect(record).toMatchObject({ status: "failed", signal: "SIGKILL" });
    expect(record.error).toContain("SIGKILL");
  });

  it("stops a hanging trainer and the child it spawned at the timeout", async () => {
    const s = await setup("hang", { timeoutMinutes: 0.02 });
    const record = await runTrial({ ...s, cwd: s.dir, env: process.env, graceMs: 500 });
    expect(record.status).toBe("timeout");
    expect(record.error).toContain("timed out");
    const childPid = Number(await readFile(path.join(s.outDir, "child.pid"), "utf8"));
    expect(childPid).toBeGreaterThan(0);
    expect(alive(childPid)).toBe(false);
  });

  it("escalates to SIGKILL when a trainer ignores SIGTERM", async () => {
    const s = await setup("ignore-term", { timeoutMinutes: 0.02 });
    const record = await runTrial({ ...s, cwd: s.dir, env: process.env, graceMs: 300 });
    expect(record).toMatchObject({ status: "timeout", signal: "SIGKILL" });
  });

  it("fails a trial that wrote no predictions", async () => {
    const s = await setup("no-predictions");
    const record = await runTrial({ ...s, cwd: s.dir, env: process.env });
    expect(record.status).toBe("failed");
    expect(record.error).toContain("no predictions.jsonl");
  });

  it("fails malformed predictions with the count and the first line", async () => {
    const s = await setup("malformed");
    const record = await runTrial({ ...s, cwd: s.dir, env: process.env });
    expect(record.status).toBe("failed");
    expect(record.error).toMatch(/3 malformed lines in .*predictions\.jsonl \(first at line 2/);
  });

  it("fails duplicated ids, grades missing ones 0 and ignores extra ones", async () => {
    const dup = await setup("duplicate");
    expect((await runTrial({ ...dup, cwd: dup.dir, env: process.env })).error).toContain("duplicated id");
    const partial = await setup("partial");
    const p = await runTrial({ ...partial, cwd: partial.dir, env: process.env });
    expect(p).toMatchObject({
      status: "completed",
      primary_score: 0.5,
      missing_predictions: 3,
      error: null,
      note: '3 of 6 evalset items had no prediction, graded 0: first "q3"',
    });
    const extra = await setup("extra-id");
    const e = await runTrial({ ...extra, cwd: extra.dir, env: process.env });
    expect(e).toMatchObject({ status: "completed", primary_score: 1, extra_predictions: 1, error: null });
    expect(e.note).toBe('1 prediction id not in the evalset, ignored: "not-in-evalset"');
    const saved = JSON.parse(await readFile(path.join(extra.outDir, "trial.json"), "utf8"));
    expect(saved).toMatchObject({ status: "completed", error: null, note: e.note });
  });

  it("fails a trial whose prediction ids match no evalset item, or mostly none, keeping the counts", async () => {
    const none = await setup("other-ids");
    const n = await runTrial({ ...none, cwd: none.dir, env: process.env });
    expect(n).toMatchObject({
      status: "failed",
      primary_score: null,
      rows: 6,
      counted: 6,
      missing_predictions: 6,
      extra_predictions: 6,
    });
    expect(n.error).toMatch(
      /^6 of 6 prediction ids in .*predictions\.jsonl match no item of .*evalset\.jsonl \(first: "item-0"; its ids look like "q0"\): predictions for another evalset, or ids in another form\?$/,
    );
    const saved = JSON.parse(await readFile(path.join(none.outDir, "trial.json"), "utf8"));
    expect(saved).toMatchObject({ status: "failed", primary_score: null, extra_predictions: 6 });
    const mostly = await setup("mostly-other-ids");
    const m = await runTrial({ ...mostly, cwd: mostly.dir, env: process.env });
    expect(m).toMatchObject({
      status: "failed",
      primary_score: null,
      missing_predictions: 4,
      extra_predictions: 4,
    });
    expect(m.error).toContain("4 of 6 prediction ids in");
    expect(m.error).toContain('(first: "Q2"; its ids look like "q0")');
  });

  it("scores a trainer's own eval_rows.jsonl by the M34 rules", async () => {
    const s = await setup("rows-out-of-range");
    const record = await runTrial({ ...s, cwd: s.dir, env: process.env });
    // Row 0 (answer_correctness 7) is dropped without fallback; the other five are 0.5.
    expect(record).toMatchObject({ status: "completed", primary_score: 0.5, rows: 6, counted: 5 });
  });

  it("names a missing or non-executable trainer program", async () => {
    const missing = await setup("ok", { command: ["definitely-not-a-trainer-xyz"] });
    expect((await runTrial({ ...missing, cwd: missing.dir, env: process.env })).error).toContain("not found");
    const script = path.join(missing.dir, "train.sh");
    await writeFile(script, "#!/bin/sh\necho hi\n");
    await chmod(script, 0o644);
    const noexec = await setup("ok", { command: [script] });
    const record = await runTrial({ ...noexec, cwd: noexec.dir, env: process.env });
    expect(record.status).toBe("failed");
    expect(record.error).toContain("not executable");
  });

  it("keeps the log bounded when a trainer floods its output", async () => {
    const s = await setup("big-log");
    await writeFile(path.join(s.dir, "p.json"), "{}");
    const record = await runTrial({
      ...s,
      trial: { ...s.trial, params: { fault: "big-log" } },
      cwd: s.dir,
      env: process.env,
    });
    expect(record.status).toBe("completed");
    const size = (await stat(path.join(s.outDir, "output.log"))).size;
    expect(size).toBeLessThan(10 * 1024 * 1024);
    expect(await readFile(path.join(s.outDir, "output.log"), "utf8")).toContain(
      "bytes of output left out here",
    );
  });

  it("tunix-rt trial exits 2 when the trial folder is not writable", async () => {
    const s = await setup("ok");
    const config = path.join(s.dir, "c.yaml");
    await writeFile(
      config,
      JSON.stringify({
        evalset: s.config.evalset,
        search_space: s.config.search_space,
        trainer: { command: ["node", faultTrainer] },
      }),
    );
    const blocked = path.join(s.dir, "blocked");
    await mkdir(blocked);
    await writeFile(path.join(blocked, "t0000"), "a file where the folder should be");
    const r = await runCli([
      "trial",
      "--config",
      config,
      "--trial",
      JSON.stringify(s.trial),
      "--out",
      path.join(blocked, "t0000"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("not writable");
  });

  it("tunix-rt trial runs a matrix entry and exits 1 for a failed trial", async () => {
    const s = await setup("exit3");
    const config = path.join(s.dir, "c.yaml");
    await writeFile(
      config,
      JSON.stringify({
        evalset: s.config.evalset,
        search_space: { fault: { type: "choice", values: ["ok", "exit3"] } },
        trainer: { command: ["node", faultTrainer] },
      }),
    );
    const ok = await runCli([
      "trial",
      "--config",
      config,
      "--trial",
      JSON.stringify({ ...s.trial, params: { fault: "ok" } }),
      "--out",
      path.join(s.dir, "a"),
      "--json",
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: "completed", primary_score: 1 });
    const bad = await runCli([
      "trial",
      "--config",
      config,
      "--trial",
      JSON.stringify({ ...s.trial, params: { fault: "exit3" } }),
      "--out",
      path.join(s.dir, "b"),
    ]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(await readFile(path.join(s.dir, "b", "trial.json"), "utf8")).status).toBe("failed");
    const wrong = await runCli([
      "trial",
      "--config",
      config,
      "--trial",
      JSON.stringify({ ...s.trial, params: { fault: "nope" } }),
      "--out",
      path.join(s.dir, "c"),
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("params.fault");
  });

  it("echoes the trainer's output as whole lines, redacted like output.log (echoLines)", async () => {
    const s = await setup("leak-secret");
    const secret = `hf_${"s3cr3tT0k3n".repeat(4)}`;
    const echoed: string[] = [];
    const record = await runTrial({
      ...s,
      cwd: s.dir,
      env: { ...process.env, HF_TOKEN: secret },
      echoLines: (line) => echoed.push(line),
    });
    expect(record.status).toBe("completed");
    expect(echoed).toContain("token=*** and ***");
    expect(echoed).toContain("fault trainer: leak-secret, trial t0000");
    const text = echoed.join("\n");
    expect(text).not.toContain(secret);
    expect(text).not.toContain("ghp_");
    expect(text).not.toContain("keyBodyLine");
    // The same lines as the redacted log, in the same order.
    const log = (await readFile(path.join(s.outDir, "output.log"), "utf8")).split("\n").filter(Boolean);
    expect(echoed.filter(Boolean)).toEqual(log);
  });
});
