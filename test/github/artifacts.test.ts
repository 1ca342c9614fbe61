import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ArtifactClientLike,
  type ArtifactSummary,
  downloadSweepArtifacts,
  findArtifact,
  trialArtifactName,
  uploadFolderArtifact,
  waveArtifactName,
} from "../../src/github/artifacts.js";
import { ResultsStandIn } from "./stand-in/results.js";
import { zipFolder, zipOf } from "./stand-in/zip.js";

const sweep = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const run = "ce7f54c7-61c7-4aae-887f-30da475f5f1a";

let results: ResultsStandIn;
let client: ArtifactClientLike;
let tmp: string;
const saved = ["ACTIONS_RESULTS_URL", "ACTIONS_RUNTIME_TOKEN", "GITHUB_SERVER_URL"].map(
  (k) => [k, process.env[k]] as const,
);

beforeAll(async () => {
  results = await ResultsStandIn.start();
  tmp = await mkdtemp(path.join(tmpdir(), "tunix-rt-artifacts-"));
  // github.com: @actions/artifact refuses GitHub Enterprise Server hosts.
  delete process.env.GITHUB_SERVER_URL;
  const { DefaultArtifactClient } = await import("@actions/artifact");
  client = new DefaultArtifactClient();
});
/** Each test is a job of the run: its own runtime token, as the runner gives one per job. */
beforeEach(() => {
  Object.assign(process.env, results.envFor(run));
});
afterAll(async () => {
  await results.close();
  await rm(tmp, { recursive: true, force: true });
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const record = (trialId: string, status: string) =>
  `${JSON.stringify({ trial_id: trialId, sweep_id: sweep, status, params: {}, primary_score: null })}\n`;

describe("artifact names", () => {
  it("are tunix-rt-trial-<sweep_id>-<trial_id> and tunix-rt-wave-<sweep_id>-<wave>", () => {
    expect(trialArtifactName(sweep, "t0003")).toBe(`tunix-rt-trial-${sweep}-t0003`);
    expect(waveArtifactName(sweep, 2)).toBe(`tunix-rt-wave-${sweep}-2`);
  });
});

describe("downloadSweepArtifacts (the real @actions/artifact client, the runner's artifact service)", () => {
  it("downloads the latest artifact of each of this sweep's trials into dest/<name>/, only this run's", async () => {
    const name = (t: string) => trialArtifactName(sweep, t);
    // t0000 as a trial job leaves it: its folder, zipped.
    const folder = path.join(tmp, "t0000-out");
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "trial.json"), record("t0000", "completed"));
    await writeFile(path.join(folder, "output.log"), "step 1\n");
    results.addArtifact(run, name("t0000"), await zipFolder(folder));
    // t0001's first attempt failed; its re-run replaced the artifact (deleted, then uploaded anew).
    results.addArtifact(
      run,
      name("t0001"),
      await zipOf({ "trial.json": record("t0001", "completed"), "eval_rows.jsonl": '{"id":"q1"}\n' }),
    );
    // Not this sweep's: another sweep, a sweep id that merely starts the same, another run, other names.
    results.addArtifact(
      run,
      trialArtifactName("another-sweep", "t0000"),
      await zipOf({ "trial.json": "{}" }),
    );
    results.addArtifact(run, `${name("t0002")}-extra`, await zipOf({ "trial.json": "{}" }));
    results.addArtifact(run, "coverage-report", await zipOf({ "index.html": "" }));
    results.addArtifact("another-run", name("t0002"), await zipOf({ "trial.json": "{}" }));

    const dest = path.join(tmp, "trials");
    const calls = results.calls.length;
    const { downloaded } = await downloadSweepArtifacts(client, { sweepId: sweep, dest });
    expect(downloaded.map((d) => [d.name, d.trialId])).toEqual([
      [name("t0000"), "t0000"],
      [name("t0001"), "t0001"],
    ]);
    expect(downloaded[1]?.dir).toBe(path.join(dest, name("t0001")));
    expect((await readdir(dest)).sort()).toEqual([name("t0000"), name("t0001")]);
    expect((await readdir(path.join(dest, name("t0000")))).sort()).toEqual(["output.log", "trial.json"]);
    expect(await readFile(path.join(dest, name("t0001"), "eval_rows.jsonl"), "utf8")).toBe('{"id":"q1"}\n');
    // One list for the sweep, then per artifact the client's own lookup and signed URL (concurrently).
    const made = results.calls.slice(calls);
    expect(made.filter((c) => c === "ListArtifacts")).toHaveLength(3);
    expect(made.filter((c) => c === "GetSignedArtifactURL")).toHaveLength(2);
    results.assertClean();

    // Only the trials asked for: a later wave fetches each trial's artifact once.
    const only = await downloadSweepArtifacts(client, {
      sweepId: sweep,
      dest: path.join(tmp, "only"),
      trialIds: ["t0001"],
    });
    expect(only.downloaded.map((d) => d.trialId)).toEqual(["t0001"]);
    expect((await findArtifact(client, name("t0000")))?.name).toBe(name("t0000"));
    expect(await findArtifact(client, name("t0009"))).toBeUndefined();
  });

  it("no artifact of the sweep: nothing downloaded", async () => {
    const { downloaded } = await downloadSweepArtifacts(client, {
      sweepId: "no-such-sweep",
      dest: path.join(tmp, "none"),
    });
    expect(downloaded).toEqual([]);
    results.assertClean();
  });
});

