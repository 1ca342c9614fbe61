/**
 * The sweep report: every chart of ./charts.ts and the numbers behind them, as one
 * self-contained HTML page (no script, no style sheet, font or image from anywhere else: it
 * opens from a file or a downloaded artifact, offline) and as the list of chart files the
 * evidence folder keeps. Also the pieces GitHub renders itself in a pull request body or a
 * job summary: a Mermaid best-so-far chart and the importance table. Pure.
 */

import { bestTrial, rankTrials } from "../best-trial.js";
import type { ParamSpec } from "../config/config.js";
import { markdownText } from "../escape.js";
import type { PruningConfig } from "../search/pruning.js";
import {
  type Chart,
  type ChartTrial,
  finishOrder,
  historyChart,
  type ImportanceView,
  importanceChart,
  rungsChart,
} from "./charts.js";
import { type CurveTrial, curvesChart } from "./curves.js";
import type { LeaderboardTable } from "./leaderboard.js";
import { parallelChart, slicesChart } from "./param-charts.js";
import { esc } from "./svg.js";

/** What a report is made of. */
export interface ReportInput {
  runVersion: string;
  sweepId: string | null;
  /** The search space the trials were planned from (axes); absent: axes from the values seen. */
  space?: Readonly<Record<string, ParamSpec>> | undefined;
  /** Model, dataset, sampler: shown at the top when known. */
  facts?: Readonly<Record<string, string | number | null | undefined>>;
  trials: readonly ChartTrial[];
  importance?: ImportanceView;
  /** How the evidence chose its best trial (best_params.json `recommendation`); absent: the best observed. */
  recommended?: { trial_id: string; rule: string; estimate: number; mean: number; count: number };
  /** The leaderboard, as leaderboard.md shows it (`leaderboardTable`); absent: ranked by score. */
  leaderboard?: LeaderboardTable;
  /** The sweep's `pruning`: with it, the learning-curves chart of the trials' recorded curves. */
  pruning?: PruningConfig | undefined;
}

/**
 * The charts of a sweep, in the order the report shows them (learning curves only with
 * pruning, rungs only with successive halving).
 */
export function sweepCharts(input: ReportInput): Chart[] {
  const curves = curvesChart(input.trials, input.pruning);
  const charts = [
    historyChart(input.trials),
    ...(curves ? [curves] : []),
    parallelChart(input.trials, input.space),
    slicesChart(input.trials, input.space, input.recommended?.trial_id),
  ];
  if (input.importance && input.importance.params.length > 0) charts.push(importanceChart(input.importance));
  const rungs = rungsChart(input.trials);
  if (rungs) charts.push(rungs);
  return charts;
}

/** The data block of the page: what a reader (or a test) can read back without parsing SVG. */
export function reportData(input: ReportInput) {
  return {
    format: "tunix-rt-report/1",
    run_version: input.runVersion,
    sweep_id: input.sweepId,
    trials: finishOrder(input.trials).map((t) => ({
      trial_id: t.trial_id,
      order: t.order,
      status: t.status,
      primary_score: t.primary_score,
      params: t.params,
      ...(t.budget === undefined ? {} : { budget: t.budget }),
      ...(t.rung === undefined ? {} : { rung: t.rung }),
      ...(t.wave === undefined ? {} : { wave: t.wave }),
      ...prunedAt(t),
    })),
    importance: input.importance ?? null,
    recommended: input.recommended ?? null,
  };
}

/** A pruned trial's step, value and threshold, as the curves chart marks them (numbers only). */
function prunedAt(t: CurveTrial): { pruned?: { step: number; value: number; threshold: number | null } } {
  const d = t.status === "pruned" ? t.pruned : undefined;
  if (!d || typeof d.step !== "number" || typeof d.value !== "number") return {};
  return {
    pruned: { step: d.step, value: d.value, threshold: typeof d.threshold === "number" ? d.threshold : null },
  };
}

const cell = (v: unknown) => esc(v === null || v === undefined ? "–" : String(v));

