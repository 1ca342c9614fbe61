/**
 * The action.yml files: each parses, runs on node24 from a `main` that exists in dist/,
 * documents every input and output, has branding, declares the defaults the code falls back
 * to, and declares every input its boundary reads. The umbrella action offers every input
 * and output of the four actions.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { listActions } from "../../scripts/actions.mjs";
import { actions } from "../../src/actions/index.js";
import { packageDefaults, readPackageInputs } from "../../src/actions/package/inputs.js";
import { readScoreInputs, scoreDefaults } from "../../src/actions/score/inputs.js";
import { readSweepInputs, sweepDefaults } from "../../src/actions/sweep/inputs.js";
import { commands, readUmbrellaInputs } from "../../src/actions/tunix-rt/inputs.js";
import { readVerifyInputs, verifyDefaults } from "../../src/actions/verify-evidence/inputs.js";
import { repoRoot } from "./helpers.js";

interface ActionYaml {
  name: string;
  description: string;
  branding?: { icon?: string; color?: string };
  inputs: Record<string, { description?: string; required?: boolean; default?: unknown }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string };
}

/** Every action.yml by the name of its entry (found as the build finds them). */
const actionFiles: Record<string, string> = Object.fromEntries(
  (await listActions(repoRoot)).map((action) => [action.name, action.file]),
);

const load = (file: string | undefined) => {
  if (file === undefined) throw new Error("no such action");
  return parse(readFileSync(path.join(repoRoot, file), "utf8")) as ActionYaml;
};
/** Defaults that come from the workflow's context, not from the code. */
const contextDefaults: Record<string, string> = {
  token: `\${{ github.token }}`,
  trial: `\${{ toJson(matrix) }}`,
  base: `\${{ github.ref_name }}`,
};

describe("every action.yml", () => {
  it("is one the bundle runs, and the bundle runs no other", () => {
    expect(Object.keys(actionFiles).sort()).toEqual(Object.keys(actions).sort());
    expect(actionFiles["tunix-rt"]).toBe("action.yml");
    expect(Object.keys(actionFiles)).toHaveLength(5);
  });

  for (const [name, file] of Object.entries(actionFiles)) {
    it(`${file}: node24, its main in dist/, documented inputs and outputs, branding`, () => {
      const action = load(file);
      expect(action.runs.using).toBe("node24");
      const main = path.resolve(repoRoot, path.dirname(file), action.runs.main);
      expect(path.relative(repoRoot, main)).toBe(`dist/${name}.js`);
      expect(existsSync(main)).toBe(true);
      expect(readFileSync(main, "utf8")).toContain(`await run(${JSON.stringify(name)});`);
      expect(action.name).toMatch(/^tunix-rt/);
      expect(action.description.length).toBeGreaterThan(40);
      expect(action.branding?.icon).toBeTruthy();
      expect(action.branding?.color).toBeTruthy();
      for (const [input, spec] of Object.entries(action.inputs)) {
        expect(spec.description?.trim(), `${file}: inputs.${input}.description`).toBeTruthy();
        if (typeof spec.default === "string" && spec.default.includes(`\${{`))
          expect(spec.default, `${file}: inputs.${input}.default`).toBe(contextDefaults[input]);
      }
      for (const [output, spec] of Object.entries(action.outputs))
        expect(spec.description?.trim(), `${file}: outputs.${output}.description`).toBeTruthy();
    });
  }

  it("dist/ is ES modules whatever the package.json above it says", () => {
    expect(JSON.parse(readFileSync(path.join(repoRoot, "dist/package.json"), "utf8"))).toEqual({
      type: "module",
    });
  });

  it("the outputs the workflows rely on exist", () => {
    const sweep = Object.keys(load(actionFiles.sweep).outputs);
    expect(sweep).toEqual(
      expect.arrayContaining(["matrix", "sweep-id", "max-parallel", "count", "run-version"]),
    );
    const score = Object.keys(load(actionFiles.score).outputs);
    expect(score).toEqual(
      expect.arrayContaining(["best-trial", "primary-score", "pr-number", "pr-url", "pr-operation"]),
    );
    expect(Object.keys(load(actionFiles.package).outputs)).toEqual(["zip-path", "asset-url"]);
    expect(Object.keys(load(actionFiles["verify-evidence"]).outputs)).toContain("valid");
  });

  it("declares as defaults the values the code falls back to", () => {
    const declared = (file: string | undefined) =>
      Object.fromEntries(
        Object.entries(load(file).inputs)
          .filter(([, spec]) => spec.default !== undefined && !String(spec.default).includes(`\${{`))
          .map(([k, spec]) => [k, String(spec.default)]),
      );
    expect(declared(actionFiles.sweep)).toEqual(sweepDefaults);
    expect(declared(actionFiles.score)).toEqual(scoreDefaults);
    expect(declared(actionFiles["verify-evidence"])).toEqual(verifyDefaults);
    expect(declared(actionFiles.package)).toEqual(packageDefaults);
  });

  it("the umbrella offers every input (but mode) and every output of the four actions, with the same defaults", () => {
    const umbrella = load(actionFiles["tunix-rt"]);
    for (const file of Object.values(actionFiles).slice(1)) {
      const action = load(file);
      for (const [input, spec] of Object.entries(action.inputs)) {
        if (input === "mode") continue;
        expect(umbrella.inputs[input], `action.yml lacks input ${input} of ${file}`).toBeDefined();
        // config: the umbrella leaves it empty, since package reads "empty" as "the manifest's".
        if (input !== "config")
          expect(umbrella.inputs[input]?.default, `default of ${input}`).toEqual(spec.default);
      }
      for (const output of Object.keys(action.outputs))
        expect(umbrella.outputs[output], `action.yml lacks output ${output} of ${file}`).toBeDefined();
    }
    for (const command of commands) expect(umbrella.inputs.command?.description).toContain(command);
  });
});

