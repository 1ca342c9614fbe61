/**
 * Releasing the submission zip the way GitHub documents for immutable releases ("Best
 * practices for publishing immutable releases": create the release as a draft, attach every
 * asset to the draft, then publish it), against the REST stand-in, which models drafts (no
 * tag until published, found by listing), publishing, and immutable releases (no asset added
 * or deleted once published, the tag never reusable).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ImmutableReleaseError, releaseZip } from "../../src/github/release.js";
import { type Harness, startHarness } from "./helpers.js";

let h: Harness;
let tmp: string;
beforeEach(async () => {
  h = await startHarness();
  tmp = await mkdtemp(path.join(tmpdir(), "tunix-rt-release-draft-"));
});
afterEach(async () => {
  await h.standIn.close();
  await rm(tmp, { recursive: true, force: true });
});

const tag = "evidence/m34_v1";
const zipName = "tunix_rt_m34_v1_2025-12-27_40a90d6.zip";

async function zipFile(name = zipName, content = "PK new zip"): Promise<string> {
  const file = path.join(tmp, name);
  await writeFile(file, content);
  return file;
}

/** The operations the stand-in saw, in order, release ones only. */
const releaseCalls = () =>
  h.standIn.requests.map((r) => r.operationId ?? "").filter((op) => /release/.test(op));

