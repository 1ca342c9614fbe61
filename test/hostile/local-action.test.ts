/**
 * verify-evidence, from its source, under GitHub's local-action harness (which stubs
 * @actions/core as the runner reads its commands), on the hostile folder: the findings of the
 * attack at once. Its outputs say invalid, the status evidence.yml posts from them is
 * failure, it ends well within the step's timeout, and every line of its stdout that starts
 * with `::` is a command the action itself wrote.
 */
import { execFileSync } from "node:child_process";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { evidenceWorkflow } from "../../src/core/workflows/evidence.js";
import { runLocalAction } from "../actions/helpers.js";
import { tempDir } from "../helpers/cli.js";
import { evidence, linesOf, referenceRepo, writeHostileFolder } from "./helpers.js";

let work: string;
let repo: string;
beforeAll(async () => {
  work = await tempDir("tunix-rt-hostile-local-");
  repo = await referenceRepo("tunix-rt-hostile-folder-");
  await writeHostileFolder(repo);
}, 60_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  if (repo) await rm(repo, { recursive: true, force: true });
});

/**
 * The commands the action writes itself, as local-action's stand-in for @actions/core prints
 * them (core.info as `::info::`, outputs as `::set-output`).
 */
const ownCommand =
  /^::(?:set-output name=[a-z-]+|info|debug|error(?: title=tunix-rt verify(?:,file=[^,:]*(?:,line=\d+(?:,endLine=\d+)?)?)?)?)::/;

describe("verify-evidence on the hostile folder, under local-action", () => {
  it("says invalid in its outputs, and the status evidence.yml posts from them is failure, within the step's time", async () => {
    const envFile = path.join(work, "verify.env");
    await writeFile(envFile, `INPUT_PATH=${evidence}\nINPUT_PROFILE=default\nINPUT_WORKING-DIRECTORY=.\n`);
    const started = Date.now();
    const step = await runLocalAction(
      "actions/verify-evidence",
      "../../src/actions/verify-evidence/main.ts",
      envFile,
      {
        workspace: repo,
      },
    );
    const seconds = (Date.now() - started) / 1000;
    // The generated check gives the step 10 minutes; the whole run took a fraction of it.
    const check = parse(evidenceWorkflow({ header: "", name: "evidence", actions: { kind: "local" } })) as {
      jobs: {
        verify: {
          steps: Array<{
            id?: string;
            "timeout-minutes"?: number;
            run?: string;
            env?: Record<string, string>;
          }>;
        };
      };
    };
    const steps = check.jobs.verify.steps;
    const limit = (steps.find((s) => s.id === "verify")?.["timeout-minutes"] ?? 0) * 60;
    expect(seconds).toBeLessThan(limit / 5);
    expect(step.outputs).toMatchObject({ valid: "false", verdict: "invalid" });
    expect(Number(step.outputs.problems)).toBeGreaterThan(5);
    expect(step.errors.at(-1)?.message).toContain("the evidence does not verify");

    // No forged command: every line starting with :: is the action's own.
    const strays = linesOf(step.stdout).filter((l) => l.startsWith("::") && !ownCommand.test(l));
    expect(strays).toEqual([]);
    expect(step.stdout).not.toMatch(/^::(warning|add-mask|stop-commands)::/m);
    // The forged commands are there, on lines of the action's own.
    expect(step.stdout).toMatch(/\S::warning::forged by evidence/);

    // The status step of evidence.yml, run as written, with `gh` recording what it posts.
    const status = steps.find((s) => s.run?.includes("gh api"));
    const bin = path.join(work, "bin");
    await mkdir(bin, { recursive: true });
    await writeFile(
      path.join(bin, "gh"),
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${path.join(work, "posted")}"\n`,
    );
    await chmod(path.join(bin, "gh"), 0o755);
    execFileSync("bash", ["-e", "-c", status?.run as string], {
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        REPOSITORY: "octo/tuning",
        HEAD_SHA: "b".repeat(40),
        OUTCOME: step.code === 0 ? "success" : "failure",
        VERDICT: step.outputs.verdict ?? "",
        DESCRIPTION: step.outputs.description ?? "",
        RUN_URL: "https://github.com/octo/tuning/actions/runs/1",
        CHECK_NAME: "tunix-rt / verify-evidence",
      },
    });
    const posted = (await readFile(path.join(work, "posted"), "utf8")).split("\n");
    expect(posted).toContain("state=failure");
    expect(posted.find((a) => a.startsWith("description="))).toMatch(
      /^description=\d+ problems in the evidence of /,
    );
  }, 120_000);
});
