import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, it } from "vitest";
import { toolkitVersion } from "../src/runtime/version.js";
import { repoRoot, runCli } from "./helpers/cli.js";

it("keeps the toolkit version equal to package.json's, and prints it", async () => {
  const pkg = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8"));
  expect(toolkitVersion).toBe(pkg.version);
  const r = await runCli(["--version"]);
  expect(r.stdout.trim()).toBe(pkg.version);
  expect(r.code).toBe(0);
});