/** report.html: the charts inline, each with its caption, and the tables holding every number. */
export function reportHtml(input: ReportInput, charts: readonly Chart[] = sweepCharts(input)): string {
  const ranked = rankTrials(input.trials);
  const chosen = input.recommended;
  const best = (chosen && ranked.find((t) => t.trial_id === chosen.trial_id)) ?? bestTrial(input.trials);
  const how =
    chosen?.rule === "model"
      ? `; chosen by the model's estimate of its true score, ${chosen.estimate.toFixed(4)}`
      : chosen?.rule === "repeats_mean"
        ? `; chosen by the mean of its ${chosen.count} runs, ${chosen.mean.toFixed(4)}`
        : "";
  const counts = {
    total: input.trials.length,
    completed: input.trials.filter((t) => t.status === "completed").length,
    failed: input.trials.filter((t) => t.status === "failed" || t.status === "timeout").length,
  };
  const names = [...new Set(input.trials.flatMap((t) => Object.keys(t.params)))];
  const facts = Object.entries(input.facts ?? {}).filter(
    ([, v]) => v !== undefined && v !== null && v !== "",
  );
  const board = input.leaderboard;
  // The leaderboard: leaderboard.md's own table when the report has it, else the scored
  // trials ranked by score (a report of evidence that has no leaderboard).
  let leaderboardHtml: string;
  let headline: string;
  if (board) {
    headline = `<p class="muted">${esc(board.summary)}</p>${board.budget ? `<p class="budget">${esc(board.budget)}</p>` : ""}`;
    const list = (items: string[]) =>
      items.length ? `<ul>${items.map((i) => `<li>${i}</li>`).join("")}</ul>` : "";
    leaderboardHtml = [
      board.tie ? `<p class="note">${esc(board.tie)}</p>` : "",
      board.order ? `<p class="note">${esc(board.order)}</p>` : "",
      `<table class="leaderboard"><thead><tr>${board.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>${board.rows
        .map(
          (r) =>
            `<tr${r.best ? ' class="best"' : ""}>${r.cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`,
        )
        .join("")}</tbody></table>`,
      board.more ? `<p class="note">${board.more} more trials in trials.jsonl.</p>` : "",
      board.failures.length
        ? `<h3>Failed trials</h3>${list(board.failures.map((f) => `${esc(f.trial_id)} (${esc(f.status)}): ${esc(f.reason)}`))}`
        : "",
      board.notes.length
        ? `<h3>Notes on completed trials</h3>${list(board.notes.map((n) => `${esc(n.trial_id)}: ${esc(n.note)}`))}`
        : "",
    ].join("");
  } else {
    headline = `<p class="muted">${input.sweepId ? `sweep ${esc(input.sweepId)} · ` : ""}${counts.total} trials: ${counts.completed} completed, ${counts.failed} failed or timed out. Best: ${best ? `${esc(best.trial_id)}, primary_score ${(best.primary_score as number).toFixed(4)}${esc(how)}` : "none"}.</p>`;
    const top = ranked.slice(0, 20);
    const rows = top
      .map(
        (t, i) =>
          `<tr${t === best ? ' class="best"' : ""}><td>${i + 1}</td><td>${esc(t.trial_id)}</td>${names.map((n) => `<td>${cell(t.params[n])}</td>`).join("")}<td>${t.primary_score.toFixed(4)}</td></tr>`,
      )
      .join("");
    leaderboardHtml = `<table class="leaderboard"><thead><tr><th>rank</th><th>trial</th>${names.map((n) => `<th>${esc(n)}</th>`).join("")}<th>primary_score</th></tr></thead><tbody>${rows}</tbody></table>${ranked.length > top.length ? `<p class="note">${ranked.length - top.length} more scored trials in trials.jsonl.</p>` : ""}`;
  }
  const importance = input.importance;
  // The numbers behind the importance chart, under it (or in its place when there is none).
  const importanceTable = importance?.params.length
    ? `<table><thead><tr><th>parameter</th><th>importance</th><th>± std</th></tr></thead><tbody>${importance.params
        .map(
          (p) =>
            `<tr><td>${esc(p.name)}</td><td>${p.importance.toFixed(3)}</td><td>${p.std.toFixed(3)}</td></tr>`,
        )
        .join(
          "",
        )}</tbody></table><p class="note">${esc(importance.method)}${importance.note ? `: ${esc(importance.note)}` : ""}</p>`
    : `<p class="note">No parameter importance: ${esc(importance?.note ?? "too few scored trials.")}</p>`;
  const figures = charts
    .map(
      (c) =>
        `<figure id="${esc(c.file.replace(/\.svg$/, ""))}">${c.svg.trim()}<figcaption>${esc(c.caption)}</figcaption></figure>${c.file === "importance.svg" ? importanceTable : ""}`,
    )
    .join("\n");
  const importanceShown = charts.some((c) => c.file === "importance.svg");
  // JSON in a script element that is never run: `<` escaped so no text can end the element.
  const json = JSON.stringify(reportData(input)).replace(/</g, "\\u003c");
  const style =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;max-width:1100px;margin:24px auto;padding:0 16px}" +
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}.muted,.note{color:#666}" +
    "table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}" +
    "th{background:#f5f5f5}tr.best td{background:#fff3e6;font-weight:600}.budget{color:#b00020;font-weight:600}h3{font-size:15px;margin:16px 0 4px}figure{margin:16px 0;overflow-x:auto}" +
    "figcaption{color:#555;font-size:13px;max-width:760px}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{color:#666}";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tunix-rt sweep ${esc(input.runVersion)}</title>
<style>${style}</style>
</head>
<body>
<h1>Sweep ${esc(input.runVersion)}</h1>
${headline}
${facts.length ? `<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${cell(v)}</dd>`).join("")}</dl>` : ""}
<h2>Leaderboard</h2>
${leaderboardHtml}
<h2>Charts</h2>
${figures}
${importanceShown ? "" : importanceTable}
<p class="note">Made by tunix-rt from trials.jsonl; every number here is in that file, and <code>tunix-rt verify</code> recomputes the evidence.</p>
<script type="application/json" id="tunix-rt-report">${json}</script>
</body>
</html>
`;
}