describe("uploadFolderArtifact against the artifact service", () => {
  it("uploads a folder; a re-run's upload replaces its earlier attempt's, waiting out 409s after the delete", async () => {
    const name = trialArtifactName(sweep, "t0007");
    const first = path.join(tmp, "upload-1");
    await mkdir(first, { recursive: true });
    await writeFile(path.join(first, "trial.json"), record("t0007", "failed"));
    await uploadFolderArtifact(client, { name, dir: first });
    expect(results.artifactsOf(run).filter((a) => a.name === name)).toHaveLength(1);

    // The re-run: a new job of the same run; the name is taken, and stays taken twice more after the delete.
    Object.assign(process.env, results.envFor(run));
    const rerun = path.join(tmp, "upload-2");
    await mkdir(rerun, { recursive: true });
    await writeFile(path.join(rerun, "trial.json"), record("t0007", "completed"));
    results.conflictAfterDelete(2);
    const waits: number[] = [];
    await uploadFolderArtifact(client, {
      name,
      dir: rerun,
      retryDelays: [5, 10, 20],
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(waits).toEqual([5, 10]);
    const stored = results.artifactsOf(run).filter((a) => a.name === name);
    expect(stored).toHaveLength(1);
    const dest = path.join(tmp, "upload-check");
    await client.downloadArtifact(stored[0]?.id ?? 0, { path: dest });
    expect(await readFile(path.join(dest, "trial.json"), "utf8")).toContain('"completed"');
    results.assertClean();
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

describe("uploadFolderArtifact, with a fake client", () => {
  async function trialDir(files: Record<string, string>): Promise<string> {
    const dir = path.join(tmp, `trial-${Math.random().toString(36).slice(2)}`);
    await mkdir(dir, { recursive: true });
    for (const [n, c] of Object.entries(files)) await writeFile(path.join(dir, n), c);
    return dir;
  }

  it("uploads the trial files that exist, relative to the trial folder", async () => {
    const fake = fakeClient();
    const dir = await trialDir({ "trial.json": "{}", "output.log": "log", "notes.tmp": "not a trial file" });
    const result = await uploadFolderArtifact(fake.client, { name: trialArtifactName(sweep, "t0000"), dir });
    expect(result).toEqual({ id: 1, size: 2 });
    expect(fake.stored[0]?.files).toEqual([path.join(dir, "trial.json"), path.join(dir, "output.log")]);
    expect(fake.stored[0]?.root).toBe(dir);
    expect(fake.calls).toEqual([`upload ${trialArtifactName(sweep, "t0000")}`]);
  });

  it("a re-run meets its earlier attempt's artifact: deletes it and uploads again", async () => {
    const fake = fakeClient();
    const name = trialArtifactName(sweep, "t0001");
    await uploadFolderArtifact(fake.client, {
      name,
      dir: await trialDir({ "trial.json": '{"status":"failed"}' }),
    });
    const rerun = await trialDir({ "trial.json": '{"status":"completed"}', "eval_rows.jsonl": "" });
    const result = await uploadFolderArtifact(fake.client, { name, dir: rerun });
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
    await uploadFolderArtifact(fake.client, { name, dir: await trialDir({ "trial.json": "{}" }) });
    const list = fake.client.listArtifacts;
    fake.client.listArtifacts = async () => ({ artifacts: [] });
    await uploadFolderArtifact(fake.client, { name, dir: await trialDir({ "trial.json": "{}" }) });
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
      uploadFolderArtifact(fake.client, {
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
    await expect(uploadFolderArtifact(fake.client, { name: "n", dir: await trialDir({}) })).rejects.toThrow(
      /no files to upload \(looked for trial.json, eval_rows.jsonl/,
    );
  });

  it("the real client fits the interface", async () => {
    const { DefaultArtifactClient } = await import("@actions/artifact");
    const real: ArtifactClientLike = new DefaultArtifactClient();
    expect(typeof real.uploadArtifact).toBe("function");
  });
});
