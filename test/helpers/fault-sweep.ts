import { writeFile } from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "./cli.js";

/** The fault trainer (test/fixtures/fault-trainer.mjs), as an absolute path. */
export const faultTrainer = path.join(repoRoot, "test/fixtures/fault-trainer.mjs");

/** A small evalset of `n` arithmetic items. */
export function evalsetText(n = 6): string {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      id: `q${i}`,
      prompt: `What is ${i} + ${i}?`,
      expected_answer: String(2 * i),
      category: "arithmetic",
      difficulty: "easy",
    }),
  ).join("\n");
}

/**
 * Writes a sweep config (and its evalset) into `dir` whose trials run the fault trainer,
 * one trial per listed fault when planned with the grid sampler.
 */
export async function writeFaultConfig(
  dir: string,
  {
    faults,
    quality = [1],
    timeoutMinutes = 0.05,
    runVersion = "fault_v1",
    maxFailed = null,
    extra = "",
    evalsetSize = 6,
  }: {
    faults: string[];
    quality?: number[];
    timeoutMinutes?: number;
    runVersion?: string;
    maxFailed?: number | null;
    extra?: string;
    /** How many items the evalset has. */
    evalsetSize?: number;
  },
): Promise<string> {
  await writeFile(path.join(dir, "evalset.jsonl"), `${evalsetText(evalsetSize)}\n`);
  const file = path.join(dir, "sweep.yaml");
  await writeFile(
    file,
    [
      "name: fault sweep",
      `run_version: ${runVersion}`,
      "base_model_id: google/gemma-3-1b-it",
      `num_samples: ${faults.length * quality.length}`,
      "sampler: grid",
      `max_failed_trials: ${maxFailed === null ? "null" : maxFailed}`,
      `evalset: ${path.join(dir, "evalset.jsonl")}`,
      "search_space:",
      `  fault: {type: choice, values: ${JSON.stringify(faults)}}`,
      `  quality: {type: choice, values: ${JSON.stringify(quality)}}`,
      "trainer:",
      `  command: [node, ${JSON.stringify(faultTrainer)}]`,
      `  timeout_minutes: ${timeoutMinutes}`,
      extra,
    ].join("\n"),
  );
  return file;
}
