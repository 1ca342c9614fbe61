import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ArtifactClientLike,
  type ArtifactSummary,
  downloadSweepArtifacts,
  trialArtifactName,
  uploadTrialArtifact,
} from "../../src/github/artifacts.js";
import { testToken } from "./helpers.js";
import { RestStandIn } from "./stand-in/server.js";
import { zipFolder, zipOf } from "./stand-in/zip.js";

const sweep = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const runId = 4242;

let standIn: RestStandIn;
let client: ArtifactClientLike;
let tmp: string;
const savedEnv = {
  GITHUB_API_URL: process.env.GITHUB_API_URL,
  GITHUB_SERVER_URL: process.env.GITHUB_SERVER_URL,
};

beforeAll(async () => {
  standIn = await RestStandIn.start();
  tmp = await mkdtemp(path.join(tmpdir(), "tunix-rt-artifacts-"));
  // @actions/github reads GITHUB_API_URL once, when it is first imported: set it, then import.
  process.env.GITHUB_API_URL = standIn.apiUrl;
  delete process.env.GITHUB_SERVER_URL;
  const { DefaultArtifactClient } = await import("@actions/artifact");
  client = new DefaultArtifactClient();
});
afterAll(async () => {
  await standIn.close();
  await rm(tmp, { recursive: true, force: true });
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const record = (trialId: string, status: string) =>
  `${JSON.stringify({ trial_id: trialId, sweep_id: sweep, status, params: {}, primary_score: null })}\n`;

describe("trialArtifactName", () => {
  it("is tunix-rt-trial-<sweep_id>-<trial_id>", () => {
    expect(trialArtifactName(sweep, "t0003")).toBe(`tunix-rt-trial-${sweep}-t0003`);
  });
});

describe("downloadSweepArtifacts (the real @actions/artifact client, public REST endpoints)", () => {
  it("downloads the latest artifact of each of this sweep's trials into dest/<name>/", async () => {
    const repo = standIn.repo();
    const name = (t: string) => trialArtifactName(sweep, t);
    // t0000 as a trial job leaves it: its folder, zipped.
    const folder = path.join(tmp, "t0000-out");
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "trial.json"), record("t0000", "completed"));
    await writeFile(path.join(folder, "output.log"), "step 1\n");
    repo.addArtifact(runId, name("t0000"), await zipFolder(folder));
    // t0001 failed, then "Re-run failed jobs" uploaded a newer artifact of the same name.
    repo.addArtifact(runId, name("t0001"), await zipOf({ "trial.json": record("t0001", "failed") }));
    repo.addArtifact(
      runId,
      name("t0001"),
      await zipOf({ "trial.json": record("t0001", "completed"), "eval_rows.jsonl": '{"id":"q1"}\n' }),
    );
    // Not this sweep's: another sweep, a sweep id that merely starts the same, another run, other names.
    repo.addArtifact(runId, trialArtifactName("another-sweep", "t0000"), await zipOf({ "trial.json": "{}" }));
    repo.addArtifact(runId, `${name("t0002")}-extra`, await zipOf({ "trial.json": "{}" }));
    repo.addArtifact(runId, "coverage-report", await zipOf({ "index.html": "" }));
    repo.addArtifact(runId + 1, name("t0002"), await zipOf({ "trial.json": "{}" }));

    const dest = path.join(tmp, "trials");
    const { downloaded } = await downloadSweepArtifacts(client, {
      sweepId: sweep,
      dest,
      findBy: { token: testToken, workflowRunId: runId, repositoryOwner: "octo", repositoryName: "sweeps" },
    });
    expect(downloaded.map((d) => [d.name, d.trialId])).toEqual([
      [name("t0000"), "t0000"],
      [name("t0001"), "t0001"],
    ]);
    expect(downloaded[1]?.dir).toBe(path.join(dest, name("t0001")));
    expect((await readdir(dest)).sort()).toEqual([name("t0000"), name("t0001")]);
    expect(await readFile(path.join(dest, name("t0001"), "trial.json"), "utf8")).toContain('"completed"');
    expect((await readdir(path.join(dest, name("t0000")))).sort()).toEqual(["output.log", "trial.json"]);
    expect(await readFile(path.join(dest, name("t0001"), "eval_rows.jsonl"), "utf8")).toBe('{"id":"q1"}\n');
    expect(standIn.count("actions/list-workflow-run-artifacts")).toBe(1);
    expect(standIn.count("actions/download-artifact")).toBe(2);
    standIn.assertClean();
  });

  it("no artifact of the sweep: nothing downloaded", async () => {
    const { downloaded } = await downloadSweepArtifacts(client, {
      sweepId: "no-such-sweep",
      dest: path.join(tmp, "none"),
      findBy: { token: testToken, workflowRunId: runId, repositoryOwner: "octo", repositoryName: "sweeps" },
    });
    expect(downloaded).toEqual([]);
    standIn.assertClean();
  });
});

