/**
 * Request validation against GitHub's own OpenAPI description (`@octokit/openapi`,
 * api.github.com, OpenAPI 3.0): every request the stand-in receives must name a known
 * operation (method + path template, on the right host), carry every required parameter with
 * a value of the right type, pass no parameter the operation does not know, and send a body
 * that matches the operation's requestBody schema. The description is parsed once per test
 * process (about 0.2 s); schemas are compiled lazily, once per operation.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import ajvFormats from "ajv-formats";

// ajv-formats is CommonJS: under NodeNext its plugin is the module's `default` property.
const addFormats = ajvFormats.default;

type Json = Record<string, unknown>;

/** One parameter of an operation, with `$ref`s resolved. */
interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: Json;
}

/** One operation of the description, ready for matching. */
export interface Operation {
  operationId: string;
  method: string;
  /** The path template, as in the description (`/repos/{owner}/{repo}/pulls`). */
  template: string;
  /** Which host serves it: the API, or the uploads host (`uploads.github.com`). */
  host: "api" | "uploads";
  segments: string[];
  parameters: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema?: Json }> };
  /** Literal segments count: more literals win when two templates match. */
  literals: number;
}

/** The operation a request matched, and its decoded path parameters. */
export interface Match {
  operation: Operation;
  params: Record<string, string>;
}

/** What validation found: the match (if any) and every rule the request broke. */
export interface RequestCheck {
  match?: Match;
  /** The body parsed as JSON, when it was JSON. */
  json?: unknown;
  violations: string[];
}

interface Description {
  paths: Record<string, Record<string, Json>>;
  components: Json & { parameters: Record<string, Json> };
}

let loaded: Description | undefined;

/** The api.github.com description, parsed once per process. */
function description(): Description {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
    loaded = JSON.parse(readFileSync(file, "utf8")) as Description;
  }
  return loaded;
}

const methods = ["get", "put", "post", "patch", "delete", "head", "options"];

let sharedValidator: OpenApiValidator | undefined;

/** Validates requests against the description. Use `OpenApiValidator.shared()`: compiled schemas are reused. */
export class OpenApiValidator {
  /** The process's validator (built on first use). */
  static shared(): OpenApiValidator {
    sharedValidator ??= new OpenApiValidator();
    return sharedValidator;
  }

  private readonly doc = description();
  private readonly operations: Operation[] = [];
  private readonly bodyValidators = new Map<string, ValidateFunction | Error>();
  private readonly queryValidators = new Map<string, ValidateFunction | Error>();
  // Bodies are checked as sent; query strings arrive as text and are coerced to the schema's types.
  private readonly bodyAjv = newAjv(false);
  private readonly queryAjv = newAjv("array");

  private constructor() {
    for (const [template, item] of Object.entries(this.doc.paths)) {
      const shared = (item.parameters as Json[] | undefined) ?? [];
      for (const method of methods) {
        const op = item[method] as Json | undefined;
        if (!op) continue;
        const servers = (op.servers as Array<{ url: string }> | undefined) ?? [];
        const segments = template.split("/").slice(1);
        this.operations.push({
          operationId: String(op.operationId),
          method: method.toUpperCase(),
          template,
          host: servers.some((s) => s.url.includes("uploads.github.com")) ? "uploads" : "api",
          segments,
          parameters: [...shared, ...((op.parameters as Json[] | undefined) ?? [])].map((p) =>
            this.resolve(p),
          ) as unknown as Parameter[],
          ...(op.requestBody ? { requestBody: this.resolve(op.requestBody as Json) as never } : {}),
          literals: segments.filter((s) => !s.startsWith("{")).length,
        });
      }
    }
  }

