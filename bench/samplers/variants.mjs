// Development variants of the samplers (not part of the benchmark's default run).
import { createGpSampler, defaultGpSettings } from "../../lib/core/samplers/gp.js";
import { defaultPriors } from "../../lib/core/samplers/gp-model.js";
import { createTpeSampler, defaultTpeSettings } from "../../lib/core/samplers/tpe.js";

const gp = (overrides) => (options) => createGpSampler(options, { ...defaultGpSettings, ...overrides });
const tpe = (overrides) => (options) => createTpeSampler(options, { ...defaultTpeSettings, ...overrides });
const noise = (logNoiseMean, logNoiseSd) => (dims) => ({ ...defaultPriors(dims), logNoiseMean, logNoiseSd });

export const variants = {
  gp: gp({}),
  "gp-copula": gp({ transform: "copula" }),
  "gp-power": gp({ transform: "power" }),
  "gp-ucb1": gp({ acquisition: "ucb", ucbBeta: 1 }),
  "gp-ucb05": gp({ acquisition: "ucb", ucbBeta: 0.5 }),
  "gp-ucb2": gp({ acquisition: "ucb", ucbBeta: 2 }),
  "gp-power-ucb1": gp({ transform: "power", acquisition: "ucb", ucbBeta: 1 }),
  "gp-noise1": gp({ priors: noise(Math.log(0.05), 1.5) }),
  "gp-power-noise1": gp({ transform: "power", priors: noise(Math.log(0.05), 1.5) }),
  tpe: tpe({}),
  "tpe-g10": tpe({ good: (n) => Math.min(25, Math.max(1, Math.ceil(0.1 * n))) }),
  "tpe-g25": tpe({ good: (n) => Math.min(25, Math.max(1, Math.ceil(0.25 * n))) }),
};
variants["gp-power-ucb0"] = gp({ transform: "power", acquisition: "ucb", ucbBeta: 0 });
variants["gp-power-ucb03"] = gp({ transform: "power", acquisition: "ucb", ucbBeta: 0.3 });
variants["gp-power-noise2"] = gp({ transform: "power", priors: noise(Math.log(0.1), 1) });
variants["gp-power-local"] = gp({ transform: "power", localCentres: 10, localPerCentre: 100, refineKeep: 12 });
variants["gp-power-obs"] = gp({ transform: "power", incumbent: "observed" });
variants["gp-power-ts"] = gp({ transform: "power", acquisition: "ts" });
variants["gp-ts"] = gp({ acquisition: "ts" });
