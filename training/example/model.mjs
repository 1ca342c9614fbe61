// The model: one "digit cell", a small two-layer perceptron that reads one column of a sum
// (digit of a, digit of b, carry or borrow in, operation) and predicts the answer digit and
// the carry or borrow out with two softmax heads. An answer is produced by running the cell
// across the columns, units first, feeding each predicted carry into the next column: the
// carry chain is the model's own, so long sums are right only when the cell has learned well.

import { digitAt, OPS } from "./problems.mjs";

/** Input width: one-hot digit of a (10), digit of b (10), carry in (2), operation (2). */
export const INPUTS = 24;
/** Output width: answer digit logits (10), then carry-out logits (2). */
export const OUTPUTS = 12;

/**
 * The parameter layout of a cell with `hidden` units, as offsets into one flat array:
 * w1 (hidden x INPUTS), b1 (hidden), w2 (OUTPUTS x hidden), b2 (OUTPUTS).
 * @param {number} hidden
 */
export function layout(hidden) {
  const w1 = 0;
  const b1 = w1 + hidden * INPUTS;
  const w2 = b1 + hidden;
  const b2 = w2 + OUTPUTS * hidden;
  return { hidden, w1, b1, w2, b2, size: b2 + OUTPUTS };
}

/** @typedef {ReturnType<typeof layout>} Layout */

/**
 * Fresh weights: normal with a scale of 1/sqrt(fan-in) (four inputs are active in a one-hot
 * row, hence 1/2 for the first layer), biases zero.
 * @param {Layout} shape
 * @param {{ normal: () => number }} rng
 */
export function initWeights(shape, rng) {
  const weights = new Float64Array(shape.size);
  for (let i = shape.w1; i < shape.b1; i++) weights[i] = rng.normal() * 0.5;
  const scale = 1 / Math.sqrt(shape.hidden);
  for (let i = shape.w2; i < shape.b2; i++) weights[i] = rng.normal() * scale;
  return weights;
}

/**
 * The four active input positions of a cell.
 * @param {number} da
 * @param {number} db
 * @param {number} carryIn
 * @param {number} op index into OPS
 */
function activeInputs(da, db, carryIn, op) {
  return [da, 10 + db, 20 + carryIn, 22 + op];
}

/**
 * Runs the cell forward. Returns the hidden activations and the two softmax distributions.
 * @param {Layout} shape
 * @param {Float64Array} weights
 * @param {number[]} active
 */
function forward(shape, weights, active) {
  const { hidden } = shape;
  const h = new Float64Array(hidden);
  for (let j = 0; j < hidden; j++) {
    const row = shape.w1 + j * INPUTS;
    let sum = weights[shape.b1 + j];
    for (const k of active) sum += weights[row + k];
    h[j] = Math.tanh(sum);
  }
  const logits = new Float64Array(OUTPUTS);
  for (let o = 0; o < OUTPUTS; o++) {
    const row = shape.w2 + o * hidden;
    let sum = weights[shape.b2 + o];
    for (let j = 0; j < hidden; j++) sum += weights[row + j] * h[j];
    logits[o] = sum;
  }
  softmaxInPlace(logits, 0, 10);
  softmaxInPlace(logits, 10, 12);
  return { h, probs: logits };
}

/**
 * @param {Float64Array} values
 * @param {number} from
 * @param {number} to
 */
function softmaxInPlace(values, from, to) {
  let max = -Infinity;
  for (let i = from; i < to; i++) max = Math.max(max, values[i]);
  let total = 0;
  for (let i = from; i < to; i++) {
    values[i] = Math.exp(values[i] - max);
    total += values[i];
  }
  for (let i = from; i < to; i++) values[i] /= total;
}

/**
 * Mean cross-entropy (digit head plus carry head) over `cells`, and its gradient with
 * respect to every weight, written into `grad` (which is zeroed first).
 * @param {Layout} shape
 * @param {Float64Array} weights
 * @param {{ op: number, da: number, db: number, carryIn: number, digit: number, carryOut: number }[]} cells
 * @param {Float64Array} grad
 * @returns {number} the loss
 */
export function lossAndGradient(shape, weights, cells, grad) {
  grad.fill(0);
  const { hidden } = shape;
  const dh = new Float64Array(hidden);
  const scale = 1 / cells.length;
  let loss = 0;
  for (const cell of cells) {
    const active = activeInputs(cell.da, cell.db, cell.carryIn, cell.op);
    const { h, probs } = forward(shape, weights, active);
    loss -=
      Math.log(Math.max(probs[cell.digit], 1e-300)) + Math.log(Math.max(probs[10 + cell.carryOut], 1e-300));
    // Softmax plus cross-entropy: the logit gradient is p - onehot(target).
    probs[cell.digit] -= 1;
    probs[10 + cell.carryOut] -= 1;
    dh.fill(0);
    for (let o = 0; o < OUTPUTS; o++) {
      const g = probs[o] * scale;
      const row = shape.w2 + o * hidden;
      grad[shape.b2 + o] += g;
      for (let j = 0; j < hidden; j++) {
        grad[row + j] += g * h[j];
        dh[j] += g * weights[row + j];
      }
    }
    for (let j = 0; j < hidden; j++) {
      const g = dh[j] * (1 - h[j] * h[j]);
      grad[shape.b1 + j] += g;
      const row = shape.w1 + j * INPUTS;
      for (const k of active) grad[row + k] += g;
    }
  }
  return loss * scale;
}

