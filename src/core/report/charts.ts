/**
 * The sweep's charts as SVG documents, drawn from its trial records: the optimization
 * history, parallel coordinates, a slice plot per parameter, parameter importance and, with
 * successive halving, the rungs. Pure: records in, SVG text out, the same bytes for the same
 * records. Every mark carries its numbers as data attributes (`data-trial`, `data-score`, ...)
 * and a `<title>` a browser shows on hover, so a chart can be read back and checked against
 * trials.jsonl; a chart is never the only place a number lives (the report's tables and
 * trials.jsonl hold them all).
 *
 * Scales, ticks and paths are d3's (d3-scale, d3-shape: no DOM needed, ISC licence); the
 * elements are written in ./svg.ts.
 */

import { scaleLinear, scaleLog, scalePoint } from "d3-scale";
import { line } from "d3-shape";
import { bestTrial, compareTrialIds } from "../best-trial.js";
import type { ParamSpec } from "../config/config.js";
import { paramText } from "../config/space.js";
import { maxOf, minOf } from "../limits.js";
import type { Params, ParamValue, TrialStatus } from "../types.js";
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

const scored = (t: ChartTrial): t is ChartTrial & { primary_score: number } =>
  t.status === "completed" && typeof t.primary_score === "number";
const failed = (t: ChartTrial) => t.status === "failed" || t.status === "timeout";

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
const bestColor = "#e6550d";

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

/** How one parameter maps to a position in [0, 1], and the ticks of its axis. */
interface ParamAxis {
  name: string;
  kind: "linear" | "log" | "category";
  at(value: ParamValue): number | undefined;
  ticks: Array<{ at: number; label: string }>;
}

/**
 * A parameter's axis: log for loguniform and qloguniform, categories for a choice (numbers
 * in order of size, anything else in the config's order), linear otherwise; from the spec
 * when there is one, else from the values seen.
 */
export function paramAxis(name: string, spec: ParamSpec | undefined, seen: readonly ParamValue[]): ParamAxis {
  const numbers = seen.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const isChoice = spec?.type === "choice" || (spec === undefined && numbers.length < seen.length);
  if (isChoice) {
    const values = spec?.type === "choice" ? [...spec.values] : [...new Set(seen.map(String))];
    const ordered = values.every((v) => typeof v === "number")
      ? [...new Set(values as number[])].sort((a, b) => a - b)
      : values;
    const keys = ordered.map((v) => JSON.stringify(v));
    const point = scalePoint<string>().domain(keys).range([0, 1]).padding(0.5);
    return {
      name,
      kind: "category",
      at: (v) => point(JSON.stringify(spec?.type === "choice" ? v : String(v))),
      ticks: ordered.map((v) => ({ at: point(JSON.stringify(v)) ?? 0, label: paramText(v) })),
    };
  }
  // The distribution types (normal, lognormal, beta) have no bounds: the values seen give them.
  const bounded = spec && "min" in spec ? spec : undefined;
  const lo = bounded ? bounded.min : minOf(numbers, 0);
  const hi = bounded ? bounded.max : maxOf(numbers, 1);
  const log = spec?.type === "loguniform" || spec?.type === "qloguniform" || spec?.type === "lognormal";
  if (log && lo > 0 && hi > lo) {
    const scale = scaleLog().domain([lo, hi]).range([0, 1]);
    // Ticks at round numbers of each decade: 1 over wide ranges, 1 and 3 over one or two
    // decades, 1, 2 and 5 within one; the range's ends when that leaves fewer than two.
    const decades = Math.log10(hi / lo);
    const mantissas = decades > 2 ? [1] : decades > 1 ? [1, 3] : [1, 2, 5];
    let ticks = scale.ticks().filter((v) => {
      const mantissa = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
      return mantissas.some((k) => Math.abs(mantissa - k) < 1e-6);
    });
    if (ticks.length < 2) ticks = [lo, hi];
    return {
      name,
      kind: "log",
      at: (v) => (typeof v === "number" && v > 0 ? scale(v) : undefined),
      ticks: ticks.map((v) => ({ at: scale(v), label: label(v) })),
    };
  }
  const scale = scaleLinear()
    .domain(hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5])
    .range([0, 1]);
  // A parameter that only takes whole numbers (randint; a whole-number grid of quniform) gets
  // whole-number ticks: a tick at 1.5 would name a value it never takes.
  const whole =
    spec?.type === "randint" ||
    (spec?.type === "quniform" && Number.isInteger(spec.q) && Number.isInteger(spec.min)) ||
    (spec === undefined && numbers.length > 0 && numbers.every(Number.isInteger));
  let ticks = scale.ticks(5);
  if (whole) {
    ticks = ticks.filter((v) => Number.isInteger(v));
    if (ticks.length < 2) ticks = [...new Set([Math.ceil(lo), Math.floor(hi)])];
  }
  return {
    name,
    kind: "linear",
    at: (v) => (typeof v === "number" && Number.isFinite(v) ? scale(v) : undefined),
    ticks: ticks.map((v) => ({ at: scale(v), label: label(v) })),
  };
}