describe("releaseZip", () => {
  it("no release of the tag: a draft at the target commit, the zip uploaded to it, then published (tag made then)", async () => {
    const repo = h.standIn.repo();
    repo.immutableReleases = true;
    const target = repo.branchHead("main") as string;
    let tagBeforePublishing: boolean | undefined;
    h.standIn.inject("repos/update-release", {
      before: () => {
        tagBeforePublishing = repo.refs.has(`refs/tags/${tag}`);
      },
    });
    const result = await releaseZip(h.octokit, {
      owner: "octo",
      repo: "sweeps",
      tag,
      file: await zipFile(),
      runVersion: "m34_v1",
      target,
    });
    expect(releaseCalls()).toEqual([
      "repos/get-release-by-tag",
      "repos/list-releases",
      "repos/create-release",
      "repos/list-release-assets",
      "repos/upload-release-asset",
      "repos/update-release",
    ]);
    const create = h.standIn.requests.find((r) => r.operationId === "repos/create-release");
    expect(create?.json).toMatchObject({ tag_name: tag, target_commitish: target, draft: true });
    expect((create?.json as { body?: string } | undefined)?.body).toMatch(/^run_version: m34_v1\n/);
    expect(tagBeforePublishing).toBe(false);
    const release = repo.releases[0];
    expect(release).toMatchObject({ tag, draft: false, immutable: true });
    expect(release?.assets.map((a) => a.name)).toEqual([zipName]);
    expect(repo.refs.get(`refs/tags/${tag}`)).toBe(target);
    expect(result.release).toMatchObject({
      id: release?.id,
      created: true,
      published: true,
      draft: false,
      immutable: true,
    });
    // The link is the published one (by tag), and it serves the bytes.
    expect(result.url).toContain(encodeURIComponent(tag));
    expect(await (await fetch(result.url)).text()).toBe("PK new zip");
    h.standIn.assertClean();
  });

  it("re-packaging a draft replaces its old zip of the run_version (a draft allows it); publish false leaves the draft", async () => {
    const repo = h.standIn.repo();
    repo.immutableReleases = true;
    const draft = repo.addRelease(
      tag,
      { "tunix_rt_m34_v1_2025-12-01_1111111.zip": "old", "notes.txt": "kept" },
      { draft: true },
    );
    const result = await releaseZip(h.octokit, {
      owner: "octo",
      repo: "sweeps",
      tag,
      file: await zipFile(),
      runVersion: "m34_v1",
      target: "main",
      publish: false,
    });
    expect(result.replaced).toEqual(["tunix_rt_m34_v1_2025-12-01_1111111.zip"]);
    expect(draft.assets.map((a) => a.name).sort()).toEqual(["notes.txt", zipName]);
    expect(draft).toMatchObject({ draft: true, immutable: false });
    expect(result.release).toMatchObject({ id: draft.id, created: false, published: false, draft: true });
    expect(releaseCalls()).not.toContain("repos/update-release");
    expect(releaseCalls()).not.toContain("repos/create-release");
    expect(repo.refs.has(`refs/tags/${tag}`)).toBe(false);

    // Packaged again the same day: the asset of the very same name is replaced, then published.
    const again = await releaseZip(h.octokit, {
      owner: "octo",
      repo: "sweeps",
      tag,
      file: await zipFile(zipName, "PK newer zip"),
      runVersion: "m34_v1",
      target: "main",
    });
    expect(again.replaced).toEqual([zipName]);
    expect(draft.assets.find((a) => a.name === zipName)?.data.toString()).toBe("PK newer zip");
    expect(draft).toMatchObject({ draft: false, immutable: true });
    h.standIn.assertClean();
  });

  it("a draft someone wrote is reused: its notes are kept", async () => {
    const repo = h.standIn.repo();
    const draft = repo.addRelease(tag, {}, { draft: true });
    draft.body = "Our notes on m34_v1.";
    await releaseZip(h.octokit, {
      owner: "octo",
      repo: "sweeps",
      tag,
      file: await zipFile(),
      runVersion: "m34_v1",
      target: "main",
    });
    expect(repo.releases).toHaveLength(1);
    expect(draft).toMatchObject({ body: "Our notes on m34_v1.", draft: false });
    h.standIn.assertClean();
  });

  it("a published immutable release is refused with one line, before any change", async () => {
    const repo = h.standIn.repo();
    const release = repo.addRelease(
      tag,
      { "tunix_rt_m34_v1_2025-12-01_1111111.zip": "old" },
      { immutable: true },
    );
    const error = await releaseZip(h.octokit, {
      owner: "octo",
      repo: "sweeps",
      tag,
      file: await zipFile(),
      runVersion: "m34_v1",
      target: "main",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImmutableReleaseError);
    const message = (error as Error).message;
    expect(message).toBe(
      `release ${tag} in octo/sweeps is published and immutable: GitHub lets no asset be added, replaced or deleted; release the zip under a new tag (the release workflow's tag input, for example ${tag}-2), which is drafted, given the zip, then published`,
    );
    expect(release.assets.map((a) => a.data.toString())).toEqual(["old"]);
    expect(releaseCalls()).toEqual(["repos/get-release-by-tag"]);
    h.standIn.assertClean();
  });

  it("published and immutable between reading and uploading: GitHub's 422 gives the same message", async () => {
    const repo = h.standIn.repo();
    const draft = repo.addRelease(tag, {}, { draft: true });
    h.standIn.inject("repos/upload-release-asset", {
      // Someone publishes the draft while immutable releases are on.
      before: () =>
        Object.assign(draft, { draft: false, immutable: true, publishedAt: new Date().toISOString() }),
    });
    await expect(
      releaseZip(h.octokit, {
        owner: "octo",
        repo: "sweeps",
        tag,
        file: await zipFile(),
        runVersion: "m34_v1",
        target: "main",
      }),
    ).rejects.toThrow(ImmutableReleaseError);
    h.standIn.assertClean();
  });

  it("a tag an immutable release used cannot be released again: the error says to choose a new tag", async () => {
    const repo = h.standIn.repo();
    repo.immutableTags.add(tag); // its release was deleted; the tag stays taken
    await expect(
      releaseZip(h.octokit, {
        owner: "octo",
        repo: "sweeps",
        tag,
        file: await zipFile(),
        runVersion: "m34_v1",
        target: "main",
      }),
    ).rejects.toThrow(
      /creating the draft release evidence\/m34_v1 in octo\/sweeps failed: GitHub answered 422 \(Validation Failed; tag_name was used by an immutable release\); a tag that an immutable release used can never be used again: choose a new tag/,
    );
    h.standIn.assertClean();
  });

  it("a published release that is not immutable: the zip is replaced in place, nothing else changes", async () => {
    const repo = h.standIn.repo();
    const release = repo.addRelease(tag, { "tunix_rt_m34_v1_2025-12-01_1111111.zip": "old" });
    const result = await releaseZip(h.octokit, {
      owner: "octo",
      repo: "sweeps",
      tag,
      file: await zipFile(),
      runVersion: "m34_v1",
      target: "main",
    });
    expect(release.assets.map((a) => a.name)).toEqual([zipName]);
    expect(result.release).toMatchObject({
      created: false,
      published: false,
      draft: false,
      immutable: false,
    });
    expect(releaseCalls()).not.toContain("repos/update-release");
    h.standIn.assertClean();
  });

  it("without a target, a new draft is refused before anything is created", async () => {
    await expect(
      releaseZip(h.octokit, {
        owner: "octo",
        repo: "sweeps",
        tag,
        file: await zipFile(),
        runVersion: "m34_v1",
      }),
    ).rejects.toThrow(/no release has the tag evidence\/m34_v1 .*target/);
    expect(releaseCalls()).not.toContain("repos/create-release");
  });
});

describe("the stand-in's releases", () => {
  it("a draft is not found by its tag, only by listing; publishing makes the tag; immutable refuses changes", async () => {
    const repo = h.standIn.repo();
    repo.immutableReleases = true;
    const base = { owner: "octo", repo: "sweeps" };
    const { data: draft } = await h.octokit.rest.repos.createRelease({
      ...base,
      tag_name: "v9",
      draft: true,
    });
    expect(draft).toMatchObject({ draft: true, immutable: false, published_at: null });
    await expect(h.octokit.rest.repos.getReleaseByTag({ ...base, tag: "v9" })).rejects.toMatchObject({
      status: 404,
    });
    const { data: listed } = await h.octokit.rest.repos.listReleases(base);
    expect(listed.map((r) => r.id)).toEqual([draft.id]);
    expect(repo.refs.has("refs/tags/v9")).toBe(false);
    const { data: published } = await h.octokit.rest.repos.updateRelease({
      ...base,
      release_id: draft.id,
      draft: false,
    });
    expect(published).toMatchObject({ draft: false, immutable: true });
    expect(repo.refs.get("refs/tags/v9")).toBe(repo.branchHead("main"));
    await expect(
      h.octokit.request({
        method: "POST",
        url: published.upload_url,
        name: "late.zip",
        data: Buffer.from("x"),
        headers: { "content-type": "application/zip" },
      }),
    ).rejects.toMatchObject({ status: 422 });
    // Title and notes may still change; the state may not.
    await h.octokit.rest.repos.updateRelease({ ...base, release_id: draft.id, body: "notes" });
    await expect(
      h.octokit.rest.repos.updateRelease({ ...base, release_id: draft.id, draft: true }),
    ).rejects.toMatchObject({ status: 422 });
    await expect(h.octokit.rest.repos.createRelease({ ...base, tag_name: "v9" })).rejects.toMatchObject({
      status: 422,
    });
    h.standIn.assertClean();
  });
});
