/**
 * How much of an input tunix-rt reads. Evidence is hostile input (a fork's pull request
 * carries every byte the pull-request check reads), so the work on any file is bounded by
 * these, never by the file's shape; past one, the input is refused with one line naming the
 * limit. Each is far above what a real sweep writes; the limits table of docs/evidence.md's "Hostile evidence" gives them
 * with the time verify took at each, measured.
 */

const MiB = 1024 ** 2;

export const limits = {
  /** run_manifest.json, eval_summary.json, best_params.json: each at most. */
  jsonFileBytes: 16 * MiB,
  /** kaggle_output_log.txt (the best trial's log, redacted). */
  logFileBytes: 64 * MiB,
  /** eval_rows.jsonl and trials.jsonl: each at most. */
  jsonlFileBytes: 512 * MiB,
  /** One line of a JSONL file (a row with its reasoning trace, a trial record). */
  lineBytes: 16 * MiB,
  /** The evalset the rows are re-graded against. */
  evalsetBytes: 256 * MiB,
  /** A promoted config or a sweep config (YAML). */
  configBytes: 1 * MiB,
  /** How deep a JSON document (or line) nests objects and arrays. */
  jsonDepth: 64,
  /** Trials in trials.jsonl. */
  trials: 100_000,
  /** Rows in eval_rows.jsonl. */
  rows: 2_000_000,
  /** Problems listed for one rule (one file and field); the rest are counted in one more line. */
  problemsPerRule: 100,
  /** A Sigstore bundle (attestation.sigstore.json): GitHub's are a few KiB, 1,024 subjects under 200 KiB. */
  attestationBytes: 4 * MiB,
  /** Members of a submission zip. */
  zipMembers: 10_000,
  /** One member of a submission zip, uncompressed. */
  zipMemberBytes: 256 * MiB,
  /** A submission zip, uncompressed. */
  zipTotalBytes: 1024 * MiB,
} as const;

/** A byte count for a message: `16 MiB`, `512 KiB`, `100 bytes`. */
export function bytesText(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** The largest of many numbers, without spreading them into arguments (an unbounded list would overflow the stack). */
export function maxOf(values: Iterable<number>, start = Number.NEGATIVE_INFINITY): number {
  let max = start;
  for (const value of values) if (value > max) max = value;
  return max;
}

/** The smallest of many numbers, without spreading them into arguments. */
export function minOf(values: Iterable<number>, start = Number.POSITIVE_INFINITY): number {
  let min = start;
  for (const value of values) if (value < min) min = value;
  return min;
}

/** Appends every item to `target` one by one (`push(...items)` overflows the stack on a long list). */
export function append<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}
