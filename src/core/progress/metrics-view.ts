/**
 * Which numbers of a trainer's `metrics.jsonl` line the sweep's progress shows: `step`, then
 * `loss` and the first `eval_…` field when the line has them; a line with neither shows its
 * first two numeric fields besides `step`, `epoch`, `lr` and `learning_rate` (a schedule, not
 * a result). Two values at most, so a line per running trial stays short.
 */

/** The numbers shown for one metrics line. */
export interface MetricsView {
  /** The line's `step`, when it has a numeric one. */
  step?: number;
  /** At most two `[name, value]` pairs, in the order shown. */
  values: Array<[string, number]>;
}

const schedule = new Set(["step", "epoch", "lr", "learning_rate"]);
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The numbers to show of one parsed metrics line, or undefined when it is no JSON object. */
export function pickMetrics(line: unknown): MetricsView | undefined {
  if (line === null || typeof line !== "object" || Array.isArray(line)) return undefined;
  const entries = Object.entries(line as Record<string, unknown>).filter((e): e is [string, number] =>
    isNumber(e[1]),
  );
  const step = (line as Record<string, unknown>).step;
  const loss = entries.find(([k]) => k === "loss");
  const evaluation = entries.find(([k]) => k.startsWith("eval_"));
  const chosen =
    loss || evaluation
      ? [loss, evaluation].filter((e): e is [string, number] => e !== undefined)
      : entries.filter(([k]) => !schedule.has(k)).slice(0, 2);
  return { ...(isNumber(step) ? { step } : {}), values: chosen };
}

/** A number in at most 4 significant digits, without trailing zeros: 0.31, 1234, 1.5e-7. */
export function shortNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** `step 800 loss=0.31 eval_accuracy=0.9`, or "" when there is nothing to show. */
export function formatMetrics(view: MetricsView): string {
  const parts = view.step === undefined ? [] : [`step ${shortNumber(view.step)}`];
  for (const [name, value] of view.values) parts.push(`${name}=${shortNumber(value)}`);
  return parts.join(" ");
}
