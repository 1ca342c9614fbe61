/**
 * The workflows `tunix-rt init` writes into a user's repository: the sweep, the evidence
 * check and the release, from the same templates as tunix-rt's own workflows, with the
 * actions pinned across repositories. Each file's header records the options it was written
 * with and a SHA-256 of the rest of the file, so that `init --check` can write it again and
 * compare, and no run of init writes over a file edited by hand.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { type Problem, quote } from "../errors.js";
import { evidenceWorkflow } from "./evidence.js";
import { type ActionSource, commentLines, repositoryPattern } from "./parts.js";
import { releaseWorkflow } from "./release.js";
import { sweepWorkflow } from "./sweep.js";

/** What the user chose, as each header records it (the actions' pin is recorded only when given). */
export interface InitOptions {
  /** The sweep config, relative to the repository root. */
  config: string;
  /** The trial jobs' runs-on labels. */
  runner_labels: string[];
  /** A shell command run before each trial, or "". */
  setup_command: string;
  /** The repository whose actions run, when not the installed tunix-rt's. */
  repository?: string;
  /** The commit whose actions run, when not the installed tunix-rt's. */
  commit?: string;
  /**
   * false: the sweep does not sign its evidence, and the evidence check does not require a
   * signature (a private repository on a plan without artifact attestations). Recorded only
   * when false: signing is the default.
   */
  attest?: false;
  /**
   * A file of the repository holding Sigstore trusted roots (gh attestation trusted-root's
   * output), which the evidence check verifies signatures against: a private repository's.
   */
  sigstore_root?: string;
}

/** The marker of the header line that records the options. */
export const initMarker = "tunix-rt-init:";