describe("the Actions reference (docs/github.md)", () => {
  const page = readFileSync(path.join(repoRoot, "docs/github.md"), "utf8");
  const section = page.slice(page.indexOf("\n## Actions\n"));
  for (const [name, file] of Object.entries(actionFiles).slice(1)) {
    it(`lists every input and output of actions/${name}`, () => {
      const table = section.slice(section.indexOf(`### \`actions/${name}\``)).split("\n### ")[0] as string;
      const action = load(file);
      for (const key of [...Object.keys(action.inputs), ...Object.keys(action.outputs)])
        expect(table, `docs/github.md lacks ${key} of actions/${name}`).toContain(`| \`${key}\` |`);
    });
  }
});

describe("each input boundary reads only declared inputs", () => {
  const original = process.env;
  afterEach(() => {
    process.env = original;
  });

  /** Runs a boundary with the given inputs set, and returns the input names it read. */
  function readsOf(read: () => unknown, inputs: Record<string, string>): string[] {
    const seen = new Set<string>();
    const env: NodeJS.ProcessEnv = { ...original };
    for (const key of Object.keys(env)) if (key.startsWith("INPUT_")) delete env[key];
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    process.env = new Proxy(env, {
      get(target, key) {
        if (typeof key === "string" && key.startsWith("INPUT_")) seen.add(key.slice(6).toLowerCase());
        return Reflect.get(target, key);
      },
    });
    read();
    return [...seen].sort();
  }

  const trial = JSON.stringify({ sweep_id: "s", trial_id: "t0000", seed: 1, params: {} });
  const cases: Array<[string, () => unknown, Record<string, string>]> = [
    ["sweep", () => readSweepInputs(), { mode: "plan" }],
    ["sweep", () => readSweepInputs(), { mode: "trial", trial }],
    ["score", () => readScoreInputs(), { mode: "trial", trial, "trial-dir": "x" }],
    ["score", () => readScoreInputs(), { mode: "aggregate", "sweep-id": "s", token: "t" }],
    ["verify-evidence", () => readVerifyInputs(), { path: "x" }],
    ["package", () => readPackageInputs(), { "run-dir": "x" }],
    ["tunix-rt", () => readUmbrellaInputs(), { command: "verify" }],
  ];
  for (const [name, read, inputs] of cases) {
    it(`${name} (${inputs.mode ?? inputs.command ?? "inputs"})`, () => {
      const declared = Object.keys(load(actionFiles[name]).inputs);
      for (const input of readsOf(read, inputs))
        expect(declared, `${name} reads undeclared input ${input}`).toContain(input);
    });
  }
});
