// Development variants of the samplers, for `run.mjs --variants a,b` (not run by default):
// the settings the benchmark compared before the defaults were chosen.
import { createGpSampler, defaultGpSettings } from "../../lib/core/samplers/gp.js";
import { createTpeSampler, defaultTpeSettings } from "../../lib/core/samplers/tpe.js";

const gp = (overrides) => (options) => createGpSampler(options, { ...defaultGpSettings, ...overrides });
const tpe = (overrides) => (options) => createTpeSampler(options, { ...defaultTpeSettings, ...overrides });

export const variants = {
  gp: gp({}),
  "gp-standardise": gp({ transform: "standardise" }),
  tpe: tpe({}),
  "tpe-gamma10": tpe({ good: (n) => Math.min(25, Math.max(1, Math.ceil(0.1 * n))) }),
  "tpe-gamma15": tpe({ good: (n) => Math.min(25, Math.max(1, Math.ceil(0.15 * n))) }),
};
