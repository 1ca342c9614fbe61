// The task: multi-digit addition and subtraction, asked as plain sums or as word problems,
// in the M34 evalset format {"id", "prompt", "expected_answer", "category", "difficulty"}.
// This module generates problems deterministically, parses a prompt back into operands
// (the "tokenizer" of this model) and turns a solved problem into per-digit training cells.

import { createRng } from "./rng.mjs";

/** Operations the model knows; the index is the op feature of a cell. */
export const OPS = /** @type {const} */ (["add", "sub"]);

/** Digit lengths of the operands per difficulty (the longer operand; the other may be shorter). */
const LENGTHS = {
  easy: [1, 2],
  medium: [3, 3],
  hard: [4, 5],
};

const PEOPLE = [
  ["Ana", "she"],
  ["Ben", "he"],
  ["Chloe", "she"],
  ["Dev", "he"],
  ["Emma", "she"],
  ["Farid", "he"],
  ["Grace", "she"],
  ["Hugo", "he"],
  ["Ines", "she"],
];
const THINGS = ["apples", "marbles", "stickers", "coins", "stamps", "shells", "pencils", "cards"];

/**
 * Word-problem and plain templates. Each one is a function of (a, b, person, thing) so the
 * wording stays grammatical; the parser below must read every one of them back.
 */
const TEMPLATES = {
  add: {
    arithmetic: [(a, b) => `What is ${a} + ${b}?`, (a, b) => `Calculate ${a} plus ${b}.`],
    word_problem: [
      (a, b, [name, pron], thing) =>
        `${name} has ${a} ${thing} and buys ${b} more. How many ${thing} does ${pron} have now?`,
      (a, b, _p, thing) =>
        `A shop sold ${a} ${thing} in the morning and ${b} in the afternoon. How many ${thing} did it sell in total?`,
      (a, b) => `A library has ${a} books and receives ${b} more. How many books does it have now?`,
      (a, b, [name]) =>
        `${name} walked ${a} steps before lunch and ${b} steps after lunch. How many steps is that altogether?`,
    ],
  },
  sub: {
    arithmetic: [(a, b) => `What is ${a} - ${b}?`, (a, b) => `Compute ${a} minus ${b}.`],
    word_problem: [
      (a, b, [name], thing) => `${name} had ${a} ${thing} and gave away ${b}. How many ${thing} are left?`,
      (a, b, _p, thing) => `A farm grew ${a} ${thing} and sold ${b} of them. How many ${thing} remain?`,
      (a, b) =>
        `A tank holds ${a} litres of water and ${b} litres leak out. How many litres are left in the tank?`,
      (a, b, [name]) =>
        `${name} needs ${a} points and already has ${b}. How many more points are still needed?`,
    ],
  },
};

/**
 * A random whole number with exactly `digits` digits (no leading zero), as a string.
 * @param {{ int: (n: number) => number }} rng
 * @param {number} digits
 */
function randomNumber(rng, digits) {
  let text = String(1 + rng.int(9));
  if (digits === 1) return String(rng.int(10));
  for (let i = 1; i < digits; i++) text += String(rng.int(10));
  return text;
}

/**
 * Draws one problem of the given difficulty.
 * @param {ReturnType<typeof createRng>} rng
 * @param {"easy" | "medium" | "hard"} difficulty
 * @returns {{ op: "add" | "sub", a: string, b: string, prompt: string, answer: string, category: string, difficulty: string }}
 */
export function drawProblem(rng, difficulty) {
  const [low, high] = LENGTHS[difficulty];
  const op = OPS[rng.int(2)] ?? "add";
  const lengthA = low + rng.int(high - low + 1);
  // The second operand is as long as the first or up to one digit shorter, so carries and
  // borrows run through most positions.
  const lengthB = Math.max(1, lengthA - rng.int(2));
  let a = randomNumber(rng, lengthA);
  let b = randomNumber(rng, lengthB);
  if (op === "sub" && compareNumbers(a, b) < 0) [a, b] = [b, a];
  const category = rng.next() < 0.5 ? "arithmetic" : "word_problem";
  const choices = TEMPLATES[op][category];
  const template = choices[rng.int(choices.length)] ?? choices[0];
  const person = PEOPLE[rng.int(PEOPLE.length)] ?? PEOPLE[0];
  const thing = THINGS[rng.int(THINGS.length)] ?? THINGS[0];
  const prompt = template(a, b, person, thing);
  return { op, a, b, prompt, answer: exactAnswer(op, a, b), category, difficulty };
}

/**
 * Draws `count` distinct problems whose keys are not in `exclude` (and adds theirs to it),
 * cycling through the difficulties so every split has each in equal measure.
 * @param {number} seed
 * @param {number} count
 * @param {Set<string>} exclude keys from {@link problemKey}; updated in place
 */
