/**
 * Random and mutated evidence, folder and zip, fed to verify for a fixed time: every run
 * must end valid, or invalid with one-line problems, or (a zip that cannot be read) one
 * InputError line; never any other exception. A failing case prints its seed and keeps its
 * input under the test's temp folder; FUZZ_SEED replays a run, FUZZ_MS runs longer
 * (default 6 s: `FUZZ_MS=600000 npx vitest run test/hostile/fuzz.test.ts` for ten minutes).
 *
 * In-process (verifyEvidenceFolder, verifySubmissionZip) for speed, then a sample of the cases
 * through the CLI, whose stderr must hold no stack and no "internal error".
 */
import { cp, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatProblem, InputError } from "../../src/core/errors.js";
import type { ArchivePlan } from "../../src/core/evidence/archive.js";
import { createRng, type Rng } from "../../src/core/rng.js";
import { zipBytes } from "../../src/runtime/archive-write.js";
import { verifyEvidenceFolder, verifySubmissionZip } from "../../src/runtime/evidence-read.js";
import { readZipFile } from "../../src/runtime/zip-read.js";
import { tempDir } from "../helpers/cli.js";
import { referenceZip } from "../helpers/example-repo.js";
import { evidence, referenceRepo, runCliWithin } from "./helpers.js";

const budgetMs = Number(process.env.FUZZ_MS ?? 6_000);
const seed = Number(process.env.FUZZ_SEED ?? 20_261_207);

type Files = Map<string, Buffer>;

let work: string;
let repo: string;
let folderFiles: Files;
let zipMembers: Files;

beforeAll(async () => {
  work = await tempDir("tunix-rt-fuzz-");
  repo = await referenceRepo("tunix-rt-fuzz-repo-");
  folderFiles = new Map();
  for (const entry of await readdir(path.join(repo, evidence), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    folderFiles.set(path.relative(path.join(repo, evidence), file), await readFile(file));
  }
  zipMembers = new Map();
  for (const m of await readZipFile(await referenceZip()))
    if (m.kind === "file") zipMembers.set(m.name, m.data);
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  if (repo) await rm(repo, { recursive: true, force: true });
});

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)] as T;

/** Random JSON values, from fast-check's generator, seeded by the case. */
function randomJson(rng: Rng): unknown {
  return fc.sample(fc.jsonValue({ maxDepth: 4 }), { seed: rng.nextUint32(), numRuns: 1 })[0];
}

/** Strings that have broken readers: huge, deep, odd numbers, control characters, tricky keys. */
function nasty(rng: Rng): string {
  return pick(rng, [
    () => "[".repeat(1 + rng.int(5000)),
    () => `{"a":${"[".repeat(70)}1${"]".repeat(70)}}`,
    () => "1e999",
    () => "NaN",
    () => '"\\ud800"',
    () => `"${"x".repeat(rng.int(200_000))}"`,
    () => '{"__proto__": {"polluted": 1}, "constructor": {"prototype": 1}}',
    () => '{"a": 1, "a": 2}',
    () => "\u0000\u001b[2J\r\n::warning::x",
    () => "-0",
    () => "12345678901234567890123",
    () => JSON.stringify(randomJson(rng)),
  ])();
}

/** A JSON document with one value replaced anywhere by a random or nasty one. */
function mutateJson(rng: Rng, text: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  const holders: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v))
      v.forEach((x, i) => {
        holders.push({ parent: v, key: i });
        walk(x);
      });
    else if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v)) {
        holders.push({ parent: v as Record<string, unknown>, key: k });
        walk(x);
      }
  };
  walk(doc);
  if (holders.length === 0) return nasty(rng);
  const h = pick(rng, holders);
  const marker = "\u0001NASTY\u0001";
  const choice = rng.int(3);
  (h.parent as Record<string | number, unknown>)[h.key] =
    choice === 0 ? randomJson(rng) : choice === 1 ? marker : undefined;
  const out = JSON.stringify(doc, null, rng.int(2) === 0 ? 2 : undefined) ?? "";
  return out.replace(JSON.stringify(marker), nasty(rng));
}

