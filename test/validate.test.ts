import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planArgvChecks } from "../src/runtime/preflight.js";
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

  it("checks the script after a launcher module and the path in --flag=path, not a module name", async () => {
    const dir = await tempDir("tunix-rt-validate-");
    // A stand-in python3, so the argv is checked whatever python this machine has.
    await mkdir(path.join(dir, "bin"));
    await writeFile(path.join(dir, "bin/python3"), "#!/bin/sh\n");
    await chmod(path.join(dir, "bin/python3"), 0o755);
    await mkdir(path.join(dir, "scripts"));
    await writeFile(path.join(dir, "scripts/train.py"), "");
    await mkdir(path.join(dir, "data"));
    await writeFile(path.join(dir, "data/train.jsonl"), "");
    await writeFile(path.join(dir, "e.jsonl"), '{"id": "a", "prompt": "p", "expected_answer": "1"}\n');
    const config = (command: string[]) =>
      writeFile(
        path.join(dir, "c.yaml"),
        `evalset: e.jsonl\nsearch_space:\n  x: {type: uniform, min: 0, max: 1}\ntrainer:\n  command: ${JSON.stringify([...command, "--x", "{x}"])}\n`,
      );
    const launch = ["./bin/python3", "-m", "torch.distributed.run", "--nproc_per_node", "2"];

    // A misspelt script after `python -m torch.distributed.run` is an error, as after torchrun.
    await config([...launch, "scripts/trian.py"]);
    for (const args of [["validate"], ["sweep", "--dry-run"]]) {
      const r = await runCli([...args, "--config", "c.yaml"], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `c.yaml: trainer.command.5: scripts/trian.py does not exist (the script python3 runs; paths are relative to the repository root ${dir})`,
      );
    }

    // The files that exist pass: the script, and the dataset given as --data=path.
    await config([...launch, "scripts/train.py", "--data=data/train.jsonl"]);
    let r = await runCli(["validate", "--config", "c.yaml"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);

    // A missing dataset given as --data=path gets the note a bare path gets; the run goes on.
    await config([...launch, "scripts/train.py", "--data=data/trian.jsonl", "data/tset.jsonl"]);
    r = await runCli(["validate", "--config", "c.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "tunix-rt validate: note: c.yaml: trainer.command.6: data/trian.jsonl does not exist in the repository (fine if the trainer writes it)",
    );
    expect(r.stderr).toContain("c.yaml: trainer.command.7: data/tset.jsonl does not exist in the repository");

    // A module that is not a launcher runs no script: its name is not a path, and a script
    // its arguments name is only noted.
    await config(["./bin/python3", "-m", "training.train_yaml", "--config=configs/run.yaml", "x/tool.py"]);
    r = await runCli(["validate", "--config", "c.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("training.train_yaml");
    expect(r.stderr).toContain("trainer.command.3: configs/run.yaml does not exist in the repository");
    expect(r.stderr).toContain("trainer.command.4: x/tool.py does not exist in the repository");
  });
});

describe("planArgvChecks", () => {
  it("takes the first argument with a script's extension after a launcher's options for the script", () => {
    expect(
      planArgvChecks(["python3", "-m", "torch.distributed.run", "--nproc_per_node", "8", "train.py"]),
    ).toEqual([{ index: 5, path: "train.py", kind: "script" }]);
    expect(
      planArgvChecks(["python", "-u", "-maccelerate.commands.launch", "--config_file", "a/b", "t.py"]),
    ).toEqual([{ index: 5, path: "t.py", kind: "script" }]);
    // An option's value that looks like a folder is not the script of a launcher.
    expect(planArgvChecks(["torchrun", "--log_dir", "logs/run", "train.py"])).toEqual([
      { index: 3, path: "train.py", kind: "script" },
    ]);
    // A plain interpreter's first argument is its script, extension or not.
    expect(planArgvChecks(["python", "tools/train"])).toEqual([
      { index: 1, path: "tools/train", kind: "script" },
    ]);
  });

  it("names no script for a module, inline code, or a launcher running a module", () => {
    expect(planArgvChecks(["python", "-m", "training.train", "--lr", "{lr}"])).toEqual([]);
    expect(planArgvChecks(["python", "-m", "pkg.data.csv"])).toEqual([]);
    expect(planArgvChecks(["python", "-c", "print(1)", "x.py"])).toEqual([
      { index: 3, path: "x.py", kind: "input" },
    ]);
    expect(planArgvChecks(["python", "-m", "torch.distributed.run", "-m", "training.train"])).toEqual([]);
  });

  it("checks --flag=path values like bare paths, skipping placeholders, URLs and paths outside the repository", () => {
    expect(
      planArgvChecks([
        "python",
        "train.py",
        "--data=data/x.jsonl",
        "--cfg=configs/a.yaml",
        "--out={output_dir}/p.json",
        "--remote=s3://bucket/x.jsonl",
        "--abs=/tmp/x.json",
        "--up=../x.json",
        "--lr=1e-4",
        "--name=run.v2",
      ]),
    ).toEqual([
      { index: 1, path: "train.py", kind: "script" },
      { index: 2, path: "data/x.jsonl", kind: "input" },
      { index: 3, path: "configs/a.yaml", kind: "input" },
    ]);
  });
});
