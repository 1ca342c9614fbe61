/**
 * Writing the sweep report: the charts into the evidence folder's charts/ (evidence like the
 * rest: committed with it, zipped and listed in MANIFEST.json) and report.html where the
 * caller says; and reading what a report needs back from an evidence folder or a submission
 * zip (`tunix-rt report`).
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { isSafeRunVersion, runVersionRule, type SweepConfig, validateConfig } from "../core/config/config.js";
import { InputError, quote } from "../core/errors.js";
import { jsonlEntries } from "../core/evidence/verify.js";
import type { Chart, ChartTrial } from "../core/report/charts.js";
import { reportInputOf } from "../core/report/input.js";
import { type ReportInput, reportHtml, sweepCharts } from "../core/report/report.js";
import { describeFsError, writeFileAtomic } from "./files.js";
import { readZipFile } from "./zip-read.js";

export { reportInputOf };

/**
 * Writes the charts into `dir/charts/` (each atomically), first removing chart files an
 * earlier report left that this one does not draw (a rungs chart of an earlier sweep).
 * Returns the files written.
 */
export async function writeCharts(dir: string, charts: readonly Chart[]): Promise<string[]> {
  const chartsDir = path.join(dir, "charts");
  await mkdir(chartsDir, { recursive: true });
  const keep = new Set(charts.map((c) => c.file));
  for (const name of await readdir(chartsDir)) {
    if (name.endsWith(".svg") && !keep.has(name)) await rm(path.join(chartsDir, name), { force: true });
  }
  const written: string[] = [];
  for (const chart of charts) {
    const file = path.join(chartsDir, chart.file);
    await writeFileAtomic(file, chart.svg);
    written.push(file);
  }
  return written;
}

/** Writes report.html (and nothing else) to `file`, atomically. */
export async function writeReportHtml(
  file: string,
  input: ReportInput,
  charts?: readonly Chart[],
): Promise<string> {
  await writeFileAtomic(file, reportHtml(input, charts ?? sweepCharts(input)));
  return file;
}

/**
 * What a report needs, from an evidence folder or a submission zip: trials.jsonl, and the
 * sweep config that best_params.json keeps (its search space gives the axes; without a
 * valid one, axes come from the values seen), the run_version and the sweep id.
 */
export async function readReportSource(
  target: string,
): Promise<{ input: ReportInput; config?: SweepConfig }> {
  const files = new Map<string, string>();
  if (/\.zip$/i.test(target)) {
    const members = await readZipFile(target, target);
    const manifest = members.find((m) => m.name === "MANIFEST.json");
    let runDir = "";
    try {
      runDir = String(JSON.parse(manifest?.data.toString("utf8") ?? "{}").run_dir ?? "");
    } catch {
      // Read below as a missing file.
    }
    for (const m of members) {
      if (runDir && m.kind === "file" && m.name.startsWith(`${runDir}/`))
        files.set(m.name.slice(runDir.length + 1), m.data.toString("utf8"));
    }
  } else {
    for (const name of ["trials.jsonl", "best_params.json", "run_manifest.json"]) {
      try {
        files.set(name, await readFile(path.join(target, name), "utf8"));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT")
          throw new InputError(`${path.join(target, name)}: cannot read: ${describeFsError(error)}`);
      }
    }
  }
  const trialsText = files.get("trials.jsonl");
  if (trialsText === undefined)
    throw new InputError(`${target}: no trials.jsonl; expected an evidence folder or a submission zip`);
  const trials: ChartTrial[] = [];
  for (const entry of jsonlEntries(trialsText)) {
    if (!entry.ok)
      throw new InputError(
        `${target}: trials.jsonl:${entry.line}: not valid JSON; run tunix-rt verify on it`,
      );
    const t = entry.value as ChartTrial;
    if (
      t &&
      typeof t === "object" &&
      typeof t.trial_id === "string" &&
      t.params &&
      typeof t.params === "object"
    )
      trials.push(t);
  }
  const parse = (name: string): Record<string, unknown> => {
    try {
      const value = JSON.parse(files.get(name) ?? "{}");
      return value && typeof value === "object" ? value : {};
    } catch {
      return {};
    }
  };
  const best = parse("best_params.json");
  const manifest = parse("run_manifest.json");
  const checked = validateConfig(best.sweep_config, "best_params.json");
  const runVersion = String(
    manifest.run_version ?? (checked.ok ? checked.value.run_version : path.basename(target)),
  );
  // The run_version names the report's folder (runs/<run_version>/): from evidence, it passes
  // the config's rule before it becomes a path, so `../../victim` never leaves runs/.
  if (!isSafeRunVersion(runVersion))
    throw new InputError(
      `${target}: run_manifest.json run_version: got ${quote(runVersion)}; expected ${runVersionRule} (it names the report's folder)`,
    );
  const sweepId = typeof manifest.tuning_job_id === "string" ? manifest.tuning_job_id : null;
  if (checked.ok)
    return {
      // Evidence without a recommendation chose the best observed score.
      input: reportInputOf(
        {
          ...checked.value,
          run_version: runVersion,
          ...(best.recommendation === undefined ? { recommend: "best_observed" as const } : {}),
        },
        trials,
        sweepId,
        undefined,
        // The trials a spent failure budget kept from starting, as the manifest counts them.
        typeof (manifest.trials as { not_run?: unknown } | undefined)?.not_run === "number"
          ? (manifest.trials as { not_run: number }).not_run
          : 0,
      ),
      config: checked.value,
    };
  return { input: { runVersion, sweepId, trials } };
}
