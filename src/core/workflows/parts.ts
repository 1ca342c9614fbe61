/**
 * What every generated workflow shares: where it finds tunix-rt's actions, the third-party
 * actions it pins, and the quoting of the few values an option puts into the YAML text.
 */

/**
 * Where a workflow's steps find tunix-rt's actions.
 *  - `local`: this repository's own checkout (`uses: ./actions/sweep`), for tunix-rt's own
 *    workflows, which run the actions of the commit they run at;
 *  - `pinned`: another repository's (the user's) workflows call tunix-rt's actions across
 *    repositories, pinned by the full commit sha, the version in a comment. Actions (unlike
 *    a reusable workflow of another owner) run on any runner, the caller's self-hosted GPU
 *    runners included.
 */
export type ActionSource =
  | { kind: "local" }
  | {
      kind: "pinned";
      /** `owner/name` of tunix-rt's repository. */
      repository: string;
      /** The full 40-hex commit sha whose actions run. */
      commit: string;
      /** The version that commit is, for the comment (`0.1.0`). */
      version: string;
    };

/** What every workflow text is written with. */
export interface WorkflowTextOptions {
  /** The comment block at the top (`commentLines`): what wrote the file and how to check it. */
  header: string;
  /** The workflow's `name:`. */
  name: string;
  /** Where the steps find tunix-rt's actions. */
  actions: ActionSource;
}

/** tunix-rt's actions, by folder under actions/. */
export type ActionName = "sweep" | "score" | "verify-evidence" | "package";

/** The `uses:` value (with its version comment when pinned) of one of tunix-rt's actions. */
export function actionUses(source: ActionSource, name: ActionName): string {
  return source.kind === "local"
    ? `./actions/${name}`
    : `${source.repository}/actions/${name}@${source.commit} # v${source.version}`;
}

/** actions/checkout, pinned. The head of a pull request is never checked out with it (see evidence.ts). */
export const checkoutAction = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0";

/** actions/create-github-app-token, pinned: the aggregate mints an App token with it when given one. */
/**
 * GitHub's artifact attestation action, pinned: it signs the evidence's checksums in the
 * aggregate job (Sigstore, through the job's OIDC token) and writes the bundle.
 */
export const attestAction =
  "actions/attest-build-provenance@a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32 # v4.1.0";

export const appTokenAction =
  "actions/create-github-app-token@fee1f7d63c2ff003460e3d139729b119787bc349 # v2.2.2";

/** The runner of the jobs that need no GPU: plan, aggregate, the evidence check, the release. */
export const hostedRunner = "ubuntu-latest";

/** A repository `owner/name` as GitHub allows it. */
export const repositoryPattern = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

/**
 * A string as a YAML scalar: plain when it is a plain path-like word that YAML reads back as
 * the same string, else double-quoted (JSON's quoting is valid YAML).
 */
export function yamlScalar(value: string): string {
  // A word that starts with a letter, '_', '.' or '/' is never a number (0x10, 1e3, .5) to
  // a YAML reader; the keywords and .inf/.nan are the other plain words that are not strings.
  const plain =
    /^[A-Za-z_./][A-Za-z0-9_./-]*$/.test(value) &&
    !/^(?:true|false|yes|no|on|off|y|n|null|~)$/i.test(value) &&
    !/^\.(?:inf|nan|\d)/i.test(value);
  return plain ? value : JSON.stringify(value);
}

/** A list of strings as a YAML flow sequence, each scalar quoted as `yamlScalar` quotes it. */
export function yamlList(values: readonly string[]): string {
  return `[${values.map(yamlScalar).join(", ")}]`;
}

/**
 * A multi-line shell script as a YAML literal block under a key at `indent` spaces: each
 * line indented two more. Trailing spaces are kept (`|` keeps them; the script is the user's).
 */
export function yamlBlock(key: string, script: string, indent: number): string {
  const pad = " ".repeat(indent);
  const body = script
    .replace(/\r\n?/g, "\n")
    .replace(/\n+$/, "")
    .split("\n")
    .map((line) => (line === "" ? "" : `${pad}  ${line}`))
    .join("\n");
  return `${pad}${key}: |${/^\s/.test(script) ? "2" : ""}\n${body}\n`;
}

/** A header of comment lines: each line of `text` behind `# `. */
export function commentLines(text: string): string {
  return `${text
    .split("\n")
    .map((line) => (line === "" ? "#" : `# ${line}`))
    .join("\n")}\n`;
}