/** The axes of every parameter the trials have, in the search space's order when there is one. */
function axesOf(
  trials: readonly ChartTrial[],
  space: Readonly<Record<string, ParamSpec>> | undefined,
): ParamAxis[] {
  const names = space ? Object.keys(space) : [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  return names.map((name) =>
    paramAxis(
      name,
      space?.[name],
      trials.map((t) => t.params[name]).filter((v): v is ParamValue => v !== undefined),
    ),
  );
}

/**
 * Parallel coordinates: an axis per parameter (log axes for log types, categories as
 * categories) and one for primary_score; each scored trial is a line coloured by its score,
 * each failed one a dashed red line through its parameters.
 */
export function parallelChart(
  trials: readonly ChartTrial[],
  space: Readonly<Record<string, ParamSpec>> | undefined,
): Chart {
  const axes = axesOf(trials, space);
  const W = Math.max(480, 120 * (axes.length + 1) + 60);
  const H = 350;
  const m = { left: 80, right: 70, top: 54, bottom: 30 };
  const x = scalePoint<number>()
    .domain(Array.from({ length: axes.length + 1 }, (_, i) => i))
    .range([m.left, W - m.right]);
  const y = (u: number) => H - m.bottom - u * (H - m.top - m.bottom);
  const body: string[] = [text(12, 18, "Parallel coordinates", { class: "title" })];
  // Tick labels go last, over the lines, with a white halo: under them they could not be read.
  const labels: string[] = [];
  axes.forEach((axis, i) => {
    const ax = x(i) ?? 0;
    body.push(el("line", { class: "axis", x1: ax, x2: ax, y1: y(0), y2: y(1) }));
    body.push(
      text(ax, m.top - 12, `${axis.name}${axis.kind === "log" ? " (log)" : ""}`, { "text-anchor": "middle" }),
    );
    for (const t of axis.ticks) {
      body.push(el("line", { class: "axis", x1: ax - 3, x2: ax, y1: y(t.at), y2: y(t.at) }));
      labels.push(text(ax - 5, y(t.at) + 3.5, t.label, { "text-anchor": "end", class: "muted label" }));
    }
  });
  const sx = x(axes.length) ?? 0;
  body.push(
    el("line", { class: "axis", x1: sx, x2: sx, y1: y(0), y2: y(1) }),
    text(sx, m.top - 12, "primary_score", { "text-anchor": "middle" }),
  );
  for (const v of [0, 0.5, 1]) labels.push(text(sx + 5, y(v) + 3.5, String(v), { class: "muted label" }));

  // Worst first, so the best lines are drawn on top.
  const lines = [...trials]
    .filter((t) => scored(t) || failed(t))
    .sort(
      (a, b) => (a.primary_score ?? -1) - (b.primary_score ?? -1) || compareTrialIds(a.trial_id, b.trial_id),
    );
  for (const t of lines) {
    const points: Array<[number, number]> = [];
    axes.forEach((axis, i) => {
      const u = axis.at(t.params[axis.name] ?? null);
      if (u !== undefined) points.push([x(i) ?? 0, y(u)]);
    });
    if (scored(t)) points.push([sx, y(t.primary_score)]);
    const d = line().digits(1)(points) ?? "";
    body.push(
      el(
        "path",
        scored(t)
          ? {
              d,
              fill: "none",
              stroke: scoreColor(t.primary_score),
              "stroke-width": 1.5,
              "stroke-opacity": 0.8,
              "data-trial": t.trial_id,
              "data-score": String(t.primary_score),
            }
          : {
              d,
              fill: "none",
              stroke: failColor,
              "stroke-width": 1,
              "stroke-dasharray": "3 3",
              "stroke-opacity": 0.6,
              "data-trial": t.trial_id,
              "data-status": t.status,
            },
        tip(t),
      ),
    );
  }
  body.push(...labels);
  return {
    file: "parallel.svg",
    title: "Parallel coordinates",
    caption:
      "Each line is a trial through its parameter values to its primary_score, coloured from low (purple) to high (yellow); dashed red lines are failed trials.",
    svg: svgDocument(W, H, "Parallel coordinates", body),
  };
}

/** A slice plot per parameter: primary_score against the parameter's value, the best trial marked. */
export function slicesChart(
  trials: readonly ChartTrial[],
  space: Readonly<Record<string, ParamSpec>> | undefined,
  bestId?: string,
): Chart {
  const axes = axesOf(trials, space);
  const cols = Math.min(3, Math.max(1, axes.length));
  const rows = Math.max(1, Math.ceil(axes.length / cols));
  const cw = 220;
  const ch = 190;
  const W = cols * cw;
  const H = rows * ch + 30;
  // In trial id order, so the same records give the same bytes whatever order they come in.
  const points = trials.filter(scored).sort((a, b) => compareTrialIds(a.trial_id, b.trial_id));
  // The best trial as the evidence picks it: its recommendation, else the best observed.
  const best = points.find((t) => t.trial_id === bestId) ?? bestTrial(points);
  const body: string[] = [text(12, 18, "Slice plots", { class: "title" })];
  axes.forEach((axis, i) => {
    const ox = (i % cols) * cw;
    const oy = 30 + Math.floor(i / cols) * ch;
    const m = { left: 44, right: 12, top: 10, bottom: 38 };
    const px = (u: number) => ox + m.left + u * (cw - m.left - m.right);
    const py = (v: number) => oy + ch - m.bottom - v * (ch - m.top - m.bottom);
    const group: string[] = [];
    group.push(
      axisLeft(
        ox + m.left,
        py(0),
        py(1),
        [0, 0.5, 1].map((v) => ({ at: py(v), label: String(v) })),
      ),
    );
    group.push(
      axisBottom(
        py(0),
        ox + m.left,
        ox + cw - m.right,
        axis.ticks.map((t) => ({ at: px(t.at), label: t.label })),
        `${axis.name}${axis.kind === "log" ? " (log)" : ""}`,
      ),
    );
    for (const t of points) {
      const u = axis.at(t.params[axis.name] ?? null);
      if (u === undefined) continue;
      const isBest = t === best;
      group.push(
        el(
          "circle",
          {
            cx: px(u),
            cy: py(t.primary_score as number),
            r: isBest ? 5 : 3.5,
            fill: isBest ? bestColor : scoreColor(t.primary_score as number),
            stroke: isBest ? "#333" : undefined,
            "data-trial": t.trial_id,
            "data-param": axis.name,
            "data-score": String(t.primary_score),
          },
          // One parameter per panel: the whole params are in the other charts' tooltips.
          el(
            "title",
            {},
            esc(
              `${t.trial_id}: ${(t.primary_score as number).toFixed(4)} at ${axis.name}=${String(t.params[axis.name])}`,
            ),
          ),
        ),
      );
    }
    body.push(el("g", { "data-slice": axis.name, "fill-opacity": 0.85 }, ...group));
  });
  return {
    file: "slices.svg",
    title: "Slice plots",
    caption:
      "primary_score against each parameter's value, every scored trial once per plot; the best trial in orange.",
    svg: svgDocument(W, H, "Slice plots", body),
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
