// Writes docs/cli.md, the CLI reference, from the command definitions: each command's
// summary (src/cli/commands/index.ts) and its --help text, the exit codes and the error
// format (src/cli/reference.ts). Run after a build: it reads lib/.
//   npm run docs:cli
// With --check it writes nothing and exits 1 when docs/cli.md is not what it would write.
// test/cli-reference.test.ts fails the same way, naming `npm run docs:cli`.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cliReference, cliReferenceCommand } from "../lib/cli/reference.js";
import { writeFileAtomic } from "../lib/runtime/files.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const target = path.join(root, "docs/cli.md");
const text = await cliReference();

if (process.argv.includes("--check")) {
  const committed = await readFile(target, "utf8").catch(() => undefined);
  if (committed !== text) {
    console.error(`${path.relative(root, target)} is not current: run ${cliReferenceCommand}`);
    process.exit(1);
  }
  console.log(`${path.relative(root, target)} is current`);
} else {
  await writeFileAtomic(target, text);
  console.log(path.relative(root, target));
}
