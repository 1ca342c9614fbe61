/**
 * A trial on a runner: the environment its trainer gets, and what is done to its folder
 * before the folder leaves the runner as an artifact (anyone with read access to the
 * repository can download artifacts, so secrets are redacted first).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { redact, redactDeep, secretValuesOf } from "../../core/redact.js";
import { writeFileAtomic, writeJsonAtomic } from "../../runtime/files.js";

// Variables the runner gives the action itself: its inputs (the token among them), the
// runtime tokens behind artifacts, caches and OIDC, and the files through which a step
// talks back to the workflow. The trainer is the user's code and needs none of them.
const runnerOnly = [
  /^INPUT_/,
  /^ACTIONS_(RUNTIME_TOKEN|RUNTIME_URL|RESULTS_URL|CACHE_URL|CACHE_SERVICE_V2|ID_TOKEN_REQUEST_TOKEN|ID_TOKEN_REQUEST_URL)$/,
  /^GITHUB_(OUTPUT|ENV|PATH|STATE|STEP_SUMMARY)$/,
];

/** The trainer's environment: the step's, without the runner's own variables, plus the secret env. */
export function trainerEnvironment(
  env: NodeJS.ProcessEnv,
  secretEnv: Readonly<Record<string, string>>,
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (!runnerOnly.some((pattern) => pattern.test(name))) out[name] = value;
  }
  return { ...out, ...secretEnv };
}

/**
 * The values to keep out of logs and artifacts: every value of the secret env (whatever
 * its name) and the values of variables whose names look secret (HF_TOKEN, ...).
 */
export function secretsOf(env: NodeJS.ProcessEnv, secretEnv: Readonly<Record<string, string>>): string[] {
  const values = new Set(secretValuesOf(env));
  for (const value of Object.values(secretEnv)) if (value.trim().length >= 4) values.add(value);
  return [...values];
}

/**
 * The lines of each secret, as the runner masks them: a multi-line secret (a private key)
 * is masked line by line, so every line is registered on its own.
 */
export function maskableLines(secrets: readonly string[]): string[] {
  const lines = new Set<string>();
  for (const secret of secrets)
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 4) lines.add(line.trim());
  return [...lines];
}

/**
 * Redacts a trial folder in place before upload: `output.log` (secret values and token
 * shapes) and every string of `trial.json` (the command line and the error text). The
 * graded rows and predictions are the model's answers and stay as they are.
 */
export async function redactTrialFolder(dir: string, secrets: readonly string[]): Promise<void> {
  const log = path.join(dir, "output.log");
  const text = await readFile(log, "utf8").catch(() => undefined);
  if (text !== undefined) {
    const clean = redact(text, secrets);
    if (clean !== text) await writeFileAtomic(log, clean);
  }
  const recordFile = path.join(dir, "trial.json");
  const recordText = await readFile(recordFile, "utf8").catch(() => undefined);
  if (recordText === undefined) return;
  let record: unknown;
  try {
    record = JSON.parse(recordText);
  } catch {
    // A record that does not parse is uploaded as it is; aggregate reports it as unreadable.
    return;
  }
  const clean = redactDeep(record, secrets);
  if (JSON.stringify(clean) !== JSON.stringify(record)) await writeJsonAtomic(recordFile, clean);
}
