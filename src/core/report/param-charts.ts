/**
 * The charts of the parameters (see charts.ts for what every chart shares): parallel
 * coordinates, and a slice plot per parameter, each parameter on an axis of its own type
 * (numeric, log, or a choice's levels).
 */
import { scaleLinear, scaleLog, scalePoint } from "d3-scale";
import { line } from "d3-shape";
import { bestTrial, compareTrialIds } from "../best-trial.js";
import type { ParamSpec } from "../config/config.js";
import { paramText } from "../config/space.js";
import { maxOf, minOf } from "../limits.js";
import type { ParamValue } from "../types.js";
import {
  bestColor,
  type Chart,
  type ChartTrial,
  failColor,
  failed,
  scoreColor,
  scored,
  tip,
} from "./charts.js";
import { axisBottom, axisLeft, el, esc, label, svgDocument, text } from "./svg.js";

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
