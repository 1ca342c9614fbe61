/**
 * The layers of src/core, read from its imports. Each folder is a stage of the pipeline and
 * imports only the stages below it; the files at the root (the base) import no folder:
 *
 *   evidence   what a sweep leaves behind: aggregate, verify, archive, signatures
 *   report     the leaderboard, the charts and report.html, drawn from trial records
 *   search     the samplers, planning, fidelity, pruning, the recommendation, trial records
 *   config     the sweep config, the search space, imports of other tools' sweeps
 *   grading    the evalset, grading and primary_score
 *   progress   what a running sweep shows (ETA, metrics)
 *   workflows  the GitHub workflows `init` writes
 *   (root)     the base: errors, JSON, escaping, limits, types, rng, redaction, ranking
 *
 * No import runs upwards, so there is no cycle between folders; and core, pure domain,
 * imports nothing of `@actions/*`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers/cli.js";

const core = path.join(repoRoot, "src/core");
/** What each folder may import besides itself and the base. */
const below: Record<string, readonly string[]> = {
  evidence: ["report", "search", "config", "grading"],
  report: ["search", "config", "grading"],
  search: ["config", "grading"],
  config: [],
  grading: [],
  progress: [],
  workflows: [],
  base: [],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** The folder of src/core a file is in ("base" for the root). */
const folderOf = (file: string): string => {
  const rel = path.relative(core, file);
  return rel.includes(path.sep) ? (rel.split(path.sep)[0] as string) : "base";
};

/** Every import of a file: [specifier, resolved path or package name]. */
function importsOf(file: string): Array<{ spec: string; target: string }> {
  const text = readFileSync(file, "utf8");
  const out: Array<{ spec: string; target: string }> = [];
  for (const m of text.matchAll(
    /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g,
  )) {
    const spec = (m[1] ?? m[2]) as string;
    out.push({ spec, target: spec.startsWith(".") ? path.resolve(path.dirname(file), spec) : spec });
  }
  return out;
}

/** The folder graph: folder -> folder -> one example import ("a.ts -> b.ts"). */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of files(core)) {
    const from = folderOf(file);
    for (const { target } of importsOf(file)) {
      if (!target.startsWith(core)) continue;
      const to = folderOf(target);
      if (to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      edges.set(to, `${path.relative(core, file)} -> ${path.relative(core, target)}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** A cycle between folders (their names, the first repeated at the end), or undefined. */
function findCycle(graph: ReadonlyMap<string, ReadonlyMap<string, string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

describe("src/core's layers", () => {
  const graph = folderGraph();

  it("has no import cycle between its folders", () => {
    const cycle = findCycle(graph);
    const example = cycle?.slice(1).map((to, i) => graph.get(cycle[i] as string)?.get(to));
    expect(cycle, `a cycle: ${cycle?.join(" -> ")} (${example?.join("; ")})`).toBeUndefined();
  });

  it("has no import cycle between its files either (type-only imports included)", () => {
    const byFile = new Map<string, Map<string, string>>();
    for (const file of files(core)) {
      const edges = new Map<string, string>();
      for (const { target } of importsOf(file))
        if (target.startsWith(core)) edges.set(path.relative(core, target.replace(/\.js$/, ".ts")), "");
      byFile.set(path.relative(core, file), edges);
    }
    const cycle = findCycle(byFile);
    expect(cycle, `a cycle: ${cycle?.join(" -> ")}`).toBeUndefined();
  });

  it("imports only downwards: each folder the stages below it and the base", () => {
    const upward: string[] = [];
    for (const [from, edges] of graph)
      for (const [to, example] of edges)
        if (to !== "base" && !(below[from] ?? []).includes(to)) upward.push(`${from} -> ${to}: ${example}`);
    expect(Object.keys(below).sort()).toEqual([...new Set([...files(core).map(folderOf)])].sort());
    expect(upward).toEqual([]);
  });

  it("imports nothing of @actions/* (core is pure domain, runnable outside a runner)", () => {
    const bad = files(core).flatMap((file) =>
      importsOf(file)
        .filter(({ spec }) => spec.startsWith("@actions/"))
        .map(({ spec }) => `${path.relative(core, file)}: ${spec}`),
    );
    expect(bad).toEqual([]);
  });

  it("the cycle check finds a cycle when there is one (the test can fail)", () => {
    const g = new Map([
      ["a", new Map([["b", "x"]])],
      ["b", new Map([["c", "y"]])],
      ["c", new Map([["a", "z"]])],
    ]);
    expect(findCycle(g)).toEqual(["a", "b", "c", "a"]);
    expect(findCycle(new Map([["a", new Map([["b", "x"]])]]))).toBeUndefined();
  });
});
