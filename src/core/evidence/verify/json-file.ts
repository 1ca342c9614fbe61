/**
 * The three JSON files (run_manifest.json, eval_summary.json, best_params.json) read: not
 * nested too deep, valid JSON, no key twice, valid against the file's schema; and the rules
 * they share: no null where a sweep must have put a value, run_version the folder's name,
 * and a file whose notes call it a template said to be one. Each file's own rules are in its
 * module (manifest.ts, summary.ts, best-params.ts).
 */
import { quote } from "../../errors.js";
import { duplicateKeyMessage, parseJsonText, scanJsonText } from "../../json-text.js";
import { limits } from "../../limits.js";
import {
  BestParamsSchema,
  EvalSummarySchema,
  type EvidenceFileName,
  type EvidenceJsonFileName,
  RunManifestSchema,
  schemaProblems,
} from "../schemas.js";
import type { VerifyContext } from "./context.js";

/**
 * The text of one of the JSON files, parsed and checked against its schema: the document when
 * it is valid (an object), else undefined, the problems added and the file unusable.
 */
export function readJsonFile(
  ctx: VerifyContext,
  name: EvidenceJsonFileName,
  text: string,
): object | undefined {
  ctx.seen.add(name);
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  // One linear scan first: a document nested too deep is never parsed or walked.
  const shape = scanJsonText(body);
  if (shape.tooDeep) {
    ctx.unusable.add(name);
    ctx.add({
      file: name,
      line: shape.tooDeep.line,
      path: "",
      message: `nests objects and arrays deeper than ${limits.jsonDepth} levels; not read further`,
    });
    return undefined;
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    ctx.unusable.add(name);
    ctx.add({
      file: name,
      ...(parsed.line === undefined ? {} : { line: parsed.line }),
      path: "",
      message: `not valid JSON: ${parsed.reason}`,
    });
    return undefined;
  }
  ctx.keyLines.set(name, shape.lines);
  for (const twice of shape.duplicates)
    ctx.add({ file: name, line: twice.line, path: twice.path, message: duplicateKeyMessage(twice.path) });
  const schema =
    name === "run_manifest.json"
      ? RunManifestSchema
      : name === "eval_summary.json"
        ? EvalSummarySchema
        : BestParamsSchema;
  const result = schema.safeParse(parsed.value, { reportInput: true });
  if (!result.success) {
    ctx.unusable.add(name);
    if (parsed.value === null || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
      ctx.add({ file: name, path: "", message: `got ${quote(parsed.value)}; expected a JSON object` });
    } else {
      for (const problem of schemaProblems(result.error, name)) ctx.add(problem);
    }
    return undefined;
  }
  return result.data;
}

/**
 * A file the rules found problems in (`problemsBefore`: how many there were before its rules
 * ran) whose notes call it a template: it was never filled in by a sweep, and says so.
 */
export function checkTemplate(
  ctx: VerifyContext,
  name: EvidenceJsonFileName,
  document: object,
  problemsBefore: number,
): void {
  const notes = (document as { notes?: unknown }).notes;
  if (ctx.problems.length > problemsBefore && typeof notes === "string" && /\btemplate\b/i.test(notes)) {
    ctx.add({
      file: name,
      path: "notes",
      message: `this file is a template, not evidence of a sweep (notes: ${quote(notes)})`,
    });
  }
}

/** A null where a sweep must have put a value (`what`), as a template leaves it. */
export function nullProblem(ctx: VerifyContext, file: EvidenceFileName, path: string, what: string): void {
  ctx.add({ file, path, message: `is null; evidence must carry ${what}` });
}

/** The run_version a file carries must be the evidence folder's name. */
export function checkRunVersion(ctx: VerifyContext, file: EvidenceFileName, runVersion: string): void {
  if (runVersion !== ctx.options.runVersion) {
    ctx.add({
      file,
      path: "run_version",
      message: `got ${quote(runVersion)}; expected ${quote(ctx.options.runVersion)}, the evidence folder's name`,
    });
  }
}