/** The files init writes, in the order it writes and reports them. */
export const userWorkflowFiles = [
  "tunix-rt-sweep.yml",
  "tunix-rt-evidence.yml",
  "tunix-rt-release.yml",
] as const;
export type UserWorkflowFile = (typeof userWorkflowFiles)[number];

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: workflow expressions named in messages.
const label = z
  .string()
  .min(1, "expected a runner label, not an empty string")
  .max(200)
  .refine((s) => !/[\r\n]|\$\{\{/.test(s), "expected a plain runner label (no newline, no ${{ }})");

/** The recorded options, checked as any input is (a header can be edited). */
export const InitOptionsSchema = z.strictObject({
  config: z
    .string()
    .min(1)
    .refine(
      (s) => !s.startsWith("/") && !s.split("/").includes(".."),
      "expected a path inside the repository",
    )
    .refine((s) => !/[\r\n]|\$\{\{/.test(s), "expected a plain path (no newline, no ${{ }})"),
  runner_labels: z.array(label).min(1, "expected at least one runner label").max(20),
  setup_command: z
    .string()
    .max(10_000)
    .refine(
      (s) => !s.includes("${{"),
      "expected no ${{ }} expression: GitHub would expand it into the script (pass values through env instead)",
    ),
  repository: z.string().regex(repositoryPattern, "expected owner/name").optional(),
  commit: z
    .string()
    .regex(/^[0-9a-f]{40}$/, "expected a full 40-hex commit sha")
    .optional(),
  attest: z.literal(false, "expected false (signing is the default; leave the key out for it)").optional(),
  sigstore_root: z
    .string()
    .min(1)
    .refine(
      (s) => !s.startsWith("/") && !s.split("/").includes(".."),
      "expected a path inside the repository",
    )
    .refine((s) => !/[\r\n]|\$\{\{/.test(s), "expected a plain path (no newline, no ${{ }})")
    .optional(),
});

// biome-ignore-end lint/suspicious/noTemplateCurlyInString: workflow expressions named in messages.

/** Checks options (from flags or a header); problems name `file` and the field. */
export function checkInitOptions(
  raw: unknown,
  file: string,
): { ok: true; value: InitOptions } | { ok: false; problems: Problem[] } {
  const result = InitOptionsSchema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => {
      const at = issue.path.map(String).join(".");
      const given = issue.path.reduce<unknown>(
        (value, key) =>
          value && typeof value === "object" ? (value as Record<string, unknown>)[key as string] : undefined,
        raw,
      );
      return {
        file,
        path: at,
        message: `${issue.code === "unrecognized_keys" ? issue.message : `got ${quote(given)}; ${issue.message}`}`,
      };
    }),
  };
}

/** What the templates need besides the options: the actions' pin and the config's schedule. */
export interface UserWorkflowContext {
  /** The pinned actions (`kind: pinned`). */
  actions: Extract<ActionSource, { kind: "pinned" }>;
  /** Wave jobs the sweep takes (`wavesNeeded` of the config). */
  waves: number;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * The header of a written file: what wrote it and how to check it, then the options line,
 * which records the SHA-256 of the whole file without that line (`withoutMarker`), so any
 * edit elsewhere shows.
 */
function written(file: UserWorkflowFile, options: InitOptions, version: string, body: string): string {
  const what: Record<UserWorkflowFile, string> = {
    "tunix-rt-sweep.yml": "the sweep on your runners",
    "tunix-rt-evidence.yml": "the evidence check of every pull request",
    "tunix-rt-release.yml": "the release of a submission zip",
  };
  const top = commentLines(
    [
      `Written by tunix-rt ${version} (npx tunix-rt init): ${what[file]}.`,
      "`npx tunix-rt init --check` exits 0 while this file is what the installed tunix-rt writes",
      "for the options below; `npx tunix-rt init --upgrade` writes it anew with them. Neither",
      "writes over a hand edit without --force: change the options with init, not the jobs here.",
    ].join("\n"),
  );
  const rest = `#\n${body}`;
  const recorded = JSON.stringify({ ...options, sha256: sha256(`${top}${rest}`) });
  return `${top}# ${initMarker} ${recorded}\n${rest}`;
}

/** A file's text without its options line: what the recorded SHA-256 is taken over. */
function withoutMarker(lines: readonly string[], index: number): string {
  return [...lines.slice(0, index), ...lines.slice(index + 1)].join("\n");
}

/** The text of each file init writes, for these options. */
export function userWorkflows(
  options: InitOptions,
  context: UserWorkflowContext,
): Array<{ file: UserWorkflowFile; text: string }> {
  const { actions, waves } = context;
  const bodies: Record<UserWorkflowFile, string> = {
    "tunix-rt-sweep.yml": sweepWorkflow({
      header: "",
      name: "tunix-rt sweep",
      actions,
      config: options.config,
      runnerLabels: options.runner_labels,
      setupCommand: options.setup_command,
      waves,
      attest: options.attest !== false,
    }),
    "tunix-rt-evidence.yml": evidenceWorkflow({
      header: "",
      name: "tunix-rt evidence",
      actions,
      ...(options.attest === false ? {} : { signedBy: ".github/workflows/tunix-rt-sweep.yml" }),
      ...(options.sigstore_root === undefined ? {} : { sigstoreRoot: options.sigstore_root }),
    }),
    "tunix-rt-release.yml": releaseWorkflow({ header: "", name: "tunix-rt release", actions }),
  };
  return userWorkflowFiles.map((file) => ({
    file,
    text: written(file, options, actions.version, bodies[file]),
  }));
}

/** What a written file's header says of it. */
export type HeaderReading =
  | {
      ok: true;
      /** The options it was written with. */
      options: InitOptions;
      /** Whether the rest of the file is still what was written (its SHA-256 matches). */
      unedited: boolean;
    }
  | { ok: false; problems: Problem[] };

/**
 * Reads the options line of a file init wrote. A file without one is not init's (`problems`
 * say so); the options are checked as flags are.
 */
export function readHeader(text: string, file: string): HeaderReading {
  const lines = text.split("\n");
  const index = lines.findIndex((line) => line.startsWith(`# ${initMarker} `));
  const headerEnd = lines.findIndex((line) => !line.startsWith("#"));
  if (index < 0 || (headerEnd >= 0 && index > headerEnd)) {
    return {
      ok: false,
      problems: [
        {
          file,
          path: "",
          message: `has no "# ${initMarker} {...}" line in its first comment block; not a file tunix-rt init wrote`,
        },
      ],
    };
  }
  const line = index + 1;
  let recorded: unknown;
  try {
    recorded = JSON.parse((lines[index] as string).slice(`# ${initMarker} `.length));
  } catch (error) {
    return {
      ok: false,
      problems: [{ file, line, path: initMarker, message: `not valid JSON (${(error as Error).message})` }],
    };
  }
  if (!recorded || typeof recorded !== "object" || Array.isArray(recorded)) {
    return {
      ok: false,
      problems: [{ file, line, path: initMarker, message: `got ${quote(recorded)}; expected an object` }],
    };
  }
  const { sha256: hash, ...rest } = recorded as Record<string, unknown>;
  const checked = checkInitOptions(rest, file);
  if (!checked.ok) return { ok: false, problems: checked.problems.map((p) => ({ ...p, line })) };
  return {
    ok: true,
    options: checked.value,
    unedited: typeof hash === "string" && hash === sha256(withoutMarker(lines, index)),
  };
}
