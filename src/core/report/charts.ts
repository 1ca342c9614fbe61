/**
 * The sweep's charts as SVG documents, drawn from its trial records: the optimization
 * history, parameter importance and, with successive halving, the rungs (parallel
 * coordinates and the slice plots are in param-charts.ts, the learning curves in curves.ts). Pure: records in, SVG text out, the same bytes for the same
 * records. Every mark carries its numbers as data attributes (`data-trial`, `data-score`, ...)
 * and a `<title>` a browser shows on hover, so a chart can be read back and checked against
 * trials.jsonl; a chart is never the only place a number lives (the report's tables and
 * trials.jsonl hold them all).
 *
 * Scales, ticks and paths are d3's (d3-scale, d3-shape: no DOM needed, ISC licence); the
 * elements are written in ./svg.ts.
 */

import { scaleLinear, scalePoint } from "d3-scale";
import { line } from "d3-shape";
import { bestTrial, compareTrialIds } from "../best-trial.js";
import { paramText } from "../config/space.js";
import type { Params, TrialStatus } from "../types.js";
import { axisBottom, axisLeft, el, esc, label, svgDocument, type Tick, text } from "./svg.js";

/** What the charts read of a trial record. */
export interface ChartTrial {
  trial_id: string;
  status: TrialStatus;
  primary_score: number | null;
  params: Params;
  finished_at?: string | null;
  budget?: number;
  rung?: number;
  parent?: string;
  wave?: number;
  /** The trial this one runs again (re-evaluation). */
  repeat_of?: string;
}

/** One chart: its file name in charts/, its title, what it shows, and the SVG. */
export interface Chart {
  file: string;
  title: string;
  caption: string;
  svg: string;
}

/** Parameter importance as the report shows it (src/core/report/importance.ts computes it). */
export interface ImportanceView {
  method: string;
  params: ReadonlyArray<{ name: string; importance: number; std: number }>;
  note?: string;
}

export const scored = (t: ChartTrial): t is ChartTrial & { primary_score: number } =>
  t.status === "completed" && typeof t.primary_score === "number";
export const failed = (t: ChartTrial) => t.status === "failed" || t.status === "timeout";

/**
 * Trials in the order they finished (`finished_at`), ties and records without a time in
 * trial id order; each with its 1-based position.
 */
export function finishOrder<T extends ChartTrial>(trials: readonly T[]): Array<T & { order: number }> {
  const time = (t: T) => (typeof t.finished_at === "string" ? t.finished_at : "\uffff");
  return [...trials]
    .sort((a, b) =>
      time(a) < time(b) ? -1 : time(a) > time(b) ? 1 : compareTrialIds(a.trial_id, b.trial_id),
    )
    .map((t, i) => ({ ...t, order: i + 1 }));
}

/** primary_score's colour: viridis from 0 (dark purple) through teal to 1 (yellow). */
const viridis = scaleLinear<string>()
  .domain([0, 0.5, 1])
  .range(["#440154", "#21918c", "#fde725"])
  .clamp(true);
/** As `#rrggbb`: half the bytes of the interpolator's `rgb(r, g, b)`, on every mark. */
export const scoreColor = (score: number): string => {
  const rgb = /^rgb\((\d+), (\d+), (\d+)\)$/.exec(viridis(score));
  if (!rgb) return viridis(score);
  return `#${rgb
    .slice(1)
    .map((c) => Number(c).toString(16).padStart(2, "0"))
    .join("")}`;
};
export const failColor = "#d62728";
/** A pruned trial's mark: grey, as it has no score. */
export const prunedColor = "#8c8c8c";
export const bestColor = "#e6550d";

/** The 0..1 score axis every chart shares (primary_score is a share of correct answers). */
const scoreTicks = (y: (v: number) => number): Tick[] =>
  [0, 0.25, 0.5, 0.75, 1].map((v) => ({ at: y(v), label: String(v) }));