/** A fake client with GitHub's rule: one artifact per name in a run (409 on a second). */
function fakeClient() {
  const stored: Array<ArtifactSummary & { files: string[]; root: string }> = [];
  let id = 0;
  const calls: string[] = [];
  const client: ArtifactClientLike = {
    async uploadArtifact(name, files, rootDirectory) {
      calls.push(`upload ${name}`);
      if (stored.some((a) => a.name === name)) {
        throw new Error(
          "Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run",
        );
      }
      stored.push({ name, id: ++id, files, root: rootDirectory });
      return { id, size: files.length };
    },
    async deleteArtifact(name) {
      calls.push(`delete ${name}`);
      const i = stored.findIndex((a) => a.name === name);
      const [gone] = stored.splice(i, 1);
      return { id: gone?.id ?? 0 };
    },
    async listArtifacts() {
      calls.push("list");
      return { artifacts: stored.map(({ name, id }) => ({ name, id })) };
    },
    async downloadArtifact() {
      return {};
    },
  };
  return { client, stored, calls };
}

describe("uploadTrialArtifact", () => {
  async function trialDir(files: Record<string, string>): Promise<string> {
    const dir = path.join(tmp, `trial-${Math.random().toString(36).slice(2)}`);
    await mkdir(dir, { recursive: true });
    for (const [n, c] of Object.entries(files)) await writeFile(path.join(dir, n), c);
    return dir;
  }

  it("uploads the trial files that exist, relative to the trial folder", async () => {
    const fake = fakeClient();
    const dir = await trialDir({ "trial.json": "{}", "output.log": "log", "notes.tmp": "not a trial file" });
    const result = await uploadTrialArtifact(fake.client, { name: trialArtifactName(sweep, "t0000"), dir });
    expect(result).toEqual({ id: 1, size: 2 });
    expect(fake.stored[0]?.files).toEqual([path.join(dir, "trial.json"), path.join(dir, "output.log")]);
    expect(fake.stored[0]?.root).toBe(dir);
    expect(fake.calls).toEqual([`upload ${trialArtifactName(sweep, "t0000")}`]);
  });

  it("a re-run meets its earlier attempt's artifact: deletes it and uploads again", async () => {
    const fake = fakeClient();
    const name = trialArtifactName(sweep, "t0001");
    await uploadTrialArtifact(fake.client, {
      name,
      dir: await trialDir({ "trial.json": '{"status":"failed"}' }),
    });
    const rerun = await trialDir({ "trial.json": '{"status":"completed"}', "eval_rows.jsonl": "" });
    const result = await uploadTrialArtifact(fake.client, { name, dir: rerun });
    expect(fake.calls).toEqual([
      `upload ${name}`,
      `upload ${name}`,
      "list",
      `delete ${name}`,
      `upload ${name}`,
    ]);
    expect(result.id).toBe(2);
    expect(fake.stored).toHaveLength(1);
    expect(fake.stored[0]?.root).toBe(rerun);
  });

  it("a 409 'already exists' the list does not show: still deleted and uploaded again", async () => {
    const fake = fakeClient();
    const name = trialArtifactName(sweep, "t0002");
    await uploadTrialArtifact(fake.client, { name, dir: await trialDir({ "trial.json": "{}" }) });
    const list = fake.client.listArtifacts;
    fake.client.listArtifacts = async () => ({ artifacts: [] });
    await uploadTrialArtifact(fake.client, { name, dir: await trialDir({ "trial.json": "{}" }) });
    fake.client.listArtifacts = list;
    expect(fake.calls).toEqual([`upload ${name}`, `upload ${name}`, `delete ${name}`, `upload ${name}`]);
    expect(fake.stored).toHaveLength(1);
  });

  it("a failure that is not a duplicate name is reported, nothing deleted", async () => {
    const fake = fakeClient();
    fake.client.uploadArtifact = async () => {
      throw new Error("Unable to get the ACTIONS_RUNTIME_TOKEN env variable");
    };
    await expect(
      uploadTrialArtifact(fake.client, {
        name: "tunix-rt-trial-x-t0000",
        dir: await trialDir({ "trial.json": "{}" }),
      }),
    ).rejects.toThrow(
      /uploading artifact tunix-rt-trial-x-t0000 failed: Unable to get the ACTIONS_RUNTIME_TOKEN/,
    );
    expect(fake.calls).toEqual(["list"]);
  });

  it("an empty trial folder is an error naming the files looked for", async () => {
    const fake = fakeClient();
    await expect(uploadTrialArtifact(fake.client, { name: "n", dir: await trialDir({}) })).rejects.toThrow(
      /no trial files to upload \(looked for trial.json, eval_rows.jsonl/,
    );
  });

  it("the real client fits the interface", async () => {
    const { DefaultArtifactClient } = await import("@actions/artifact");
    const real: ArtifactClientLike = new DefaultArtifactClient();
    expect(typeof real.uploadArtifact).toBe("function");
  });
});
