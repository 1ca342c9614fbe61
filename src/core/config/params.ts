/**
 * The parameters of a search space as the sweep config writes them (`search_space`): their
 * types and bounds. The config validates them; the search space (space.ts) draws from them.
 */
import { z } from "zod";

export const finite = z.number().refine(Number.isFinite, { message: "expected a finite number" });
export const whole = z.number().int();

/** `uniform {min, max}`: any real number in [min, max]. */
const UniformParam = z.strictObject({ type: z.literal("uniform"), min: finite, max: finite });
/** `loguniform {min, max}`: uniform on the log scale; min > 0. */
const LogUniformParam = z.strictObject({ type: z.literal("loguniform"), min: finite, max: finite });
/** `randint {min, max}`: a whole number in [min, max], both ends included. */
const RandIntParam = z.strictObject({ type: z.literal("randint"), min: whole, max: whole });
/**
 * `choice {values, weights?}`: one of the listed values, any JSON value (a number, string,
 * boolean, null, list or mapping); with `weights` (one number >= 0 per value, not all 0) a
 * value is drawn with its weight's share, else uniformly.
 */
const ChoiceParam = z.strictObject({
  type: z.literal("choice"),
  values: z.array(z.json()).min(1),
  weights: z.array(finite.min(0)).optional(),
});
/** `quniform {min, max, q}`: uniform, then rounded to a multiple of q, kept within [min, max]. */
const QUniformParam = z.strictObject({ type: z.literal("quniform"), min: finite, max: finite, q: finite });
/** `qloguniform {min, max, q}`: log-uniform, then rounded to a multiple of q, kept within [min, max]. */
const QLogUniformParam = z.strictObject({
  type: z.literal("qloguniform"),
  min: finite,
  max: finite,
  q: finite,
});

/** `normal {mu, sigma, q?}`: normally distributed (W&B's normal, q_normal); with q, rounded to a multiple of q. */
const NormalParam = z.strictObject({
  type: z.literal("normal"),
  mu: finite,
  sigma: finite,
  q: finite.optional(),
});
/** `lognormal {mu, sigma, q?}`: exp of a normal(mu, sigma) (W&B's log_normal, q_log_normal). */
const LogNormalParam = z.strictObject({
  type: z.literal("lognormal"),
  mu: finite,
  sigma: finite,
  q: finite.optional(),
});
/** `beta {a, b, q?}`: beta-distributed in [0, 1] (W&B's beta, q_beta). */
const BetaParam = z.strictObject({ type: z.literal("beta"), a: finite, b: finite, q: finite.optional() });

/** One parameter of the search space. */
export const ParamSchema = z.discriminatedUnion("type", [
  UniformParam,
  LogUniformParam,
  RandIntParam,
  ChoiceParam,
  QUniformParam,
  QLogUniformParam,
  NormalParam,
  LogNormalParam,
  BetaParam,
]);
export type ParamSpec = z.infer<typeof ParamSchema>;
export const paramTypes = [
  "uniform",
  "loguniform",
  "randint",
  "choice",
  "quniform",
  "qloguniform",
  "normal",
  "lognormal",
  "beta",
] as const;
/** The types without bounds: drawn from a distribution through its quantile. */
export type ShapedParam = Extract<ParamSpec, { type: "normal" | "lognormal" | "beta" }>;
export const isShaped = (spec: ParamSpec): spec is ShapedParam =>
  spec.type === "normal" || spec.type === "lognormal" || spec.type === "beta";