/**
 * The best-so-far line as a Mermaid `xychart-beta` block, which GitHub renders in Markdown
 * (pull request bodies, job summaries); at most `points` points (evenly picked, the last
 * always in). Empty when no trial has a score.
 */
export function bestSoFarMermaid(trials: readonly ChartTrial[], points = 40): string {
  const ordered = finishOrder(trials);
  const series: Array<[number, number]> = [];
  let best: ChartTrial | undefined;
  for (const t of ordered) {
    best = bestTrial(best ? [best, t] : [t]) ?? best;
    if (best && typeof best.primary_score === "number") series.push([t.order, best.primary_score]);
  }
  if (series.length === 0) return "";
  const step = Math.max(1, Math.ceil(series.length / points));
  const picked = series.filter((_, i) => i % step === 0 || i === series.length - 1);
  return [
    "```mermaid",
    "xychart-beta",
    '  title "Best primary_score so far"',
    `  x-axis "trials finished" [${picked.map(([o]) => o).join(", ")}]`,
    '  y-axis "primary_score" 0 --> 1',
    `  line [${picked.map(([, v]) => Number(v.toFixed(4))).join(", ")}]`,
    "```",
  ].join("\n");
}

/** Parameter importance as a Markdown table; empty without importance. */
export function importanceMarkdown(importance: ImportanceView | undefined): string {
  if (!importance || importance.params.length === 0) return "";
  const rows = importance.params.map(
    (p) => `| ${markdownText(p.name)} | ${p.importance.toFixed(3)} | ${p.std.toFixed(3)} |`,
  );
  return [
    `Parameter importance (${importance.method}):`,
    "",
    "| parameter | importance | ± std |",
    "|---|---|---|",
    ...rows,
  ].join("\n");
}

/** Where the charts and the report can be seen: web links, when the caller knows them. */
export interface ChartLinks {
  /** Each chart's file name (`history.svg`) and its web URL (on the evidence branch). */
  charts?: ReadonlyArray<{ file: string; url: string }>;
  /** The report.html artifact's URL. */
  report?: string;
}

/**
 * The sweep's charts as GitHub renders them in Markdown (a pull request body, a job
 * summary): the best-so-far line as Mermaid, the importance table, links to the SVGs and
 * to report.html. Empty when there is nothing to show.
 */
export function chartsMarkdown(input: ReportInput, links: ChartLinks = {}): string {
  const parts = [bestSoFarMermaid(input.trials), importanceMarkdown(input.importance)].filter(
    (p) => p !== "",
  );
  const refs = [
    ...(links.charts ?? []).map((c) => `[${c.file}](${c.url})`),
    ...(links.report
      ? [`[report.html](${links.report}) (the workflow run's artifact: every chart and table on one page)`]
      : []),
  ];
  if (refs.length) parts.push(`Charts: ${refs.join(" · ")}`);
  return parts.join("\n\n");
}
