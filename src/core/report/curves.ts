/**
 * The learning-curves chart of a sweep with `pruning`: each trial's pruning metric against
 * its steps, as trials.jsonl records the curves, with a cross where each pruned trial was
 * stopped and, under ASHA, the rungs. Pure, like ./charts.ts: records in, SVG text out.
 *
 * The curves come from evidence, which may be hostile: each is checked as verify checks it
 * (`recordedCurve`: finite numbers, steps forward) and one that is not is left out, named in
 * the caption. A curve holds up to 2,000 points; each is drawn with at most `drawnPoints` of
 * them (the chart is 640 pixels wide), always its first, its last and its prune point.
 */
import { scaleLinear } from "d3-scale";
import { line } from "d3-shape";
import { maxOf, minOf } from "../limits.js";
import { type CurvePoint, type PruningConfig, recordedCurve, rungSteps } from "../search/pruning.js";
import { type Chart, type ChartTrial, crossMark, prunedColor, scoreColor, tip } from "./charts.js";
import { axisBottom, axisLeft, el, esc, label, svgDocument, text } from "./svg.js";

/** The most points of one curve the chart draws. */
export const drawnPoints = 160;

/** What the curves chart reads of a trial record beyond `ChartTrial`. */
export interface CurveTrial extends ChartTrial {
  curve?: unknown;
  pruned?: { step?: unknown; value?: unknown; threshold?: unknown; rung?: unknown } | null;
}

/** At most about `n` of a curve's points, evenly spaced by index: the first and the last, and `keep`'s step among them. */
export function thinned(points: readonly CurvePoint[], n: number, keep?: number): CurvePoint[] {
  if (points.length <= n) return [...points];
  const picks = new Set<number>();
  const stride = (points.length - 1) / (n - 1);
  for (let k = 0; k < n; k++) picks.add(Math.round(k * stride));
  const kept = keep === undefined ? -1 : points.findIndex((p) => p.step === keep);
  if (kept >= 0) picks.add(kept);
  return [...picks].sort((a, b) => a - b).map((i) => points[i] as CurvePoint);
}

/**
 * The curves chart, or undefined when the sweep has no pruning or no trial recorded a curve.
 */
