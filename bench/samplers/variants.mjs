// Development variants of the samplers, for `run.mjs --variants a,b` (not run by default):
// the settings the benchmark compared before the defaults were chosen.
import { createGpSampler, defaultGpSettings } from "../../lib/core/search/samplers/gp.js";
import { defaultPriors } from "../../lib/core/search/samplers/gp-model.js";
import { asRunning } from "../../lib/core/search/samplers/sampler.js";
import { createTpeSampler, defaultTpeSettings } from "../../lib/core/search/samplers/tpe.js";

const gp = (overrides) => (options) => createGpSampler(options, { ...defaultGpSettings, ...overrides });
const tpe = (overrides) => (options) => createTpeSampler(options, { ...defaultTpeSettings, ...overrides });

export const variants = {
  gp: gp({}),
  // Expected improvement over the best posterior mean: the acquisition before "selection".
  "gp-ei": gp({ acquisition: "ei" }),
  "gp-standardise": gp({ transform: "standardise" }),
  // Local candidates around the best posterior means instead of the best observed scores.
  "gp-mean": gp({ centres: "mean" }),
  "gp-ei-mean": gp({ acquisition: "ei", centres: "mean" }),
  "gp-observed": gp({ centres: "observed" }),
  "gp-selection": gp({ acquisition: "selection" }),
  // A noise floor of 1e-4 of the standardised targets' variance (the default's is 1e-6).
  "gp-floor": gp({
    priors: (dims) => ({ ...defaultPriors(dims), logNoiseBounds: [Math.log(1e-4), Math.log(2)] }),
  }),
  "gp-rep2": gp({ replicateRuns: 2 }),
  "gp-rep3": gp({ replicateRuns: 3 }),
  "gp-rep4": gp({ replicateRuns: 4 }),
  "gp-rep3-n01": gp({ replicateRuns: 3, replicateNoise: 0.01 }),
  "gp-rep3-n20": gp({ replicateRuns: 3, replicateNoise: 0.2 }),
  tpe: tpe({}),
  "tpe-gamma10": tpe({ good: (n) => Math.min(25, Math.max(1, Math.ceil(0.1 * n))) }),
  "tpe-gamma15": tpe({ good: (n) => Math.min(25, Math.max(1, Math.ceil(0.15 * n))) }),
};
// A wave from the GP with its last `k` picks from TPE (told the GP's picks as running): a
// hedge against the GP's model on very noisy problems; compared, not adopted.
const hybrid = (k) => (options) => {
  const g = createGpSampler(options);
  const t = createTpeSampler(options);
  return {
    name: `gp+tpe${k}`,
    propose(count, history) {
      const scored = history.filter((h) => h.status === "completed").length;
      if (scored < 8 || count <= k) return g.propose(count, history);
      const first = g.propose(count - k, history);
      return [...first, ...t.propose(k, [...history, ...asRunning(first)])];
    },
  };
};
variants["gp+tpe2"] = hybrid(2);
variants["gp+tpe4"] = hybrid(4);
