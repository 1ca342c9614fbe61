import { chmod, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "./helpers/cli.js";
import { writeFaultConfig } from "./helpers/fault-sweep.js";

describe("checks before GPU time is spent (validate, sweep --dry-run)", () => {
  it("prints the first trial's argv and env with secrets masked, and runs nothing", async () => {
    const dir = await tempDir("tunix-rt-validate-");
    await writeFaultConfig(dir, {
      faults: ["ok"],
      extra: '  env: {HF_TOKEN: "hf_abcdefghijklmnopqrstuvwxyz0123456789", MODE: "fast-{trial_id}"}',
    });
    const r = await runCli(["validate", "--config", "sweep.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("evalset: 6 items");
    expect(r.stdout).toContain("TUNIX_RT_TRIAL_ID=t0000");
    expect(r.stdout).toContain("MODE=fast-t0000");
    expect(r.stdout).toContain("HF_TOKEN=***");
    expect(r.stdout).not.toContain("hf_abcdefghij");
    const dry = await runCli(["sweep", "--config", "sweep.yaml", "--dry-run"], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('argv: ["node"');
    await expect(import("node:fs/promises").then((fs) => fs.stat(path.join(dir, "runs")))).rejects.toThrow();
  });

  it("names a trainer that is missing or not executable, and an unreadable evalset, with exit 2", async () => {
    const dir = await tempDir("tunix-rt-validate-");
    await writeFile(path.join(dir, "train.sh"), "#!/bin/sh\n");
    await chmod(path.join(dir, "train.sh"), 0o644);
    const config = (command: string, evalset: string) =>
      writeFile(
        path.join(dir, "c.yaml"),
        `evalset: ${evalset}\nsearch_space:\n  x: {type: uniform, min: 0, max: 1}\ntrainer:\n  command: [${command}, "{x}"]\n`,
      );
    await writeFile(path.join(dir, "e.jsonl"), '{"id": "a", "prompt": "p", "expected_answer": "1"}\n');
    await config("./train.sh", "e.jsonl");
    let r = await runCli(["validate", "--config", "c.yaml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/c\.yaml: trainer\.command\.0: .*train\.sh is not executable/);
    await config("no-such-trainer-program", "e.jsonl");
    r = await runCli(["sweep", "--config", "c.yaml", "--dry-run"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"no-such-trainer-program" is not on PATH');
    await config("node", "missing.jsonl");
    r = await runCli(["validate", "--config", "c.yaml"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("c.yaml: evalset: missing.jsonl: cannot read: no such file or directory");
  });
});
