// Writes schema/sweep-config.schema.json from the zod schema of the sweep config, so editors
// (yaml-language-server) validate training/*.yaml. Run after a build: it reads lib/.
//   npx tsc -p tsconfig.build.json && node scripts/write-schema.mjs
// test/config-schema.test.ts fails when the committed file differs from what this writes.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sweepConfigJsonSchema } from "../lib/core/config/config.js";
import { writeFileAtomic } from "../lib/runtime/files.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const target = path.join(root, "schema/sweep-config.schema.json");
await writeFileAtomic(target, `${JSON.stringify(sweepConfigJsonSchema(), null, 2)}\n`);
console.log(path.relative(root, target));
