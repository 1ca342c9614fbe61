import { describe, expect, it } from "vitest";
import { cliBin, interruptCli, runCli, runProcess, tempDir } from "./helpers/cli.js";
import { writeFaultConfig } from "./helpers/fault-sweep.js";

/** Heartbeats every 0.2 s; the metrics trainer runs about 2 s (20 steps of 100 ms). */
const liveEnv = { TUNIX_RT_HEARTBEAT_S: "0.2", FAULT_METRICS_STEPS: "20", FAULT_METRICS_MS: "100" };
const heartbeat = /^\[0\/1 done, 1 running, 0 left\] best –: t0000 running \d+s, step (\d+) loss=[\d.]+$/gm;

describe("sweep progress, live", () => {
  it("shows a running trial's last metrics.jsonl step and loss in the heartbeat lines", async () => {
    const dir = await tempDir("tunix-rt-live-");
    await writeFaultConfig(dir, { faults: ["metrics"], timeoutMinutes: 1 });
    const r = await runCli(["sweep", "--config", "sweep.yaml"], { cwd: dir, env: liveEnv });
    expect(r.code).toBe(0);
    const steps = [...r.stderr.matchAll(heartbeat)].map((m) => Number(m[1]));
    expect(steps.length).toBeGreaterThan(1);
    // Steps only go up, on the trainer's grid (a half-written line was never read).
    expect(steps.every((s, i) => s % 10 === 0 && s >= (steps[i - 1] ?? 0))).toBe(true);
    // No heartbeat after the trial finished, and no ETA before it.
    const lines = r.stderr.split("\n");
    const finished = lines.findIndex((l) => l.startsWith("t0000 completed"));
    expect(finished).toBeGreaterThan(0);
    expect(lines.slice(finished).some((l) => l.startsWith("["))).toBe(false);
    expect(r.stderr).not.toContain("ETA");
  });

  it("--follow streams trainer output prefixed with the trial id, and a printed secret never reaches the terminal", async () => {
    const dir = await tempDir("tunix-rt-follow-");
    await writeFaultConfig(dir, { faults: ["leak-secret", "ok"], timeoutMinutes: 1 });
    const secret = `hf_${"s3cr3tT0k3n".repeat(4)}`;
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--follow", "--parallel", "1"], {
      cwd: dir,
      env: { HF_TOKEN: secret },
    });
    expect(r.code).toBe(0);
    const all = r.stdout + r.stderr;
    const leak = r.stderr.match(/^(t\d{4}) started .*fault=leak-secret/m)?.[1];
    const ok = r.stderr.match(/^(t\d{4}) started .*fault=ok/m)?.[1];
    expect(r.stderr).toContain(`[${leak}] fault trainer: leak-secret, trial ${leak}\n`);
    expect(r.stderr).toContain(`[${leak}] token=*** and ***\n`);
    expect(r.stderr).toContain(`[${ok}] fault trainer: ok, trial ${ok}\n`);
    expect(all).not.toContain(secret);
    expect(all).not.toContain("ghp_");
    expect(all).not.toContain("keyBodyLine");
    // Without --follow the trainers' output stays in output.log.
    const quiet = await runCli(["sweep", "--config", "sweep.yaml", "--fresh", "--clean-old"], {
      cwd: dir,
      env: { HF_TOKEN: secret },
    });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain("fault trainer:");
  });

  it("keeps going under `2>&1 | head -1` with --follow and heartbeats: exit 0, no EPIPE", async () => {
    const dir = await tempDir("tunix-rt-live-head-");
    await writeFaultConfig(dir, { faults: ["metrics"], timeoutMinutes: 1 });
    const script = `"${process.execPath}" "${cliBin}" sweep --config sweep.yaml --follow 2>&1 | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`;
    const r = await runProcess(["bash", "-c", script], { cwd: dir, env: { ...process.env, ...liveEnv } });
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toContain("exit=0");
    expect(r.stderr).not.toMatch(/EPIPE|internal error|at .*\.js:\d+/);
  });

  it("stops its heartbeat on Ctrl-C: exit 130, nothing after the interrupted line", async () => {
    const dir = await tempDir("tunix-rt-live-int-");
    await writeFaultConfig(dir, { faults: ["metrics"], timeoutMinutes: 1 });
    const {
      code,
      stderr: err,
      sent,
    } = await interruptCli(["sweep", "--config", "sweep.yaml", "--follow"], {
      cwd: dir,
      env: { ...liveEnv, FAULT_METRICS_STEPS: "600" },
      when: (stderr) => /^\[0\/1 done.*step \d+/m.test(stderr),
    });
    expect(sent).toBe(true);
    expect(code).toBe(130);
    const lines = err.trimEnd().split("\n");
    expect(lines.at(-1)).toMatch(/^tunix-rt sweep: interrupted;/);
    // The trial's own end is reported, then no heartbeat and no trainer line follow.
    const stopped = lines.findIndex((l) => /^t0000 failed .*interrupted/.test(l));
    expect(stopped).toBeGreaterThan(0);
    expect(lines.slice(stopped + 1, -1)).toEqual([]);
  });

  it("documents --follow and the heartbeat in --help, and refuses a bad TUNIX_RT_HEARTBEAT_S", async () => {
    const help = await runCli(["sweep", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--follow\s+stream the running trials' output/);
    expect(help.stdout).toContain("TUNIX_RT_HEARTBEAT_S");
    expect(help.stdout).toContain("metrics.jsonl");
    const dir = await tempDir("tunix-rt-live-bad-");
    await writeFaultConfig(dir, { faults: ["ok"] });
    const bad = await runCli(["sweep", "--config", "sweep.yaml"], {
      cwd: dir,
      env: { TUNIX_RT_HEARTBEAT_S: "0" },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TUNIX_RT_HEARTBEAT_S: got "0"; expected seconds');
  });
});
