/**
 * The package action's committed bundle, run as the runner runs it, releasing the zip against
 * the REST stand-in with immutable releases on: no release yet -> a draft at GITHUB_SHA, the
 * zip, published; the same tag again -> refused in one line (the release is immutable now);
 * a new tag with release-publish false -> left a draft.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestStandIn } from "../github/stand-in/server.js";
import { unpackReference } from "../helpers/example-repo.js";
import { makeWorkspace, runBundle } from "./helpers.js";

const token = "ghs_0123456789abcdefghijklmnopqrstuvwxyzAB";
let workspace: string;
let standIn: RestStandIn;
let sha: string;

beforeAll(async () => {
  workspace = await makeWorkspace();
  await unpackReference(workspace); // submission_runs/example_v1 and the files it names
  standIn = await RestStandIn.start({ owner: "octo", repo: "sweeps" });
  standIn.repo().immutableReleases = true;
  sha = standIn.repo().commitFiles("main", { "submission_runs/example_v1/README": "evidence" }, "evidence");
});

afterAll(async () => {
  await standIn?.close();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

function pack(tag: string, publish = "true") {
  return runBundle(
    "dist/package.js",
    { "run-dir": "submission_runs/example_v1", "release-tag": tag, "release-publish": publish, token },
    {
      workspace,
      env: {
        GITHUB_API_URL: standIn.apiUrl,
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_REPOSITORY: "octo/sweeps",
        GITHUB_SHA: sha,
        GITHUB_RUN_ID: "77",
      },
    },
  );
}

describe("package with release-tag, immutable releases on", { timeout: 60_000 }, () => {
  it("no release of the tag: drafted at GITHUB_SHA, given the zip, published (immutable, tag at GITHUB_SHA)", async () => {
    const step = await pack("evidence/example_v1");
    expect(step.code, step.stdout + step.stderr).toBe(0);
    standIn.assertClean();
    const repo = standIn.repo();
    const release = repo.releases.find((r) => r.tag === "evidence/example_v1");
    const zip = path.basename(step.outputs["zip-path"] as string);
    expect(release).toMatchObject({ draft: false, immutable: true, target: sha });
    expect(release?.assets.map((a) => a.name)).toEqual([zip]);
    expect(repo.refs.get("refs/tags/evidence/example_v1")).toBe(sha);
    expect(step.outputs["asset-url"]).toContain(encodeURIComponent("evidence/example_v1"));
    expect(step.stdout).toContain("drafted by this step, published by this step, immutable");
  });

  it("the same tag again: refused in one line naming what to do, the release unchanged", async () => {
    const release = standIn.repo().releases.find((r) => r.tag === "evidence/example_v1");
    const before = release?.assets.map((a) => a.id);
    const step = await pack("evidence/example_v1");
    expect(step.code).toBe(1);
    expect(step.errors.at(-1)?.message).toBe(
      "release evidence/example_v1 in octo/sweeps is published and immutable: GitHub lets no asset be added, replaced or deleted; release the zip under a new tag (the release workflow's tag input, for example evidence/example_v1-2), which is drafted, given the zip, then published",
    );
    expect(release?.assets.map((a) => a.id)).toEqual(before);
    standIn.assertClean();
  });

  it("a new tag with release-publish false: left a draft, no tag made", async () => {
    const step = await pack("evidence/example_v1-2", "false");
    expect(step.code, step.stdout + step.stderr).toBe(0);
    const repo = standIn.repo();
    expect(repo.releases.find((r) => r.tag === "evidence/example_v1-2")).toMatchObject({
      draft: true,
      immutable: false,
    });
    expect(repo.refs.has("refs/tags/evidence/example_v1-2")).toBe(false);
    standIn.assertClean();
  });
});
