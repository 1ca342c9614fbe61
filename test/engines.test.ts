/**
 * The Node versions the project says it runs on are the ones its dependencies accept:
 * `npm ci` warns (EBADENGINE) for every locked package whose `engines.node` the running Node
 * does not satisfy. The CLI's own range (`engines` in package.json) must satisfy what its
 * runtime dependencies declare; working in the repository (the README's floor) must satisfy
 * every locked package, the development ones included.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers/cli.js";

interface Locked {
  dev?: boolean;
  optional?: boolean;
  engines?: { node?: string } | string[];
}
const manifest = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));
const lock = JSON.parse(readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as {
  packages: Record<string, Locked>;
};
const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");

/** Locked packages (path, declared node range) that the given Node version does not satisfy. */
function refusing(version: string, which: (p: Locked) => boolean): string[] {
  return Object.entries(lock.packages).flatMap(([where, p]) => {
    const range = !Array.isArray(p.engines) ? p.engines?.node : undefined;
    if (!where || !range || !which(p)) return [];
    return semver.satisfies(version, range) ? [] : [`${where}: node ${range}`];
  });
}

describe("Node versions", () => {
  const cliFloor = semver.minVersion(manifest.engines.node)?.version as string;
  const devFloor = /needs\s+(20\.\d+) or later/.exec(readme.replace(/\s+/g, " "))?.[1];

  it("the CLI's floor (engines) satisfies every runtime dependency", () => {
    // 20.17: the signature verifier (@sigstore/verify 3) declares ^20.17.0 || >=22.9.0.
    expect(cliFloor).toBe("20.17.0");
    expect(refusing(cliFloor, (p) => !p.dev)).toEqual([]);
  });

  it("the README's floor for working in the repository satisfies every locked package", () => {
    expect(devFloor, "the README names the Node that `npm ci` and `npm test` need").toBeDefined();
    expect(refusing(`${devFloor}.0`, () => true)).toEqual([]);
    // The floor is the lowest that does: one minor lower, a package refuses.
    const lower = `20.${Number(devFloor?.split(".")[1]) - 1}.0`;
    expect(refusing(lower, () => true).length).toBeGreaterThan(0);
  });

  it("GitHub's node24, which runs the actions, satisfies every locked package", () => {
    expect(refusing("24.0.0", () => true)).toEqual([]);
  });
});
