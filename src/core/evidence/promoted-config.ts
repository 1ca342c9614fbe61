/**
 * The promoted config (run_manifest.json `config_path`, written by `bestConfigYaml` in
 * src/core/evidence/aggregate.ts) checked against the evidence that names it: the same run_version,
 * sweep, best trial, params and budget. A promoted config of another run_version (or of
 * another sweep of this one) beside this evidence would otherwise be packaged as if it were
 * this run's.
 *
 * Pure: the caller reads the file and hands its text in.
 */

import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { messageOf, type Problem, quote } from "../errors.js";
import { isObject } from "../json.js";

/** What the evidence says the promoted config must carry. */
export interface PromotedExpectations {
  /** The evidence folder's run_version. */
  runVersion: string;
  /** run_manifest.json tuning_job_id (the sweep id), when the manifest could be read. */
  tuningJobId?: string | null;
  /**
   * The best trial's id and where it comes from (`the best completed trial in trials.jsonl`,
   * else `best_params.json trial_id`), when known.
   */
  trialId?: { value: string | null; from: string };
  /** best_params.json params and budget, when best_params.json could be read. */
  best?: { params: Readonly<Record<string, unknown>>; budget?: unknown };
}

/**
 * The problems of a promoted config's text against the evidence, each naming `file` (how the
 * caller shows the config), the field, and both values.
 */
export function checkPromotedConfig(text: string, file: string, expect: PromotedExpectations): Problem[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problems: Problem[] = [];
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const line = error ? lines.linePos(error.pos[0]).line : undefined;
    const reason = (error?.message ?? "").split("\n")[0] ?? "";
    return [
      { file, ...(line === undefined ? {} : { line }), path: "", message: `not valid YAML: ${reason}` },
    ];
  }
  let value: unknown;
  try {
    // Aliases are bounded (a "billion laughs" document expands past any memory): past the
    // bound, the document is a problem like any other broken one, never a crash.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return [{ file, path: "", message: `not valid YAML: ${messageOf(error).split("\n")[0]}` }];
  }
  if (!isObject(value)) {
    return [{ file, path: "", message: `got ${quote(value)}; expected the promoted config, a YAML mapping` }];
  }
  const lineOf = (path: readonly string[]): number | undefined => keyLine(doc.contents, path, lines);
  const add = (path: readonly string[], message: string) => {
    const line = lineOf(path);
    problems.push({ file, ...(line === undefined ? {} : { line }), path: path.join("."), message });
  };
  const differs = (path: readonly string[], got: unknown, want: unknown, whose: string) => {
    if (same(got, want)) return;
    add(path, `${got === undefined ? "missing" : `got ${quote(got)}`}; ${whose} ${quote(want)}`);
  };

  differs(["run_version"], value.run_version, expect.runVersion, "this evidence is of run_version");
  const provenance = value.provenance;
  if (!isObject(provenance)) {
    add(
      ["provenance"],
      `${provenance === undefined ? "missing" : `got ${quote(provenance)}`}; expected the sweep and trial the config was promoted from`,
    );
  } else {
    if (expect.tuningJobId !== undefined) {
      differs(
        ["provenance", "sweep_id"],
        provenance.sweep_id,
        expect.tuningJobId,
        "run_manifest.json tuning_job_id is",
      );
    }
    if (expect.trialId !== undefined) {
      differs(
        ["provenance", "trial_id"],
        provenance.trial_id,
        expect.trialId.value,
        `${expect.trialId.from} is`,
      );
    }
  }
  const best = expect.best;
  if (best) {
    const params = value.params;
    if (!isObject(params)) {
      add(
        ["params"],
        `${params === undefined ? "missing" : `got ${quote(params)}`}; best_params.json has ${quote(best.params)}`,
      );
    } else {
      const names = [...new Set([...Object.keys(best.params), ...Object.keys(params)])];
      for (const name of names) {
        const got = Object.hasOwn(params, name) ? params[name] : undefined;
        const want = Object.hasOwn(best.params, name) ? best.params[name] : undefined;
        if (want === undefined) {
          add(["params", name], `got ${quote(got)}; best_params.json has no parameter ${quote(name)}`);
        } else differs(["params", name], got, want, "best_params.json has");
      }
    }
    if (best.budget !== undefined || value.budget !== undefined) {
      if (best.budget === undefined)
        add(["budget"], `got ${quote(value.budget)}; best_params.json has no budget`);
      else differs(["budget"], value.budget, best.budget, "best_params.json has");
    }
  }
  return problems;
}

/** Equal values (params are flat scalars; -0 and 0 differ, as a YAML file can tell them apart). */
function same(a: unknown, b: unknown): boolean {
  return Object.is(a, b);
}

/** The line of the key at `path`, or of the nearest ancestor key that is there. */
function keyLine(node: unknown, path: readonly string[], lines: LineCounter): number | undefined {
  let current = node;
  let found: number | undefined;
  for (const segment of path) {
    if (!isMap(current)) break;
    const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
    const start = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    if (!pair || start === undefined) break;
    found = lines.linePos(start).line;
    current = pair.value;
  }
  return found;
}
