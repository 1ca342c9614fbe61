/**
 * Every sampler name a config or `--sampler` may use. `auto` resolves to the best default
 * (see `resolveSampler`). Kept apart from the implementations so the config schema can
 * name them without importing the samplers.
 */
export const samplerNames = ["auto", "random", "grid", "sobol", "tpe", "gp"] as const;
export type SamplerName = (typeof samplerNames)[number];