export function curvesChart(
  trials: readonly CurveTrial[],
  pruning: PruningConfig | undefined,
): Chart | undefined {
  if (!pruning) return undefined;
  const curves: Array<{ t: CurveTrial; points: CurvePoint[] }> = [];
  const unreadable: string[] = [];
  for (const t of trials) {
    if (t.curve === undefined) continue;
    const curve = recordedCurve(t.curve);
    if (typeof curve === "string") unreadable.push(t.trial_id);
    else if (curve.points.length > 0) curves.push({ t, points: curve.points });
  }
  if (curves.length === 0) return undefined;

  const W = 640;
  const H = 340;
  const m = { left: 60, right: 16, top: 30, bottom: 44 };
  const lastStep = maxOf(
    curves.map((c) => (c.points.at(-1) as CurvePoint).step),
    1,
  );
  const firstStep = minOf(
    curves.map((c) => (c.points[0] as CurvePoint).step),
    0,
  );
  const x = scaleLinear()
    .domain([Math.min(0, firstStep), lastStep])
    .range([m.left, W - m.right])
    .nice();
  const lows = curves.map((c) => minOf(c.points.map((p) => p.value)));
  const highs = curves.map((c) => maxOf(c.points.map((p) => p.value)));
  const lo = minOf(lows);
  const hi = maxOf(highs);
  const y = scaleLinear()
    .domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi])
    .range([H - m.bottom, m.top])
    .nice();
  const title = `Learning curves: ${pruning.metric}`;
  const body = [
    text(m.left, 18, title, { class: "title" }),
    axisLeft(
      m.left,
      H - m.bottom,
      m.top,
      y.ticks(6).map((v) => ({ at: y(v), label: label(v) })),
      { caption: pruning.metric, gridTo: W - m.right },
    ),
    axisBottom(
      H - m.bottom,
      m.left,
      W - m.right,
      x.ticks(8).map((v) => ({ at: x(v), label: label(v) })),
      "step",
    ),
  ];

  // ASHA's rungs within the steps drawn, where its decisions are taken.
  const rungs = pruning.rule === "asha" ? rungSteps(pruning, lastStep) : [];
  // Their labels go on last, over the curves.
  const rungLabels: string[] = [];
  for (const [k, r] of rungs.entries()) {
    // Labels alternate between two rows, so that close rungs do not write over each other.
    const right = x(r) > W - m.right - 70;
    body.push(
      el("line", {
        x1: x(r),
        x2: x(r),
        y1: m.top,
        y2: H - m.bottom,
        stroke: "#999",
        "stroke-dasharray": "4 3",
        "data-rung": r,
      }),
    );
    rungLabels.push(
      text(right ? x(r) - 3 : x(r) + 3, m.top + 10 + 12 * (k % 2), `rung ${label(r)}`, {
        class: "muted label",
        ...(right ? { "text-anchor": "end" } : {}),
      }),
    );
  }

  const draw = line<CurvePoint>()
    .x((p) => x(p.step))
    .y((p) => y(p.value))
    .digits(1);
  // Pruned and failed curves first, so that the completed ones, coloured by score, lie on top.
  const rank = (t: CurveTrial) => (t.status === "completed" ? 1 : 0);
  const ordered = [...curves].sort((a, b) => rank(a.t) - rank(b.t));
  let pruned = 0;
  for (const { t, points } of ordered) {
    const step = t.status === "pruned" && typeof t.pruned?.step === "number" ? t.pruned.step : undefined;
    const colour =
      t.status === "completed" && typeof t.primary_score === "number"
        ? scoreColor(t.primary_score)
        : prunedColor;
    body.push(
      el(
        "path",
        {
          d: draw(thinned(points, drawnPoints, step)) ?? "",
          fill: "none",
          stroke: colour,
          "stroke-width": t.status === "completed" ? 1.5 : 1,
          "stroke-dasharray": t.status === "failed" || t.status === "timeout" ? "3 2" : undefined,
          "data-trial": t.trial_id,
          "data-status": t.status,
          "data-points": points.length,
        },
        tip(t),
      ),
    );
    const at = step === undefined ? undefined : points.find((p) => p.step === step);
    if (!at) continue;
    pruned++;
    const cx = x(at.step);
    const cy = y(at.value);
    const threshold = typeof t.pruned?.threshold === "number" ? t.pruned.threshold : undefined;
    body.push(
      crossMark(
        cx,
        cy,
        {
          "data-trial": t.trial_id,
          "data-pruned-step": at.step,
          "data-value": String(at.value),
          ...(threshold === undefined ? {} : { "data-threshold": String(threshold) }),
        },
        el(
          "title",
          {},
          esc(
            `${t.trial_id} pruned at step ${at.step}: ${pruning.metric} ${label(at.value)}${threshold === undefined ? "" : `, threshold ${label(threshold)}`}`,
          ),
        ),
      ),
    );
  }
  body.push(...rungLabels);
  const better = pruning.mode === "max" ? "higher is better" : "lower is better";
  const left = unreadable.length
    ? ` Left out, their curves unreadable: ${unreadable.slice(0, 5).join(", ")}${unreadable.length > 5 ? ` and ${unreadable.length - 5} more` : ""}.`
    : "";
  return {
    file: "curves.svg",
    title,
    caption: `${curves.length} trial${curves.length === 1 ? "'s" : "s'"} ${pruning.metric} by step (${better}), as metrics.jsonl gave it: completed trials coloured by primary_score, ${pruned} pruned trial${pruned === 1 ? "" : "s"} in grey, each ending at a red cross where it was stopped (${pruning.rule === "asha" ? "dashed lines mark ASHA's rungs" : "median stopping"}).${left}`,
    svg: svgDocument(W, H, title, body),
  };
}