export function drawProblems(seed, count, exclude) {
  const rng = createRng(seed);
  const difficulties = /** @type {const} */ (["easy", "medium", "hard"]);
  const problems = [];
  let attempts = 0;
  while (problems.length < count) {
    if (++attempts > count * 100) throw new Error(`could not draw ${count} distinct problems`);
    const problem = drawProblem(rng, difficulties[problems.length % 3] ?? "easy");
    const key = problemKey(problem.op, problem.a, problem.b);
    if (exclude.has(key)) continue;
    exclude.add(key);
    problems.push(problem);
  }
  return problems;
}

/**
 * Identifies a problem by what the model sees (operation and operands), not by its wording,
 * so the training split can be kept disjoint from the evalset.
 * @param {string} op
 * @param {string} a
 * @param {string} b
 */
export function problemKey(op, a, b) {
  return `${op}:${a}:${b}`;
}

/**
 * Reads a prompt back into an operation and two operands: the two whole numbers it contains
 * and a cue for the operation (a "+"/"-" sign, or words such as "more", "left", "remain").
 * Returns null for a prompt this model cannot handle (not exactly two numbers, no cue, or a
 * cue of another operation).
 * @param {string} prompt
 * @returns {{ op: "add" | "sub", a: string, b: string } | null}
 */
export function parsePrompt(prompt) {
  const numbers = prompt.match(/\d+/g);
  if (numbers?.length !== 2) return null;
  const [a, b] = numbers.map(stripZeros);
  if (a === undefined || b === undefined) return null;
  const text = prompt.toLowerCase();
  // Cues of other operations: "12 cookies per batch, 5 batches, how many in total" has two
  // numbers and "total", but it is a product, which this model cannot do.
  if (
    /[\u00d7*\u00f7/%^]|\b(per|each|times|power|percent|square|area|perimeter|average|twice|half)\b/.test(
      text,
    )
  )
    return null;
  let op = null;
  if (/\d\s*[-\u2212]\s*\d/.test(text)) op = "sub";
  else if (/\d\s*\+\s*\d/.test(text)) op = "add";
  else if (/\b(minus|left|remain|remains|fewer|difference|still needed|gave away)\b/.test(text)) op = "sub";
  else if (/\b(plus|more|total|altogether|sum|in all|combined)\b/.test(text)) op = "add";
  if (op === null) return null;
  return { op, a, b };
}

/**
 * The true answer, computed with exact string arithmetic (used to build training cells and
 * the evalset's expected answers; never at prediction time).
 * @param {"add" | "sub"} op
 * @param {string} a
 * @param {string} b
 */
export function exactAnswer(op, a, b) {
  const big = op === "add" ? BigInt(a) + BigInt(b) : BigInt(a) - BigInt(b);
  return big.toString();
}

/**
 * The digit cells of a solved problem, units first: inputs (digit of a, digit of b,
 * carry or borrow in) and targets (answer digit, carry or borrow out). The targets are read
 * from the answer itself: carry-out = (a_i + b_i + carry_in - answer_i) / 10 for addition,
 * borrow-out = (answer_i - a_i + b_i + borrow_in) / 10 for subtraction.
 * @param {"add" | "sub"} op  subtraction needs a >= b
 * @param {string} a
 * @param {string} b
 * @param {string} answer
 * @returns {{ da: number, db: number, carryIn: number, digit: number, carryOut: number }[]}
 */
export function digitCells(op, a, b, answer) {
  const length = Math.max(a.length, b.length);
  const cells = [];
  let carry = 0;
  for (let i = 0; i < length; i++) {
    const da = digitAt(a, i);
    const db = digitAt(b, i);
    const digit = digitAt(answer, i);
    const carryOut = op === "add" ? (da + db + carry - digit) / 10 : (digit - da + db + carry) / 10;
    if (carryOut !== 0 && carryOut !== 1) throw new Error(`answer ${answer} does not fit ${a} ${op} ${b}`);
    cells.push({ da, db, carryIn: carry, digit, carryOut });
    carry = carryOut;
  }
  return cells;
}

/**
 * Digit `i` of a decimal string counted from the units (0 beyond its length).
 * @param {string} text
 * @param {number} i
 */
export function digitAt(text, i) {
  const at = text.length - 1 - i;
  return at >= 0 ? text.charCodeAt(at) - 48 : 0;
}

/**
 * Compares two decimal strings without leading zeros as numbers.
 * @param {string} a
 * @param {string} b
 */
export function compareNumbers(a, b) {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** @param {string} text */
function stripZeros(text) {
  return text.replace(/^0+(?=\d)/, "");
}
