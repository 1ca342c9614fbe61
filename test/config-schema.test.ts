import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { paramTypes, sweepConfigJsonSchema } from "../src/core/config/config.js";
import { samplerNames } from "../src/core/config/sampler-names.js";
import { repoRoot } from "./helpers/cli.js";

const committed = path.join(repoRoot, "schema/sweep-config.schema.json");

describe("schema/sweep-config.schema.json", () => {
  it("is what scripts/write-schema.mjs generates from the zod schema", async () => {
    const text = await readFile(committed, "utf8");
    // On a mismatch: npx tsc -p tsconfig.build.json && node scripts/write-schema.mjs
    expect(text).toBe(`${JSON.stringify(sweepConfigJsonSchema(), null, 2)}\n`);
  });

  it("describes the config's keys, parameter types and samplers, and refuses unknown keys", () => {
    const schema = sweepConfigJsonSchema() as {
      properties: Record<
        string,
        { enum?: string[]; additionalProperties?: { oneOf: { properties: { type: { const: string } } }[] } }
      >;
      required: string[];
      additionalProperties: boolean;
    };
    expect(schema.required).toEqual(["search_space"]);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.sampler?.enum).toEqual([...samplerNames]);
    const types = schema.properties.search_space?.additionalProperties?.oneOf.map(
      (o) => o.properties.type.const,
    );
    expect(types).toEqual([...paramTypes]);
  });
});
