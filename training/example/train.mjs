#!/usr/bin/env node
// The example trainer: tunix-rt's embedded default trainer. It learns a digit-adding cell by
// minibatch AdamW on a generated training split and answers an evalset in the
// <reasoning>…</reasoning><answer>…</answer> format (the trial contract in DESIGN.md).
// Plain Node ESM, no dependencies. See README.md in this folder.

import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { InputError, readSettings, reason, USAGE } from "./args.mjs";
import { adamWStep, createAdamW, initWeights, layout, lossAndGradient, solve } from "./model.mjs";
import { digitCells, drawProblems, OPS, parsePrompt, problemKey } from "./problems.mjs";
import { createRng, mixSeed, permutation } from "./rng.mjs";

/** Hidden units of the cell. */
const HIDDEN = 64;
/** The training data is a fixed dataset: its seed does not change with the trial seed. */
const DATA_SEED = 20_250_101;
const TRAIN_SIZE = 3000;
const VALIDATION_SIZE = 300;
/** metrics.jsonl gets a line every LOG_EVERY steps (and at the last step). */
const LOG_EVERY = 10;
/** Validation accuracy is measured every EVAL_EVERY steps (and at the last step). */
const EVAL_EVERY = 100;
const CHECKPOINT_FORMAT = "tunix-rt-example-checkpoint";

main();

function main() {
  try {
    run(process.argv.slice(2), process.env);
  } catch (error) {
    const known = error instanceof InputError;
    process.stderr.write(`train.mjs: ${known ? error.message : `failed: ${reason(error)}`}\n`);
    process.exitCode = known ? 2 : 1;
  }
}

/**
 * @param {string[]} argv
 * @param {Record<string, string | undefined>} env
 */
