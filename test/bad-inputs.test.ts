/**
 * The bad-input corpus (test/bad-inputs/cases.yaml): every case runs the real CLI in a fresh
 * folder holding only its own files, and must end with the stated exit code and ONE error
 * line on stderr that holds the stated fragment (the file and field, where there is one),
 * with no stack trace, no crash, and no file left behind but those the case expects.
 *
 * The CLI is `node bin/tunix-rt.js` (build lib/ first: `npm test` does). Cases run
 * concurrently, a few child processes at a time.
 */
import { cp, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BadInputCase, fixturesDir, loadBadInputCases } from "./helpers/bad-inputs.js";
import { type CliResult, cliBin, runProcess, tempDir } from "./helpers/cli.js";

/** The cases of the corpus (loaded at collection time, so each case is its own test). */
const badInputCases: BadInputCase[] = await loadBadInputCases();

/** Every path under `dir`, relative, folders with a trailing slash, sorted. */
async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .map((e) => {
      const rel = path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/");
      return e.isDirectory() ? `${rel}/` : rel;
    })
    .sort();
}

/** Writes a case's files into its folder. */
async function prepare(dir: string, c: BadInputCase): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [to, from] of Object.entries(c.copy ?? {})) {
    await cp(path.join(fixturesDir, from), path.join(dir, to), { recursive: true });
  }
  for (const remove of c.remove ?? []) await rm(path.join(dir, remove), { recursive: true });
  for (const folder of c.dirs ?? []) await mkdir(path.join(dir, folder), { recursive: true });
  for (const [file, text] of Object.entries(c.files ?? {})) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  for (const [file, text] of Object.entries(c.latin1 ?? {})) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), Buffer.from(text, "latin1"));
  }
}

/** Runs the CLI in `cwd`; resolves with what it printed and how it ended. */
function runIn(cwd: string, args: string[]): Promise<CliResult> {
  // A CI runner's GITHUB_* variables must not change what a local command does.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const key of Object.keys(env)) if (key.startsWith("GITHUB_")) delete env[key];
  return runProcess([process.execPath, cliBin, ...args], { cwd, env });
}

/** Lines that show a crash rather than a message: stack frames, error class names, Node internals. */
const crashSigns = [
  /^\s+at\s/m,
  /\b[A-Z][A-Za-z]*Error\b/,
  /internal error/i,
  /node:internal/,
  /\bERR_[A-Z_]+\b/,
];
/** Informational lines a command may print before its error (notes on a translated config). */
const noteLine = /^tunix-rt [a-z]+: note: /;

let root: string;
beforeAll(async () => {
  root = await tempDir("tunix-rt-bad-inputs-");
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the bad-input corpus", () => {
  it("holds at least 40 cases with unique ids, across every category", () => {
    expect(badInputCases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(badInputCases.map((c) => c.id)).size).toBe(badInputCases.length);
    const categories = new Set(badInputCases.map((c) => c.category));
    for (const category of [
      "config",
      "wandb",
      "m34",
      "evalset",
      "predictions",
      "rows",
      "history",
      "trial",
      "evidence",
      "flags",
    ]) {
      expect(categories, category).toContain(category);
    }
  });
});

describe.concurrent("bad input", () => {
  for (const c of badInputCases) {
    it(`${c.id}: ${c.description}`, async ({ expect }) => {
      const dir = path.join(root, c.id);
      await prepare(dir, c);
      const before = await listTree(dir);
      const args = c.args.map((arg) => arg.replaceAll("{tmp}", dir));
      const result = await runIn(dir, args);
      const shown = `exit ${result.code}\nstderr:\n${result.stderr}\nstdout:\n${result.stdout}`;

      expect(result.code, shown).toBe(c.exit);
      const lines = result.stderr.split("\n").filter((line) => line !== "");
      const errors = lines.filter((line) => !noteLine.test(line));
      expect(errors, shown).toHaveLength(1);
      expect(errors[0], shown).toContain(c.message);
      for (const sign of crashSigns) {
        expect(result.stderr, shown).not.toMatch(sign);
        expect(result.stdout, shown).not.toMatch(sign);
      }
      if (c.stdout !== undefined) expect(result.stdout, shown).toContain(c.stdout);
      if (c.json) expect(() => JSON.parse(result.stdout), shown).not.toThrow();
      if (c.args.includes("--json")) {
        // Under --json a failure is one JSON object on stdout naming the same problem.
        // (verify's report is its own object, {valid, problems, notes}.)
        const failure = JSON.parse(result.stdout);
        if ("valid" in failure) expect(failure.valid, shown).toBe(false);
        else {
          expect(failure, shown).toMatchObject({ ok: false, exit_code: c.exit });
          expect(failure.error, shown).toContain(c.message);
        }
        expect(failure.problems.length, shown).toBeGreaterThan(0);
      } else if (c.stdout === undefined && !c.json) expect(result.stdout, shown).toBe("");

      // Nothing half-written, nothing unexpected: the folder holds what it held, plus only
      // the files the case expects the command to create.
      const after = await listTree(dir);
      expect(after.filter((p) => /\.tmp$|\.tmp\//.test(p))).toEqual([]);
      const created = after.filter((p) => !before.includes(p));
      const createdFiles = created.filter((p) => !p.endsWith("/"));
      expect(createdFiles, shown).toEqual([...(c.creates ?? [])].sort());
      // A new folder only as the home of an expected file (no empty leftovers).
      for (const folder of created.filter((p) => p.endsWith("/")))
        expect(
          createdFiles.some((file) => file.startsWith(folder)),
          `${folder} left empty`,
        ).toBe(true);
      expect(
        before.filter((p) => !after.includes(p)),
        shown,
      ).toEqual([]);
    });
  }
});
