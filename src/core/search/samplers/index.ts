import type { SamplerName } from "../../config/sampler-names.js";
import { createGpSampler } from "./gp.js";
import { createGridSampler } from "./grid.js";
import { createRandomSampler } from "./random.js";
import type { Sampler, SamplerOptions } from "./sampler.js";
import { createSobolSampler } from "./sobol.js";
import { createTpeSampler } from "./tpe.js";

export { type SamplerName, samplerNames } from "../../config/sampler-names.js";
export type { MetricMode, Sampler, SamplerOptions } from "./sampler.js";

/** A sampler name other than "auto": one with an implementation. */
export type ConcreteSamplerName = Exclude<SamplerName, "auto">;

const factories: Record<ConcreteSamplerName, (options: SamplerOptions) => Sampler> = {
  random: createRandomSampler,
  grid: createGridSampler,
  sobol: createSobolSampler,
  tpe: createTpeSampler,
  gp: createGpSampler,
};

/** Every concrete sampler, in registration order (the contract tests run against each). */
export const concreteSamplerNames = Object.keys(factories) as ConcreteSamplerName[];

/**
 * The concrete sampler a name stands for: "auto" is tunix-rt's best default, the Gaussian
 * process sampler (it starts from Sobol points and keeps to them where a model cannot help);
 * any other name is itself.
 */
export function resolveSampler(name: SamplerName): ConcreteSamplerName {
  return name === "auto" ? "gp" : name;
}

/** Builds the sampler a name stands for ("auto" resolved by `resolveSampler`). */
export function createSampler(name: SamplerName, options: SamplerOptions): Sampler {
  return factories[resolveSampler(name)](options);
}