function run(argv, env) {
  const settings = readSettings(argv, env);
  if (settings.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const started = Date.now();
  const evalItems = readEvalset(settings.evalset);
  const resumed = settings.resume_from ? readCheckpoint(settings.resume_from) : null;

  // Splits: the evalset's problems are excluded first, then validation, so training never
  // sees an item it is measured on.
  const taken = new Set();
  for (const item of evalItems) {
    if (item.problem) for (const key of keysOf(item.problem)) taken.add(key);
  }
  const validation = drawProblems(mixSeed(DATA_SEED, 2), VALIDATION_SIZE, taken);
  const training = drawProblems(mixSeed(DATA_SEED, 1), TRAIN_SIZE, taken).map((p) =>
    digitCells(p.op, p.a, p.b, p.answer).map((cell) => ({ ...cell, op: OPS.indexOf(p.op) })),
  );

  const shape = layout(HIDDEN);
  const weights = resumed
    ? Float64Array.from(resumed.weights)
    : initWeights(shape, createRng(mixSeed(settings.seed, 0x1111)));
  const adam = createAdamW(shape);
  if (resumed) {
    adam.m.set(resumed.adam.m);
    adam.v.set(resumed.adam.v);
    adam.t = resumed.adam.t;
  }
  const startStep = resumed ? resumed.step : 0;
  // A resumed run continues the curve: the lines up to its start, less the extra line a run
  // writes at its last step when that step is off the logging grid (and the evaluation made
  // there when off the evaluation grid); the partial loss window is restored instead, so
  // metrics.jsonl comes out as a straight run would write it.
  const continuing = resumed !== null && settings.budget > startStep;
  /** @type {Record<string, number>[]} */
  const metrics = resumed
    ? resumed.metrics
        .filter((line) => line.step < startStep || !continuing || line.step % LOG_EVERY === 0)
        .map((line) => {
          if (!continuing || line.step !== startStep || line.step % EVAL_EVERY === 0) return line;
          const { eval_accuracy: _extra, ...rest } = line;
          return rest;
        })
    : [];

  const p = settings;
  log(
    `example trainer: digit cell (MLP ${shape.size} weights), ${training.length} training problems, ` +
      `${validation.length} validation, ${evalItems.length} eval items`,
  );
  log(
    `params: learning_rate=${p.learning_rate} per_device_batch_size=${p.per_device_batch_size} ` +
      `weight_decay=${p.weight_decay} warmup_steps=${p.warmup_steps} budget=${p.budget} seed=${p.seed}`,
  );
  if (settings.ignored_resume) log("--no-resume: TUNIX_RT_RESUME_FROM ignored; training from step 0");
  if (resumed) {
    log(`resuming from ${path.join(settings.resume_from ?? "", "checkpoint.json")} at step ${startStep}`);
    if (!continuing)
      log(
        `the checkpoint is at step ${startStep}, not below the budget ${p.budget}: no training, predictions only`,
      );
    const changed = Object.entries(resumed.params)
      .filter(([key, value]) => p[/** @type {keyof typeof p} */ (key)] !== value)
      .map(([key, value]) => `${key} ${value} -> ${p[/** @type {keyof typeof p} */ (key)]}`);
    if (resumed.seed !== p.seed) changed.push(`seed ${resumed.seed} -> ${p.seed}`);
    // Allowed (a schedule may change them between rungs), but worth a line in the log.
    if (changed.length) log(`note: settings differ from the checkpoint's: ${changed.join(", ")}`);
  }

  // metrics.jsonl grows as the trainer goes, a line at a time (pruning reads it while it runs).
  const outputDir = settings.output_dir;
  try {
    mkdirSync(outputDir, { recursive: true });
  } catch (error) {
    throw new InputError(`${outputDir}: cannot create the output folder: ${reason(error)}`);
  }
  const metricsFile = path.join(outputDir, "metrics.jsonl");
  writeFileSync(metricsFile, metrics.map((line) => `${JSON.stringify(line)}\n`).join(""));

  const batches = batchSource(training.length, p.per_device_batch_size, p.seed);
  const grad = new Float64Array(shape.size);
  // Losses since the last line on the logging grid; saved in the checkpoint.
  let windowLoss = continuing ? (resumed?.pending.sum ?? 0) : 0;
  let windowSteps = continuing ? (resumed?.pending.steps ?? 0) : 0;
  let pending = resumed && !continuing ? resumed.pending : { sum: 0, steps: 0 };
  for (let step = startStep + 1; step <= p.budget; step++) {
    const lr = p.warmup_steps > 0 ? p.learning_rate * Math.min(1, step / p.warmup_steps) : p.learning_rate;
    const cells = batches(step).flatMap((index) => training[index] ?? []);
    const loss = lossAndGradient(shape, weights, cells, grad);
    adamWStep(shape, weights, grad, adam, lr, p.weight_decay);
    windowLoss += loss;
    windowSteps += 1;
    const last = step === p.budget;
    if (step % LOG_EVERY === 0 || last) {
      /** @type {Record<string, number>} */
      const line = { step, loss: round(windowLoss / windowSteps), lr: round(lr) };
      if (step % LOG_EVERY === 0) {
        windowLoss = 0;
        windowSteps = 0;
      } else {
        pending = { sum: windowLoss, steps: windowSteps };
      }
      if (step % EVAL_EVERY === 0 || last) {
        line.eval_accuracy = round(accuracy(shape, weights, validation));
        log(`step ${step}/${p.budget} loss ${line.loss} lr ${line.lr} eval_accuracy ${line.eval_accuracy}`);
      }
      metrics.push(line);
      appendFileSync(metricsFile, `${JSON.stringify(line)}\n`);
    }
  }

  const predictions = evalItems.map((item) => ({ id: item.id, prediction: predict(shape, weights, item) }));
  const finalStep = Math.max(startStep, p.budget);
  writeAtomic(
    path.join(outputDir, "checkpoint.json"),
    `${JSON.stringify({
      format: CHECKPOINT_FORMAT,
      version: 1,
      step: finalStep,
      hidden: HIDDEN,
      // Untrained, the weights are still the checkpoint's: keep the settings they came from.
      seed: resumed && !continuing ? resumed.seed : p.seed,
      params:
        resumed && !continuing
          ? resumed.params
          : {
              learning_rate: p.learning_rate,
              per_device_batch_size: p.per_device_batch_size,
              weight_decay: p.weight_decay,
              warmup_steps: p.warmup_steps,
            },
      weights: Array.from(weights),
      adam: { m: Array.from(adam.m), v: Array.from(adam.v), t: adam.t },
      metrics,
      pending_loss: pending,
    })}\n`,
  );
  writeAtomic(
    path.join(outputDir, "metrics.jsonl"),
    metrics.map((line) => `${JSON.stringify(line)}\n`).join(""),
  );
  writeAtomic(
    path.join(outputDir, "predictions.jsonl"),
    predictions.map((line) => `${JSON.stringify(line)}\n`).join(""),
  );
  const answered = evalItems.filter((item) => item.problem).length;
  log(
    `wrote ${predictions.length} predictions (${answered} parsed as sums), metrics.jsonl and checkpoint.json ` +
      `(step ${finalStep}) to ${outputDir} in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
  // The steps this run trained (what a multi-fidelity benchmark counts), on a line of its own.
  log(`trained ${Math.max(0, p.budget - startStep)} steps (${startStep} -> ${finalStep})`);
}

/**
 * The minibatch of each step, derived from (seed, step) alone: the training split is walked
 * in epochs, each in its own seeded order. So a run resumed at step s draws exactly the
 * batches a straight run draws after step s.
 * @param {number} size
 * @param {number} batchSize
 * @param {number} seed
 */
function batchSource(size, batchSize, seed) {
  let cachedEpoch = -1;
  /** @type {number[]} */
  let order = [];
  return (/** @type {number} */ step) => {
    const indices = [];
    for (let k = 0; k < batchSize; k++) {
      const n = (step - 1) * batchSize + k;
      const epoch = Math.floor(n / size);
      if (epoch !== cachedEpoch) {
        order = permutation(size, createRng(mixSeed(seed, 0x2222, epoch)));
        cachedEpoch = epoch;
      }
      indices.push(order[n % size] ?? 0);
    }
    return indices;
  };
}

/**
 * Fraction of problems the model answers exactly (its own carries, as at prediction time).
 * @param {import("./model.mjs").Layout} shape
 * @param {Float64Array} weights
 * @param {{ op: "add" | "sub", a: string, b: string, answer: string }[]} problems
 */
function accuracy(shape, weights, problems) {
  let right = 0;
  for (const problem of problems) if (solve(shape, weights, problem).answer === problem.answer) right += 1;
  return problems.length ? right / problems.length : 0;
}

/**
 * The prediction for one evalset item, in the tag format the grader reads.
 * @param {import("./model.mjs").Layout} shape
 * @param {Float64Array} weights
 * @param {{ prompt: string, problem: { op: "add" | "sub", a: string, b: string } | null }} item
 */
function predict(shape, weights, item) {
  if (!item.problem) {
    return "<reasoning>This model only answers sums and differences of two whole numbers; no such problem was found in the prompt.</reasoning><answer></answer>";
  }
  const { answer, work } = solve(shape, weights, item.problem);
  return `<reasoning>${work}</reasoning><answer>${answer}</answer>`;
}

/**
 * Problem keys that must stay out of training: the item itself and, for a sum, its mirror.
 * @param {{ op: "add" | "sub", a: string, b: string }} problem
 */
function keysOf(problem) {
  const keys = [problemKey(problem.op, problem.a, problem.b)];
  if (problem.op === "add") keys.push(problemKey("add", problem.b, problem.a));
  return keys;
}

/**
 * Reads the evalset: JSONL of objects with a string `id` (unique) and a string `prompt`.
 * Only prompts are used; expected answers stay with the grader.
 * @param {string} file
 */
function readEvalset(file) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(`${file}: cannot read the evalset: ${reason(error)}`);
  }
  const items = [];
  const seen = new Set();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (!line) continue;
    let row;
    try {
      row = JSON.parse(line);
    } catch {
      throw new InputError(`${file}:${i + 1}: not valid JSON`);
    }
    if (row === null || typeof row !== "object" || Array.isArray(row)) {
      throw new InputError(`${file}:${i + 1}: expected a JSON object with id and prompt`);
    }
    if (typeof row.id !== "string" || row.id === "")
      throw new InputError(`${file}:${i + 1}: id: expected a non-empty string`);
    if (typeof row.prompt !== "string") throw new InputError(`${file}:${i + 1}: prompt: expected a string`);
    if (seen.has(row.id))
      throw new InputError(`${file}:${i + 1}: id: ${JSON.stringify(row.id)} appears twice`);
    seen.add(row.id);
    items.push({ id: row.id, prompt: row.prompt, problem: parsePrompt(row.prompt) });
  }
  if (items.length === 0) throw new InputError(`${file}: the evalset has no items`);
  return items;
}

/**
 * Reads and checks a checkpoint.json written by this trainer; null when the folder has none.
 * @param {string} dir
 */
function readCheckpoint(dir) {
  const file = path.join(dir, "checkpoint.json");
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    // A folder without a checkpoint (say, a first rung that has none yet) means "start
    // fresh"; the log says so, so a mistyped path does not go unnoticed.
    if (/** @type {{ code?: string }} */ (error).code === "ENOENT") {
      log(`no checkpoint at ${file} (TUNIX_RT_RESUME_FROM); training from step 0`);
      return null;
    }
    throw new InputError(`${file}: cannot read the checkpoint (TUNIX_RT_RESUME_FROM): ${reason(error)}`);
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError(`${file}: the checkpoint is not valid JSON`);
  }
  const size = layout(HIDDEN).size;
  const isVector = (/** @type {unknown} */ v) =>
    Array.isArray(v) && v.length === size && v.every(Number.isFinite);
  if (value?.format !== CHECKPOINT_FORMAT || value.version !== 1) {
    throw new InputError(`${file}: format: expected a ${CHECKPOINT_FORMAT} version 1`);
  }
  if (
    value.hidden !== HIDDEN ||
    !isVector(value.weights) ||
    !isVector(value.adam?.m) ||
    !isVector(value.adam?.v)
  ) {
    throw new InputError(`${file}: weights: expected ${size} numbers for a cell of ${HIDDEN} hidden units`);
  }
  if (!Number.isInteger(value.step) || value.step < 0 || value.adam.t !== value.step) {
    throw new InputError(
      `${file}: step: got ${JSON.stringify(value.step)}; expected a whole number equal to adam.t`,
    );
  }
  return {
    step: value.step,
    seed: value.seed,
    params: value.params !== null && typeof value.params === "object" ? value.params : {},
    weights: value.weights,
    adam: value.adam,
    metrics: Array.isArray(value.metrics) ? value.metrics.filter((m) => m && Number.isInteger(m.step)) : [],
    pending: {
      sum: Number.isFinite(value.pending_loss?.sum) ? value.pending_loss.sum : 0,
      steps: Number.isInteger(value.pending_loss?.steps) ? value.pending_loss.steps : 0,
    },
  };
}

/**
 * Writes a file through a temp file in the same folder and a rename, so a killed trainer
 * never leaves half a file where the grader looks.
 * @param {string} file
 * @param {string} data
 */
function writeAtomic(file, data) {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, data);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new InputError(`${file}: cannot write: ${reason(error)}`);
  }
}

/** Six significant digits: enough for curves, short enough to read. */
function round(/** @type {number} */ value) {
  return Number(value.toPrecision(6));
}

function log(/** @type {string} */ line) {
  process.stdout.write(`${line}\n`);
}