/** The margins of a chart: room for its title and axes. */
interface Margins {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/**
 * A chart whose vertical axis is primary_score from 0 to 1: the score scale, the title and
 * the left axis with its grid, to which the chart adds its own marks.
 */
function scoreFrame(
  title: string,
  W: number,
  H: number,
  m: Margins,
): { y: (v: number) => number; body: string[] } {
  const y = scaleLinear()
    .domain([0, 1])
    .range([H - m.bottom, m.top]);
  const body = [
    text(m.left, 18, title, { class: "title" }),
    axisLeft(m.left, H - m.bottom, m.top, scoreTicks(y), { caption: "primary_score", gridTo: W - m.right }),
  ];
  return { y, body };
}

/**
 * A scored trial's dot, coloured by its score, with its tooltip; `data` adds the chart's own
 * attributes after `data-trial`.
 */
function scoreDot(
  t: ChartTrial & { primary_score: number },
  cx: number,
  cy: number,
  data: Record<string, string | number | undefined>,
): string {
  return el(
    "circle",
    {
      cx,
      cy,
      r: 4,
      fill: scoreColor(t.primary_score),
      stroke: "#333",
      "stroke-width": 0.5,
      "data-trial": t.trial_id,
      ...data,
    },
    tip(t),
  );
}

/** A red cross at (cx, cy): a failed trial's mark, or a pruned trial's stop on its curve. */
export function crossMark(
  cx: number,
  cy: number,
  data: Record<string, string | number | undefined>,
  title: string,
): string {
  return el(
    "path",
    {
      d: `M${cx - 4} ${cy - 4}L${cx + 4} ${cy + 4}M${cx - 4} ${cy + 4}L${cx + 4} ${cy - 4}`,
      stroke: failColor,
      "stroke-width": 2,
      ...data,
    },
    title,
  );
}

/** A tooltip: the trial, its score, its params. */
export function tip(t: ChartTrial): string {
  const params = Object.entries(t.params)
    .map(([k, v]) => `${k}=${paramText(v)}`)
    .join(" ");
  const score = scored(t) ? t.primary_score.toFixed(4) : t.status;
  return el("title", {}, esc(`${t.trial_id}: ${score}${params ? ` (${params})` : ""}`));
}

/**
 * The optimization history: each trial's primary_score in the order trials finished, failed
 * and timed-out trials as red crosses on the axis, pruned ones as grey rings there (no score:
 * stopped while losing), the best score so far as a step line, and a dashed line where a new
 * wave (or rung) begins.
 */
export function historyChart(trials: readonly ChartTrial[]): Chart {
  const W = 640;
  const H = 320;
  const m = { left: 56, right: 16, top: 30, bottom: 44 };
  const ordered = finishOrder(trials);
  const n = Math.max(1, ordered.length);
  const x = scaleLinear()
    .domain([0.5, n + 0.5])
    .range([m.left, W - m.right]);
  const { y, body } = scoreFrame("Optimization history", W, H, m);
  const xTicks = x
    .ticks(Math.min(10, n))
    .filter((v) => Number.isInteger(v) && v >= 1 && v <= n)
    .map((v) => ({ at: x(v), label: String(v) }));
  body.push(axisBottom(H - m.bottom, m.left, W - m.right, xTicks, "trial, in the order trials finished"));

  // Where the schedule moved on: a wave (or rung) other than the trial before it, and the
  // re-evaluation, whose trials run earlier configurations again.
  const stage = (t: ChartTrial) =>
    typeof t.repeat_of === "string"
      ? "re-evaluation"
      : typeof t.rung === "number"
        ? `rung ${t.rung}`
        : typeof t.wave === "number"
          ? `wave ${t.wave}`
          : "";
  const stages = new Set<string>();
  for (let i = 1; i < ordered.length; i++) {
    const a = ordered[i - 1] as (typeof ordered)[number];
    const b = ordered[i] as (typeof ordered)[number];
    if (stage(b) !== "" && stage(b) !== stage(a)) {
      stages.add(stage(b).replace(/ \d+$/, ""));
      const at = x(b.order - 0.5);
      body.push(
        el("line", {
          x1: at,
          x2: at,
          y1: m.top,
          y2: H - m.bottom,
          stroke: "#999",
          "stroke-dasharray": "4 3",
          "data-stage": stage(b),
        }),
        text(at + 3, m.top + 10, stage(b), { class: "muted" }),
      );
    }
  }

  // The recommendation so far after each finished trial, as the evidence picks it
  // (`bestTrial`: the highest budget first), so a promotion's score takes over.
  const steps: Array<[number, number]> = [];
  let best: ChartTrial | undefined;
  for (const t of ordered) {
    best = bestTrial(best ? [best, t] : [t]) ?? best;
    if (best && scored(best)) steps.push([t.order, best.primary_score]);
  }
  if (steps.length) {
    const path = line<[number, number]>()
      .x((d) => x(d[0]))
      .y((d) => y(d[1]))
      .digits(1)
      .curve((context) => {
        // A step after each point, as a best-so-far line is.
        let prev: [number, number] | undefined;
        return {
          areaStart() {},
          areaEnd() {},
          lineStart() {
            prev = undefined;
          },
          lineEnd() {},
          point(px: number, py: number) {
            if (!prev) context.moveTo(px, py);
            else {
              context.lineTo(px, prev[1]);
              context.lineTo(px, py);
            }
            prev = [px, py];
          },
        };
      })(steps);
    body.push(
      el("path", {
        d: path ?? "",
        fill: "none",
        stroke: bestColor,
        "stroke-width": 2,
        "data-series": "best-so-far",
      }),
    );
  }

  for (const t of ordered) {
    if (scored(t)) {
      body.push(
        scoreDot(t, x(t.order), y(t.primary_score), {
          "data-order": t.order,
          "data-score": String(t.primary_score),
        }),
      );
    } else if (failed(t)) {
      body.push(
        crossMark(
          x(t.order),
          y(0),
          { "data-trial": t.trial_id, "data-order": t.order, "data-status": t.status },
          tip(t),
        ),
      );
    } else if (t.status === "pruned") {
      body.push(
        el(
          "circle",
          {
            cx: x(t.order),
            cy: y(0),
            r: 4,
            fill: "none",
            stroke: prunedColor,
            "stroke-width": 1.5,
            "data-trial": t.trial_id,
            "data-order": t.order,
            "data-status": t.status,
          },
          tip(t),
        ),
      );
    }
  }
  const nScored = ordered.filter(scored).length;
  const nFailed = ordered.filter(failed).length;
  const nPruned = ordered.filter((t) => t.status === "pruned").length;
  return {
    file: "history.svg",
    title: "Optimization history",
    caption: `${nScored} scored trial${nScored === 1 ? "" : "s"} by finish order, ${nFailed} failed or timed out (red crosses)${nPruned ? `, ${nPruned} pruned (grey rings)` : ""}; the orange line is the best primary_score so far.${stages.size ? ` Dashed lines mark where the schedule moved on (${[...stages].join(", ")}).` : ""}`,
    svg: svgDocument(W, H, "Optimization history", body),
  };
}

/** Parameter importance: a bar per parameter, with the method's uncertainty as an error bar. */
export function importanceChart(importance: ImportanceView): Chart {
  const rows = importance.params;
  const W = 560;
  const H = 60 + 26 * Math.max(1, rows.length);
  const m = { left: 160, right: 90, top: 34 };
  const max = Math.max(0.05, ...rows.map((r) => r.importance + r.std));
  const x = scaleLinear()
    .domain([0, Math.min(1, max)])
    .nice()
    .range([m.left, W - m.right]);
  const body: string[] = [text(12, 18, "Parameter importance", { class: "title" })];
  rows.forEach((r, i) => {
    const y = m.top + i * 26;
    const value = Math.max(0, r.importance);
    body.push(
      text(m.left - 8, y + 13, r.name, { "text-anchor": "end" }),
      el(
        "rect",
        {
          x: m.left,
          y: y + 3,
          width: x(value) - m.left,
          height: 14,
          fill: "#3b6ea5",
          "data-param": r.name,
          "data-importance": String(r.importance),
          "data-std": String(r.std),
        },
        el("title", {}, esc(`${r.name}: ${r.importance.toFixed(3)} ± ${r.std.toFixed(3)}`)),
      ),
    );
    if (r.std > 0) {
      const lo = x(Math.max(0, r.importance - r.std));
      const hi = x(Math.min(x.domain()[1] as number, r.importance + r.std));
      body.push(
        el("path", {
          d: `M${lo} ${y + 10}H${hi}M${lo} ${y + 6}V${y + 14}M${hi} ${y + 6}V${y + 14}`,
          stroke: "#222",
          "stroke-width": 1,
        }),
      );
    }
    body.push(
      text(W - m.right + 6, y + 13, `${r.importance.toFixed(2)} ± ${r.std.toFixed(2)}`, { class: "muted" }),
    );
  });
  const axisY = m.top + rows.length * 26 + 4;
  body.push(
    axisBottom(
      axisY,
      m.left,
      W - m.right,
      x.ticks(5).map((v) => ({ at: x(v), label: label(v) })),
      "share of the score's variance",
    ),
  );
  return {
    file: "importance.svg",
    title: "Parameter importance",
    caption: `${importance.method}: each parameter's share of primary_score's variance (its main effect), mean ± standard deviation over the trees.${importance.note ? ` ${importance.note}` : ""}`,
    svg: svgDocument(W, H, "Parameter importance", body),
  };
}

/**
 * Successive halving: each configuration's score at each rung's budget, a promoted trial
 * joined to the trial it continues, so which configurations went on, and how they did, shows.
 */
export function rungsChart(trials: readonly ChartTrial[]): Chart | undefined {
  const inRungs = trials.filter((t) => typeof t.rung === "number");
  if (inRungs.length === 0) return undefined;
  const budgets = [...new Set(inRungs.map((t) => t.budget ?? 0))].sort((a, b) => a - b);
  const W = Math.max(420, 150 * budgets.length + 100);
  const H = 320;
  const m = { left: 60, right: 40, top: 30, bottom: 44 };
  const x = scalePoint<number>()
    .domain(budgets)
    .range([m.left, W - m.right])
    .padding(0.3);
  const { y, body } = scoreFrame("Successive halving", W, H, m);
  body.push(
    axisBottom(
      H - m.bottom,
      m.left,
      W - m.right,
      budgets.map((b) => ({
        at: x(b) ?? 0,
        label: `${label(b)} (rung ${inRungs.find((t) => t.budget === b)?.rung ?? "?"})`,
      })),
      "budget",
    ),
  );
  const byId = new Map(inRungs.map((t) => [t.trial_id, t] as const));
  for (const t of inRungs) {
    const parent = t.parent ? byId.get(t.parent) : undefined;
    if (parent && scored(parent) && scored(t))
      body.push(
        el("line", {
          x1: x(parent.budget ?? 0) ?? 0,
          y1: y(parent.primary_score),
          x2: x(t.budget ?? 0) ?? 0,
          y2: y(t.primary_score),
          stroke: "#999",
          "stroke-width": 1,
          "data-promotion": `${parent.trial_id}>${t.trial_id}`,
        }),
      );
  }
  for (const t of inRungs) {
    const cx = x(t.budget ?? 0) ?? 0;
    if (scored(t))
      body.push(
        scoreDot(t, cx, y(t.primary_score), { "data-score": String(t.primary_score), "data-rung": t.rung }),
      );
    else if (failed(t))
      body.push(crossMark(cx, y(0), { "data-trial": t.trial_id, "data-rung": t.rung }, tip(t)));
  }
  const promoted = inRungs.filter((t) => t.parent).length;
  return {
    file: "rungs.svg",
    title: "Successive halving",
    caption: `primary_score of each trial at its rung's budget; ${promoted} promotion${promoted === 1 ? "" : "s"}, each joined to the trial it continues.`,
    svg: svgDocument(W, H, "Successive halving", body),
  };
}