  /**
   * A schema that ajv can compile alone: OpenAPI 3.0 turned into JSON Schema (toJsonSchema),
   * with the components it reaches (transitively) copied under `definitions`. Only what an
   * operation uses is converted, so nothing walks the whole description.
   */
  private standalone(schema: Json): Json {
    const definitions: Json = {};
    const todo: string[] = [];
    const local = (ref: string) => {
      const name = ref.replace(/^#\/components\//, "").replace(/\//g, "__");
      if (!(name in definitions)) {
        definitions[name] = {};
        todo.push(ref);
      }
      return `#/definitions/${name}`;
    };
    const root = toJsonSchema(schema, local) as Json;
    while (todo.length) {
      const ref = todo.pop() as string;
      definitions[ref.replace(/^#\/components\//, "").replace(/\//g, "__")] = toJsonSchema(
        this.resolve({ $ref: ref }),
        local,
      );
    }
    return { ...root, definitions };
  }

  /** Follows a local `$ref` (`#/components/...`) one level. */
  private resolve(value: Json): Json {
    const ref = value.$ref;
    if (typeof ref !== "string") return value;
    let node: unknown = this.doc;
    for (const part of ref.replace(/^#\//, "").split("/")) node = (node as Json)[part.replace(/~1/g, "/")];
    return this.resolve(node as Json);
  }

  /**
   * The operation for a method and a raw (still percent-encoded) path on a host. Each
   * `{param}` takes one segment; when nothing matches that way, a last parameter that names a
   * ref or a path may take the rest of the path (as GitHub reads `git/ref/heads/a/b`).
   */
  match(method: string, rawPath: string, host: "api" | "uploads"): Match | undefined {
    const parts = rawPath.split("/").slice(1);
    const candidates = this.operations.filter((o) => o.method === method && o.host === host);
    for (const greedy of [false, true]) {
      let best: Match | undefined;
      for (const op of candidates) {
        const params = matchSegments(op.segments, parts, greedy);
        if (params && (!best || op.literals > best.operation.literals)) best = { operation: op, params };
      }
      if (best) return best;
    }
    return undefined;
  }

  /** Checks one request; the violations are sentences naming the operation and the rule. */
  check(method: string, url: URL, contentType: string, body: Buffer, host: "api" | "uploads"): RequestCheck {
    const match = this.match(method, url.pathname, host);
    if (!match) {
      return {
        violations: [`${method} ${url.pathname}: no such operation in GitHub's REST API (${host} host)`],
      };
    }
    const { operation } = match;
    const where = `${operation.operationId} (${method} ${operation.template})`;
    const violations: string[] = [];

    // Path parameters: present, and of the right type.
    for (const p of operation.parameters.filter((x) => x.in === "path")) {
      const value = match.params[p.name];
      if (value === undefined || value === "") violations.push(`${where}: path parameter ${p.name} is empty`);
    }
    violations.push(...this.checkParameters(operation, "path", match.params, where));

    // Query parameters: required ones present, none unknown, values of the schema's type.
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(key);
      query[key] = all.length > 1 ? all : (all[0] ?? "");
    }
    violations.push(...this.checkParameters(operation, "query", query, where));

    // The body.
    let json: unknown;
    const spec = operation.requestBody;
    if (body.length === 0) {
      if (spec?.required) violations.push(`${where}: the request body is required`);
    } else if (!spec) {
      violations.push(`${where}: takes no request body, got ${body.length} bytes`);
    } else if (spec.content["application/json"]) {
      if (!/json/i.test(contentType)) violations.push(`${where}: body must be JSON, got ${contentType}`);
      try {
        json = JSON.parse(body.toString("utf8"));
      } catch {
        violations.push(`${where}: body is not valid JSON`);
      }
      if (json !== undefined) violations.push(...this.checkBody(operation, json, where));
    }
    return { match, json, violations };
  }

  private checkParameters(
    operation: Operation,
    location: "path" | "query",
    values: Record<string, string | string[]>,
    where: string,
  ): string[] {
    const declared = operation.parameters.filter((p) => p.in === location);
    const out: string[] = [];
    const known = new Set(declared.map((p) => p.name));
    for (const name of Object.keys(values)) {
      if (!known.has(name)) out.push(`${where}: unknown ${location} parameter ${JSON.stringify(name)}`);
    }
    for (const p of declared) {
      if (p.required && values[p.name] === undefined)
        out.push(`${where}: missing required ${location} parameter ${p.name}`);
    }
    const key = `${operation.operationId} ${location}`;
    let validate = this.queryValidators.get(key);
    if (!validate) {
      const schema = {
        type: "object",
        properties: Object.fromEntries(declared.map((p) => [p.name, p.schema ?? {}])),
      };
      validate = compileOrError(this.queryAjv, this.standalone(schema));
      this.queryValidators.set(key, validate);
    }
    if (validate instanceof Error)
      return [...out, `${where}: cannot compile parameters: ${validate.message}`];
    // Only the declared ones are type-checked (unknown ones were reported above).
    const copy = Object.fromEntries(Object.entries(values).filter(([k]) => known.has(k)));
    if (!validate(copy)) {
      for (const e of validate.errors ?? [])
        out.push(`${where}: ${location} parameter${e.instancePath} ${e.message}`);
    }
    return out;
  }

  private checkBody(operation: Operation, json: unknown, where: string): string[] {
    const schema = operation.requestBody?.content["application/json"]?.schema;
    if (!schema) return [];
    let validate = this.bodyValidators.get(operation.operationId);
    if (!validate) {
      validate = compileOrError(this.bodyAjv, this.standalone(schema));
      this.bodyValidators.set(operation.operationId, validate);
    }
    if (validate instanceof Error) return [`${where}: cannot compile the body schema: ${validate.message}`];
    const out: string[] = [];
    if (!validate(json)) {
      for (const e of validate.errors ?? [])
        out.push(`${where}: body${e.instancePath || ""} ${e.message}${paramsText(e.params)}`);
    }
    // GitHub ignores keys it does not know; for a client that is a silent typo, so it fails here.
    const known = this.topLevelProperties(schema);
    if (known && json && typeof json === "object" && !Array.isArray(json)) {
      for (const k of Object.keys(json))
        if (!known.has(k)) out.push(`${where}: body has unknown property ${k}`);
    }
    return out;
  }

  /** Property names a body may have at the top level (undefined when the schema allows any). */
  private topLevelProperties(schema: Json): Set<string> | undefined {
    const s = this.resolve(schema);
    if (s.additionalProperties !== undefined && s.additionalProperties !== false) return undefined;
    const names = new Set<string>(Object.keys((s.properties as Json | undefined) ?? {}));
    for (const k of ["allOf", "oneOf", "anyOf"]) {
      for (const branch of (s[k] as Json[] | undefined) ?? []) {
        const sub = this.topLevelProperties(branch);
        if (!sub) return undefined;
        for (const n of sub) names.add(n);
      }
    }
    return s.properties || s.allOf || s.oneOf || s.anyOf ? names : undefined;
  }
}

function newAjv(coerceTypes: false | "array"): Ajv {
  // strict off: the description uses OpenAPI keywords (example, x-github, ...) and
  // formats ajv does not know (repo.nwo, uri-template).
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes, logger: false });
  addFormats(ajv);
  return ajv;
}

/**
 * A copy of an OpenAPI 3.0 schema as JSON Schema for ajv: `nullable: true` without a `type`
 * (beside a `$ref` or `oneOf`) becomes `anyOf: [schema, {type: "null"}]` (ajv reads `nullable`
 * only next to `type`), and each local `$ref` is replaced by what `ref` returns for it.
 */
function toJsonSchema(value: unknown, ref: (target: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => toJsonSchema(v, ref));
  if (!value || typeof value !== "object") return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      k === "$ref" && typeof v === "string" && v.startsWith("#/")
        ? ref(v)
        : // Examples are data, not schemas: left alone.
          k === "example" || k === "examples"
          ? v
          : toJsonSchema(v, ref);
  }
  if (out.nullable === true && out.type === undefined) {
    const { nullable: _, ...rest } = out;
    return { anyOf: [rest, { type: "null" }] };
  }
  return out;
}

function compileOrError(ajv: Ajv, schema: Json): ValidateFunction | Error {
  try {
    return ajv.compile(schema);
  } catch (error) {
    return error as Error;
  }
}

function paramsText(params: Record<string, unknown>): string {
  const shown = Object.entries(params).filter(([, v]) => v !== undefined);
  return shown.length ? ` (${shown.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")})` : "";
}

/** Parameters whose values may hold slashes (refs, file paths). */
const slashParams = new Set(["{ref}", "{path}", "{branch}", "{tag}", "{basehead}", "{file_path}"]);

function matchSegments(
  template: string[],
  parts: string[],
  greedy: boolean,
): Record<string, string> | undefined {
  if (greedy && !slashParams.has(template[template.length - 1] ?? "")) return undefined;
  if (greedy ? parts.length < template.length : parts.length !== template.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i] as string;
    const last = i === template.length - 1;
    const value = greedy && last ? parts.slice(i).join("/") : (parts[i] as string);
    if (t.startsWith("{") && t.endsWith("}")) {
      if (value === "") return undefined;
      try {
        params[t.slice(1, -1)] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (t !== value) return undefined;
  }
  if (greedy && parts.length === template.length) return undefined;
  return params;
}
