import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOctokit, rateLimitWaitS } from "../../src/github/octokit.js";
import { type Harness, startHarness, testToken } from "./helpers.js";

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.standIn.close();
});

const statuses = (op: string) => h.standIn.requests.filter((r) => r.operationId === op).map((r) => r.status);

describe("createOctokit", () => {
  it("takes the API root from GITHUB_API_URL when no baseUrl is given (getOctokit reads it on a runner)", async () => {
    // @actions/github reads the runner's variables when it loads, as on a runner: a fresh
    // process with GITHUB_API_URL set, using the built client (lib/, built before the tests).
    const script = `
      const { createOctokit } = await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, "lib/github/octokit.js")).href)});
      const { data } = await createOctokit({ token: ${JSON.stringify(testToken)} }).rest.repos.get({ owner: "octo", repo: "sweeps" });
      process.stdout.write(data.default_branch);`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, GITHUB_API_URL: h.standIn.apiUrl },
    });
    expect(stdout).toBe("main");
    h.standIn.assertClean();
  });

  it("takes a baseUrl with a trailing slash", async () => {
    const octokit = createOctokit({ token: testToken, baseUrl: `${h.standIn.apiUrl}/` });
    const { data } = await octokit.rest.repos.get({ owner: "octo", repo: "sweeps" });
    expect(data.default_branch).toBe("main");
    h.standIn.assertClean();
  });

  it("retries 5xx answers (JSON or a proxy's HTML page), then succeeds", async () => {
    h.standIn.inject("repos/get", { status: 500 });
    h.standIn.inject("repos/get", { status: 502 });
    h.standIn.inject("repos/get", { status: 503 });
    const { data } = await h.octokit.rest.repos.get({ owner: "octo", repo: "sweeps" });
    expect(data.full_name).toBe("octo/sweeps");
    expect(statuses("repos/get")).toEqual([500, 502, 503, 200]);
    h.standIn.assertClean();
  });

  it("gives up after `retries` retries with GitHub's status", async () => {
    const octokit = createOctokit({
      token: testToken,
      baseUrl: h.standIn.apiUrl,
      retries: 1,
      retryAfterBaseMs: 1,
    });
    h.standIn.inject("GET /repos/{owner}/{repo}", { status: 502, times: 5 });
    await expect(octokit.rest.repos.get({ owner: "octo", repo: "sweeps" })).rejects.toMatchObject({
      status: 502,
    });
    expect(statuses("repos/get")).toEqual([502, 502]);
    h.standIn.assertClean();
  });

  it("waits out a secondary rate limit (403 with retry-after, or 429) and retries", async () => {
    h.standIn.inject("repos/get", {
      status: 403,
      message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
      headers: { "retry-after": "2" },
    });
    h.standIn.inject("repos/get", { status: 429 });
    await h.octokit.rest.repos.get({ owner: "octo", repo: "sweeps" });
    expect(statuses("repos/get")).toEqual([403, 429, 200]);
    h.standIn.assertClean();
  });

  it("does not retry a plain 403, a primary rate limit, a 404 or a 422", async () => {
    h.standIn.inject("repos/get", { status: 403 });
    await expect(h.octokit.rest.repos.get({ owner: "octo", repo: "sweeps" })).rejects.toMatchObject({
      status: 403,
    });
    h.standIn.inject("repos/get", {
      status: 403,
      message: "API rate limit exceeded for installation ID 1.",
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999" },
    });
    await expect(h.octokit.rest.repos.get({ owner: "octo", repo: "sweeps" })).rejects.toMatchObject({
      status: 403,
    });
    await expect(h.octokit.rest.repos.get({ owner: "octo", repo: "nope" })).rejects.toMatchObject({
      status: 404,
    });
    expect(statuses("repos/get")).toEqual([403, 403, 404]);
    h.standIn.assertClean();
  });

  it("sends the token only in the authorization header; errors do not carry it", async () => {
    h.standIn.inject("repos/get", { status: 403 });
    const error = await h.octokit.rest.repos.get({ owner: "octo", repo: "sweeps" }).catch((e: unknown) => e);
    expect(JSON.stringify(error)).not.toContain(testToken);
    expect(String((error as Error).message)).not.toContain(testToken);
  });
});

describe("rateLimitWaitS", () => {
  it("reads retry-after, the secondary-limit message, and leaves other errors alone", () => {
    const e = (status: number, message: string, headers: Record<string, string> = {}) => ({
      status,
      message,
      response: { headers },
    });
    expect(rateLimitWaitS(e(403, "x", { "retry-after": "30" }))).toBe(30);
    expect(rateLimitWaitS(e(403, "You have exceeded a secondary rate limit"))).toBe(60);
    expect(rateLimitWaitS(e(429, "slow down"))).toBe(60);
    expect(rateLimitWaitS(e(429, "x", { "x-ratelimit-remaining": "0" }))).toBeUndefined();
    expect(rateLimitWaitS(e(403, "Resource not accessible by integration"))).toBeUndefined();
    expect(rateLimitWaitS(e(500, "x", { "retry-after": "1" }))).toBeUndefined();
    expect(rateLimitWaitS(new Error("network"))).toBeUndefined();
  });
});
