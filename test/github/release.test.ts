import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { releaseAssetPattern, uploadReleaseAsset } from "../../src/github/release.js";
import { type Harness, startHarness } from "./helpers.js";

let h: Harness;
let tmp: string;
beforeEach(async () => {
  h = await startHarness();
  tmp = await mkdtemp(path.join(tmpdir(), "tunix-rt-release-"));
});
afterEach(async () => {
  await h.standIn.close();
  await rm(tmp, { recursive: true, force: true });
});

async function zipFile(name: string, content = "PK fake zip bytes"): Promise<string> {
  const file = path.join(tmp, name);
  await writeFile(file, content);
  return file;
}

describe("releaseAssetPattern", () => {
  it("matches the run version's zips only, whole", () => {
    const p = releaseAssetPattern("m34_v1");
    expect(p.test("tunix_rt_m34_v1_2025-12-27_40a90d6.zip")).toBe(true);
    expect(p.test("tunix_rt_m34_v10_2025-12-27_40a90d6.zip")).toBe(false);
    expect(p.test("tunix_rt_m34_v1_extra_2025-12-27_40a90d6.zip")).toBe(false);
    expect(p.test("tunix_rt_m34_v1_2025-12-27_40a90d6.zip.sig")).toBe(false);
    expect(releaseAssetPattern("m34").test("tunix_rt_m34_v1_2025-12-27_40a90d6.zip")).toBe(false);
    expect(releaseAssetPattern("v1.2").test("tunix_rt_v1x2_2025-12-27_abc.zip")).toBe(false);
    expect(releaseAssetPattern("v1.2").test("tunix_rt_v1.2_2025-12-27_abc.zip")).toBe(true);
  });
});

describe("uploadReleaseAsset", () => {
  it("replaces the run version's old zip, keeps others, uploads through the upload_url host", async () => {
    const release = h.standIn.repo().addRelease("v1.0.0", {
      "tunix_rt_m34_v1_2025-12-01_1111111.zip": "old",
      "tunix_rt_m34_v10_2025-12-01_2222222.zip": "other run version",
      "notes.txt": "unrelated",
    });
    const file = await zipFile("tunix_rt_m34_v1_2025-12-27_40a90d6.zip", "new zip");
    const result = await uploadReleaseAsset(h.octokit, {
      owner: "octo",
      repo: "sweeps",
      tag: "v1.0.0",
      file,
      runVersion: "m34_v1",
    });
    expect(result.replaced).toEqual(["tunix_rt_m34_v1_2025-12-01_1111111.zip"]);
    expect(release.assets.map((a) => a.name).sort()).toEqual([
      "notes.txt",
      "tunix_rt_m34_v10_2025-12-01_2222222.zip",
      "tunix_rt_m34_v1_2025-12-27_40a90d6.zip",
    ]);
    const uploaded = release.assets.find((a) => a.id === result.id);
    expect(uploaded?.contentType).toBe("application/zip");
    // The upload went to the second host (uploads), as upload_url said; the link serves the bytes.
    const upload = h.standIn.requests.find((r) => r.operationId === "repos/upload-release-asset");
    expect(upload?.host).toBe("uploads");
    expect(result.url.startsWith(h.standIn.uploadsUrl)).toBe(true);
    const downloaded = await fetch(result.url);
    expect(await downloaded.text()).toBe("new zip");
    h.standIn.assertClean();
  });

  it("an asset of the very same name (a re-run the same day) is deleted first", async () => {
    const name = "tunix_rt_m34_v1_2025-12-27_40a90d6.zip";
    const release = h.standIn.repo().addRelease("v1", { [name]: "first" });
    const result = await uploadReleaseAsset(h.octokit, {
      owner: "octo",
      repo: "sweeps",
      tag: "v1",
      file: await zipFile(name, "second"),
      runVersion: "m34_v1",
    });
    expect(result.replaced).toEqual([name]);
    expect(release.assets.map((a) => a.data.toString())).toEqual(["second"]);
    h.standIn.assertClean();
  });

  it("pages through a release with many assets", async () => {
    const many = Object.fromEntries(Array.from({ length: 130 }, (_, i) => [`other-${i}.txt`, "x"]));
    const release = h.standIn
      .repo()
      .addRelease("v2", { ...many, "tunix_rt_m34_v1_2025-01-01_aaaaaaa.zip": "old" });
    const result = await uploadReleaseAsset(h.octokit, {
      owner: "octo",
      repo: "sweeps",
      tag: "v2",
      file: await zipFile("tunix_rt_m34_v1_2025-12-27_bbbbbbb.zip"),
      runVersion: "m34_v1",
    });
    expect(result.replaced).toEqual(["tunix_rt_m34_v1_2025-01-01_aaaaaaa.zip"]);
    expect(release.assets).toHaveLength(131);
    expect(h.standIn.count("repos/list-release-assets")).toBe(2);
    h.standIn.assertClean();
  });

  it("a 502 on the upload is retried", async () => {
    const release = h.standIn.repo().addRelease("v3");
    h.standIn.inject("repos/upload-release-asset", { status: 502 });
    await uploadReleaseAsset(h.octokit, {
      owner: "octo",
      repo: "sweeps",
      tag: "v3",
      file: await zipFile("tunix_rt_m34_v1_2025-12-27_ccccccc.zip"),
      runVersion: "m34_v1",
    });
    expect(release.assets).toHaveLength(1);
    h.standIn.assertClean();
  });

  it("a missing release, a 403 and a badly named zip are clear errors", async () => {
    const base = { owner: "octo", repo: "sweeps", runVersion: "m34_v1" };
    const file = await zipFile("tunix_rt_m34_v1_2025-12-27_ddddddd.zip");
    await expect(uploadReleaseAsset(h.octokit, { ...base, tag: "nope", file })).rejects.toThrow(
      /release nope in octo\/sweeps: not found \(no published or draft release has this tag/,
    );
    h.standIn.repo().addRelease("v4");
    h.standIn.inject("repos/upload-release-asset", { status: 403 });
    await expect(uploadReleaseAsset(h.octokit, { ...base, tag: "v4", file })).rejects.toThrow(
      /uploading tunix_rt_m34_v1_2025-12-27_ddddddd.zip to release v4 in octo\/sweeps failed: GitHub answered 403 .*"contents: write"/,
    );
    await expect(
      uploadReleaseAsset(h.octokit, { ...base, tag: "v4", file: await zipFile("submission.zip") }),
    ).rejects.toThrow(/must be tunix_rt_m34_v1_<YYYY-MM-DD>_<short sha>\.zip/);
    h.standIn.assertClean();
  });
});
