/**
 * A zod issue as one problem line: the file, the field, the bad value quoted and what was
 * expected (the rule every input error follows).
 */
import type { z } from "zod";
import { type Problem, quote } from "../errors.js";
import { paramTypes } from "./params.js";

type Issue = z.core.$ZodIssue;

/** Turns one zod issue into a problem that quotes the bad value and says what was expected. */
/**
 * @param keysAt the keys a mapping at `path` may hold (for an unknown key's message).
 */
export function issueToProblem(
  issue: Issue,
  file: string,
  keysAt: (path: readonly PropertyKey[], input: unknown) => string,
): Problem {
  const path = issue.path.map(String).join(".");
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "unrecognized_keys": {
      const keys = issue.keys.map((k) => quote(k)).join(", ");
      const where = path ? `${path}.${issue.keys[0]}` : (issue.keys[0] ?? "");
      return {
        file,
        path: where,
        message: `unknown key${issue.keys.length > 1 ? "s" : ""} ${keys}; expected one of ${keysAt(issue.path, input)}`,
      };
    }
    case "invalid_union": {
      const union = issue as Issue & { discriminator?: string; options?: unknown[] };
      if (union.discriminator) {
        const got =
          input && typeof input === "object"
            ? (input as Record<string, unknown>)[union.discriminator]
            : input;
        if (got === undefined && (input === null || typeof input !== "object" || Array.isArray(input))) {
          return {
            file,
            path: path.replace(/\.type$/, ""),
            message: `got ${quote(input)}; expected an object with type one of ${paramTypes.join(", ")}`,
          };
        }
        if (got === undefined)
          return { file, path, message: `missing; expected one of ${paramTypes.join(", ")}` };
        return { file, path, message: `got ${shown(got)}; expected one of ${paramTypes.join(", ")}` };
      }
      // The only other union: the values of a choice.
      if (issue.path.includes("values"))
        return { file, path, message: `got ${shown(input)}; expected a number, string or boolean` };
      return { file, path, message: `got ${shown(input)}; ${issue.message}` };
    }
    case "invalid_type":
      if (input === undefined)
        return { file, path, message: `missing; expected ${describeExpected(issue.expected)}` };
      if (typeof input === "number" && issue.expected === "number")
        return { file, path, message: `got ${shown(input)}; expected a finite number` };
      return { file, path, message: `got ${shown(input)}; expected ${describeExpected(issue.expected)}` };
    case "invalid_value":
      return {
        file,
        path,
        message: `got ${shown(input)}; expected one of ${issue.values.map((v) => String(v)).join(", ")}`,
      };
    case "too_small":
      if (issue.origin === "array")
        return {
          file,
          path,
          message: `got ${shown(input)}; expected at least ${issue.minimum} item${issue.minimum === 1 ? "" : "s"}`,
        };
      if (issue.origin === "string")
        return { file, path, message: `got ${shown(input)}; expected a non-empty string` };
      return {
        file,
        path,
        message: `got ${shown(input)}; expected ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`,
      };
    case "too_big":
      return {
        file,
        path,
        message: `got ${shown(input)}; expected ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`,
      };
    default:
      return { file, path, message: `got ${shown(input)}; ${issue.message}` };
  }
}

/** A value for a message: as `quote` writes it, but NaN and infinities by name (JSON has none). */
function shown(value: unknown): string {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : quote(value);
}

function describeExpected(expected: string): string {
  switch (expected) {
    case "int":
      return "a whole number";
    case "record":
    case "object":
      return "a mapping";
    case "array":
      return "a list";
    default:
      return `a ${expected}`;
  }
}
