// The stand-in's own checks: a test that relies on it must be able to fail.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gitBlobSha } from "../../src/core/evidence/changes.js";
import { type Harness, startHarness, testToken } from "./helpers.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.standIn.close();
});

/** A request whose parameters the types would refuse: these tests send bad ones on purpose. */
const raw = (route: string, params: Record<string, unknown>) => h.octokit.request(route, params);

describe("the REST stand-in validates every request against GitHub's OpenAPI description", () => {
  it("records an unknown route", async () => {
    await expect(
      h.octokit.request("GET /repos/{owner}/{repo}/no-such-thing", { owner: "octo", repo: "sweeps" }),
    ).rejects.toMatchObject({ status: 404 });
    expect(h.standIn.violations).toEqual([
      "GET /repos/octo/sweeps/no-such-thing: no such operation in GitHub's REST API (api host)",
    ]);
    expect(() => h.standIn.assertClean()).toThrow(/1 violation/);
  });

  it("records a body that breaks the schema: a missing required field, a wrong enum, an unknown key", async () => {
    await expect(
      raw("POST /repos/{owner}/{repo}/git/trees", {
        owner: "octo",
        repo: "sweeps",
        tree: [{ path: "a", mode: "100600", type: "blob", sha: "x" }],
        base: "typo",
      }),
    ).rejects.toMatchObject({ status: 422 });
    const text = h.standIn.violations.join("\n");
    expect(text).toContain(
      "git/create-tree (POST /repos/{owner}/{repo}/git/trees): body/tree/0/mode must be equal to one of the allowed values",
    );
    expect(text).toContain("body has unknown property base");
    await raw("POST /repos/{owner}/{repo}/git/blobs", { owner: "octo", repo: "sweeps" }).catch(() => {});
    expect(h.standIn.violations.join("\n")).toContain(
      "git/create-blob (POST /repos/{owner}/{repo}/git/blobs): the request body is required",
    );
  });

  it("records a missing required query parameter and an unknown one, and a value of the wrong type", async () => {
    const release = h.standIn.repo().addRelease("v1");
    await h.octokit
      .request({
        method: "POST",
        url: `${h.standIn.uploadsUrl}/repos/octo/sweeps/releases/${release.id}/assets`,
        data: Buffer.from("x"),
        headers: { "content-type": "application/zip" },
      })
      .catch(() => {});
    await raw("GET /repos/{owner}/{repo}/pulls", { owner: "octo", repo: "sweeps", state: "merged" }).catch(
      () => {},
    );
    await raw("GET /repos/{owner}/{repo}/pulls", { owner: "octo", repo: "sweeps", per_page: "many" }).catch(
      () => {},
    );
    await raw("GET /repos/{owner}/{repo}/pulls", { owner: "octo", repo: "sweeps", head_ref: "x" }).catch(
      () => {},
    );
    const text = h.standIn.violations.join("\n");
    expect(text).toContain(
      "repos/upload-release-asset (POST /repos/{owner}/{repo}/releases/{release_id}/assets): missing required query parameter name",
    );
    expect(text).toContain("query parameter/state must be equal to one of the allowed values");
    expect(text).toContain("query parameter/per_page must be integer");
    expect(text).toContain('unknown query parameter "head_ref"');
  });

  it("records an upload sent to the API host instead of upload_url's host", async () => {
    const release = h.standIn.repo().addRelease("v1");
    await h.octokit
      .request({
        method: "POST",
        url: `${h.standIn.apiUrl}/repos/octo/sweeps/releases/${release.id}/assets?name=a.zip`,
        data: Buffer.from("x"),
        headers: { "content-type": "application/zip" },
      })
      .catch(() => {});
    expect(h.standIn.violations.join("\n")).toContain(
      `POST /repos/octo/sweeps/releases/${release.id}/assets: no such operation in GitHub's REST API (api host)`,
    );
  });

  it("records a request without a token", async () => {
    await fetch(`${h.standIn.apiUrl}/repos/octo/sweeps`).then((r) => r.text());
    expect(h.standIn.violations).toEqual(["repos/get: request without an authorization header"]);
  });

  it("accepts valid requests, and stores git objects under their real SHA-1", async () => {
    const { data } = await h.octokit.rest.git.createBlob({
      owner: "octo",
      repo: "sweeps",
      content: "hello\n",
      encoding: "utf-8",
    });
    expect(data.sha).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
    expect(data.sha).toBe(gitBlobSha(Buffer.from("hello\n")));
    // A tree of one file README.md "# sweeps\n" (the stand-in's first commit): git's tree id.
    const main = h.standIn.repo().branchHead("main") as string;
    const commit = await h.octokit.rest.git.getCommit({ owner: "octo", repo: "sweeps", commit_sha: main });
    const tree = await h.octokit.rest.git.getTree({
      owner: "octo",
      repo: "sweeps",
      tree_sha: commit.data.tree.sha,
      recursive: "1",
    });
    expect(tree.data.tree.map((e) => e.path)).toEqual(["README.md"]);
    expect(tree.data.tree[0]?.sha).toBe(gitBlobSha(Buffer.from("# sweeps\n")));
    // `printf '# sweeps\n' > README.md && git add README.md && git write-tree`
    expect(commit.data.tree.sha).toBe("efc0b604585eaeeaa62e0c15742e75f76c4fe5e2");
    // Nested trees and git's ordering ("a.txt" before the tree "a"): `git write-tree` of a/b/c.json "x", a.txt "y".
    const nested = await h.octokit.rest.git.createTree({
      owner: "octo",
      repo: "sweeps",
      tree: [
        { path: "a/b/c.json", mode: "100644", type: "blob", content: "x" },
        { path: "a.txt", mode: "100644", type: "blob", content: "y" },
      ],
    });
    expect(nested.data.sha).toBe("1e6719292ec0e351f018af402c67411163028158");
    h.standIn.assertClean();
  });

  it("injected faults answer in GitHub's shapes and run out", async () => {
    h.standIn.inject("repos/get", {
      status: 422,
      times: 2,
      body: { message: "Validation Failed", errors: [{ code: "custom", message: "nope" }] },
    });
    for (let i = 0; i < 2; i++) {
      await expect(h.octokit.rest.repos.get({ owner: "octo", repo: "sweeps" })).rejects.toMatchObject({
        status: 422,
        response: { data: { errors: [{ message: "nope" }] } },
      });
    }
    await expect(h.octokit.rest.repos.get({ owner: "octo", repo: "sweeps" })).resolves.toMatchObject({
      status: 200,
    });
    expect(testToken).toMatch(/^ghs_/);
    h.standIn.assertClean();
  });
});