/** One mutation of a file's bytes. */
function mutateBytes(rng: Rng, data: Buffer, name: string): Buffer {
  const text = data.toString("utf8");
  const lines = text.split("\n");
  const ops: Array<() => Buffer> = [
    () => {
      const copy = Buffer.from(data);
      for (let k = 0; k < 1 + rng.int(8) && copy.length > 0; k++) copy[rng.int(copy.length)] = rng.int(256);
      return copy;
    },
    () => data.subarray(0, rng.int(data.length + 1)),
    () => Buffer.concat([data, Buffer.from(nasty(rng))]),
    () => {
      const i = rng.int(lines.length);
      lines.splice(i, 0, lines[rng.int(lines.length)] ?? "");
      return Buffer.from(lines.join("\n"));
    },
    () => {
      lines.splice(rng.int(lines.length), 1);
      return Buffer.from(lines.join("\n"));
    },
    () => {
      const i = rng.int(lines.length);
      lines[i] = name.endsWith(".jsonl") ? mutateJson(rng, lines[i] ?? "") : nasty(rng);
      return Buffer.from(lines.join("\n"));
    },
    () => Buffer.from(name.endsWith(".json") ? mutateJson(rng, text) : nasty(rng)),
    () => Buffer.from(JSON.stringify(randomJson(rng))),
    () => Buffer.alloc(0),
    () => Buffer.from(`${lines[0] ?? ""}\n`.repeat(1 + rng.int(3000))),
  ];
  return pick(rng, ops)();
}

/** Evidence files mutated: most files kept, a few edited, dropped or added. */
function mutateFiles(rng: Rng, files: Files, randomOnly: boolean): Files {
  const out: Files = new Map();
  if (randomOnly) {
    for (const name of files.keys())
      if (rng.int(4) > 0) out.set(name, Buffer.from(JSON.stringify(randomJson(rng))));
    return out;
  }
  for (const [name, data] of files) out.set(name, data);
  const names = [...files.keys()];
  for (let k = 0; k < 1 + rng.int(3); k++) {
    const name = pick(rng, names);
    const op = rng.int(10);
    if (op === 0) out.delete(name);
    else if (op === 1) out.set(`${name}.extra`, mutateBytes(rng, files.get(name) as Buffer, name));
    else out.set(name, mutateBytes(rng, out.get(name) ?? (files.get(name) as Buffer), name));
  }
  return out;
}

/** What one run of verify must look like; returns the failure, or undefined. */
function judge(outcome: {
  problems: readonly { file: string; path: string; message: string; line?: number }[];
}): string | undefined {
  for (const p of outcome.problems) {
    const line = formatProblem(p);
    if (/[\r\n]/.test(line)) return `a problem spans lines: ${JSON.stringify(line)}`;
    if (p.message === "" || /internal error/i.test(line))
      return `a problem says nothing, or internal error: ${line}`;
  }
  return undefined;
}

interface Case {
  kind: "folder" | "zip" | "zip-bytes";
  n: number;
  dir: string;
}

/** How the cases ended: valid, invalid (problems), unreadable (an InputError line). */
const verdicts = { valid: 0, invalid: 0, unreadable: 0 };
const tally = <T extends { problems: readonly unknown[] }>(outcome: T): T => {
  if (outcome.problems.length === 0) verdicts.valid++;
  else verdicts.invalid++;
  return outcome;
};

