/**
 * Redaction of secrets from text that becomes evidence, a summary or a zip: the values of
 * known secrets, and anything shaped like a token (GitHub, Hugging Face, AWS keys, private-key
 * blocks) whatever its source.
 */

/**
 * Token shapes of the services a fine-tuning run touches (GitHub, Hugging Face, Kaggle,
 * cloud and API keys), with what each is, for messages. Global regexes: reset lastIndex.
 */
export const secretShapes: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: "GitHub token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { name: "Hugging Face token", pattern: /\bhf_[A-Za-z0-9]{30,64}\b/g },
  { name: "AWS access key id", pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g },
  { name: "Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { name: "Slack token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g },
  { name: "OpenAI API key", pattern: /\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}\b/g },
  { name: "Kaggle API key", pattern: /"key"\s*:\s*"[0-9a-f]{32}"/g },
  {
    name: "AWS secret access key",
    pattern: /\baws_secret_access_key\s*[=:]\s*["']?[A-Za-z0-9/+=]{40}\b/gi,
  },
  {
    name: "private key",
    pattern:
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
];

/** Environment variable names whose values are treated as secrets. */
const secretName = /(?:TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL|AUTH)/i;

/** Whether an environment variable's name says it holds a secret (HF_TOKEN, AWS_SECRET_ACCESS_KEY, ...). */
export function looksSecret(name: string): boolean {
  return secretName.test(name);
}

/** The values of env vars whose names look secret (at least 6 characters, to avoid noise). */
export function secretValuesOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= 6 && looksSecret(name)) values.add(value);
  }
  return [...values];
}

/** Secret values worth replacing, longest first so one that contains another goes whole. */
const bySize = (secrets: readonly string[]): string[] =>
  secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);

function redactSorted(text: string, sorted: readonly string[]): string {
  let out = text;
  for (const secret of sorted) out = out.split(secret).join("***");
  for (const { pattern } of secretShapes) out = out.replace(pattern, "***");
  return out;
}

/** Replaces every known secret value and every token shape with `***`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  return redactSorted(text, bySize(secrets));
}

/** `redact` applied to every string inside a JSON-like value (records carry argv and error text). */
export function redactDeep<T>(value: T, secrets: readonly string[] = []): T {
  const sorted = bySize(secrets);
  const walk = (v: unknown): unknown =>
    typeof v === "string"
      ? redactSorted(v, sorted)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  return walk(value) as T;
}

const keyBegin = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/;
const keyEnd = /-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/;

/**
 * `redact` for a text read line by line (a log rewritten as a stream): the same result as
 * redacting the whole text, including a private-key block over many lines, whose BEGIN line
 * alone matches nothing that would catch the lines after it. Keeps state: one per text.
 */
export function lineRedactor(secrets: readonly string[] = []): (line: string) => string {
  const sorted = bySize(secrets);
  let inKey = false;
  return (line) => {
    if (inKey) {
      const end = keyEnd.exec(line);
      if (!end) return "***";
      inKey = false;
      return `***${redactSorted(line.slice(end.index + end[0].length), sorted)}`;
    }
    const begin = keyBegin.exec(line);
    if (begin && !keyEnd.test(line.slice(begin.index))) inKey = true;
    return redactSorted(line, sorted);
  };
}