/**
 * AdamW (decoupled weight decay, applied to weights, not biases) with its moment buffers.
 * @param {Layout} shape
 */
export function createAdamW(shape) {
  return { m: new Float64Array(shape.size), v: new Float64Array(shape.size), t: 0 };
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

/**
 * One AdamW step at learning rate `lr`: w -= lr * (m_hat / (sqrt(v_hat) + eps) + decay * w).
 * @param {Layout} shape
 * @param {Float64Array} weights updated in place
 * @param {Float64Array} grad
 * @param {ReturnType<typeof createAdamW>} state updated in place
 * @param {number} lr
 * @param {number} weightDecay
 */
export function adamWStep(shape, weights, grad, state, lr, weightDecay) {
  state.t += 1;
  const correct1 = 1 - BETA1 ** state.t;
  const correct2 = 1 - BETA2 ** state.t;
  for (let i = 0; i < shape.size; i++) {
    const g = grad[i];
    state.m[i] = BETA1 * state.m[i] + (1 - BETA1) * g;
    state.v[i] = BETA2 * state.v[i] + (1 - BETA2) * g * g;
    const isBias = (i >= shape.b1 && i < shape.w2) || i >= shape.b2;
    const decay = isBias ? 0 : weightDecay * weights[i];
    weights[i] -= lr * (state.m[i] / correct1 / (Math.sqrt(state.v[i] / correct2) + EPSILON) + decay);
  }
}

/**
 * Answers `a op b` by running the cell column by column with its own carries. Subtraction
 * of a larger number is answered as the negated reverse subtraction (a parsing rule, not a
 * learned one). Returns the answer and the model's work, one clause per column.
 * @param {Layout} shape
 * @param {Float64Array} weights
 * @param {{ op: "add" | "sub", a: string, b: string }} problem
 * @returns {{ answer: string, work: string }}
 */
export function solve(shape, weights, problem) {
  let { a, b } = problem;
  let sign = "";
  if (problem.op === "sub" && (a.length < b.length || (a.length === b.length && a < b))) {
    [a, b] = [b, a];
    sign = "-";
  }
  const op = OPS.indexOf(problem.op);
  const symbol = problem.op === "add" ? "+" : "-";
  const length = Math.max(a.length, b.length);
  const clauses = [];
  let digits = "";
  let carry = 0;
  for (let i = 0; i < length; i++) {
    const da = digitAt(a, i);
    const db = digitAt(b, i);
    const { probs } = forward(shape, weights, activeInputs(da, db, carry, op));
    const digit = argmax(probs, 0, 10);
    const carryOut = argmax(probs, 10, 12) - 10;
    // For addition the column total is what the model claims (carry * 10 + digit); for
    // subtraction the borrowed ten is shown the same way.
    clauses.push(
      problem.op === "add"
        ? `${da}+${db}+${carry}=${carryOut * 10 + digit}, write ${digit} carry ${carryOut}`
        : `${da}-${db}-${carry}${carryOut ? `+10=${digit}, write ${digit} borrow 1` : `=${digit}, write ${digit} borrow 0`}`,
    );
    digits = String(digit) + digits;
    carry = carryOut;
  }
  if (problem.op === "add" && carry === 1) {
    digits = `1${digits}`;
    clauses.push(`final carry 1, write 1`);
  } else if (problem.op === "sub" && carry === 1) {
    clauses.push(`final borrow 1 ignored`);
  }
  const answer = sign + (digits.replace(/^0+(?=\d)/, "") || "0");
  const verb = problem.op === "add" ? "adding" : "subtracting";
  const head = sign
    ? `${problem.a} - ${problem.b} is negative, so compute ${a} - ${b} and negate; ${verb} column by column from the units`
    : `${a} ${symbol} ${b}, ${verb} column by column from the units`;
  return { answer, work: `${head}: ${clauses.join("; ")}. Result: ${answer}` };
}

/**
 * @param {Float64Array} values
 * @param {number} from
 * @param {number} to
 */
function argmax(values, from, to) {
  let best = from;
  for (let i = from + 1; i < to; i++) if (values[i] > values[best]) best = i;
  return best;
}
