// Writes tunix-rt's own generated workflows (.github/workflows/sweep.yml, evidence.yml,
// release.yml) from the templates in src/core/workflows/, the same templates `tunix-rt init`
// writes every user's workflows from. Run after a build: it reads lib/.
//   npm run build:workflows          (npm run build && node scripts/build-workflows.mjs)
// test/workflows/generated.test.ts fails when a committed file differs from what this writes.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { wavesNeeded } from "../lib/core/search/fidelity.js";
import { ownSweepConfig, ownWorkflows } from "../lib/core/workflows/own.js";
import { loadConfig } from "../lib/runtime/config-file.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { config } = await loadConfig(ownSweepConfig, { cwd: root });
for (const { file, text } of ownWorkflows(wavesNeeded(config))) {
  const target = path.join(root, ".github/workflows", file);
  await writeFile(target, text);
  console.log(path.relative(root, target));
}