/** Runs one case; returns a failure message, or undefined. */
async function runCase(rng: Rng, c: Case): Promise<string | undefined> {
  try {
    if (c.kind === "folder") {
      const dir = path.join(repo, "submission_runs", `fz${c.n}_v1`);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      for (const [name, data] of mutateFiles(rng, folderFiles, rng.int(6) === 0)) {
        await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
        if (rng.int(40) === 0) await mkdir(path.join(dir, name), { recursive: true });
        else if (rng.int(60) === 0)
          await symlink(pick(rng, ["/dev/zero", "../../../../etc/passwd", name]), path.join(dir, name));
        else await writeFile(path.join(dir, name), data);
      }
      const outcome = tally(await verifyEvidenceFolder(dir, { cwd: repo }));
      await rm(dir, { recursive: true, force: true });
      return judge(outcome);
    }
    const file = path.join(c.dir, `case-${c.n}.zip`);
    const members = c.kind === "zip" ? mutateFiles(rng, zipMembers, rng.int(8) === 0) : zipMembers;
    const plan = { members: [...members].map(([name, data]) => ({ name, data })) } as unknown as ArchivePlan;
    let bytes = await zipBytes(plan);
    if (c.kind === "zip-bytes") bytes = mutateBytes(rng, bytes, "x.zip");
    await writeFile(file, bytes);
    const outcome = await verifySubmissionZip(file, { cwd: c.dir }).then(tally, (error: unknown) => {
      // A zip that cannot be read at all is one line and exit 2; any other throw is a crash.
      if (error instanceof InputError && !/[\r\n]/.test(error.message)) {
        verdicts.unreadable++;
        return { problems: [] };
      }
      throw error;
    });
    const failure = judge(outcome);
    if (!failure) await rm(file, { force: true });
    return failure;
  } catch (error) {
    return `threw ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`;
  }
}

describe("verify on random and mutated evidence", () => {
  it(
    `ends valid or invalid with one-line problems, never a crash, for ${budgetMs / 1000} s (seed ${seed})`,
    async () => {
      const dir = path.join(work, "zips");
      await mkdir(dir, { recursive: true });
      const kinds: Case["kind"][] = ["folder", "zip", "zip-bytes"];
      const counts: Record<string, number> = { folder: 0, zip: 0, "zip-bytes": 0 };
      const failures: string[] = [];
      const started = Date.now();
      let n = 0;
      while (Date.now() - started < budgetMs && failures.length < 5) {
        const rng = createRng("fuzz", seed, n);
        const kind = kinds[n % kinds.length] as Case["kind"];
        const failure = await runCase(rng, { kind, n, dir });
        if (failure) failures.push(`case ${n} (${kind}, FUZZ_SEED=${seed}): ${failure}`);
        counts[kind] = (counts[kind] ?? 0) + 1;
        n++;
      }
      console.log(
        `fuzz: ${n} cases in ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}; ended ${JSON.stringify(verdicts)}`,
      );
      expect(failures).toEqual([]);
      expect(n).toBeGreaterThan(30);
      // The mutations reach every ending: none is a corpus of one kind.
      expect(verdicts.invalid).toBeGreaterThan(0);
      expect(verdicts.unreadable).toBeGreaterThan(0);
    },
    budgetMs + 60_000,
  );

  it("through the CLI, a sample of the cases: exit 0, 1 or 2, and no stack on stderr", async () => {
    const dir = path.join(work, "cli");
    await mkdir(dir, { recursive: true });
    for (let n = 0; n < 6; n++) {
      const rng = createRng("fuzz-cli", seed, n);
      const target = path.join(repo, "submission_runs", `cli${n}_v1`);
      if (n % 3 === 0) {
        await cp(path.join(repo, evidence), target, { recursive: true });
        for (const [name, data] of mutateFiles(rng, folderFiles, false))
          await writeFile(path.join(target, name), data);
      }
      const zip = path.join(dir, `cli-${n}.zip`);
      if (n % 3 !== 0) {
        const members = mutateFiles(rng, zipMembers, false);
        let bytes = await zipBytes({
          members: [...members].map(([name, data]) => ({ name, data })),
        } as unknown as ArchivePlan);
        if (n % 3 === 2) bytes = mutateBytes(rng, bytes, "x.zip");
        await writeFile(zip, bytes);
      }
      const run = await runCliWithin(["verify", n % 3 === 0 ? target : zip], { cwd: repo });
      expect(run.timedOut).toBe(false);
      expect([0, 1, 2]).toContain(run.code);
      expect(run.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
    }
  }, 120_000);
});
