/**
 * docs/cli.md is generated from the command definitions (src/cli/reference.ts, written by
 * `npm run docs:cli`): a help text changed without regenerating it fails here, naming the
 * command to run. The reference holds every command's full help, the exit codes and the
 * error format.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { commands, loadCommand } from "../src/cli/commands/index.js";
import { cliReference, cliReferenceCommand, exitCodeMeanings } from "../src/cli/reference.js";
import { ExitCode } from "../src/core/errors.js";
import { repoRoot } from "./helpers/cli.js";

const file = path.join(repoRoot, "docs/cli.md");

describe("docs/cli.md", () => {
  it(`is what ${cliReferenceCommand} writes from the commands' help`, async () => {
    const committed = await readFile(file, "utf8").catch(() => "");
    const current = await cliReference();
    // Not toBe: a long diff of two Markdown files says less than the way to fix it.
    if (committed !== current) {
      const at = [...current].findIndex((ch, i) => committed[i] !== ch);
      const line = current.slice(0, at === -1 ? current.length : at).split("\n").length;
      expect.fail(
        `docs/cli.md is not current (first difference at line ${line}): run ${cliReferenceCommand}`,
      );
    }
  });

  it("holds each command's full help, the exit codes and the error format", async () => {
    const text = await cliReference();
    for (const entry of commands) {
      const { help } = await loadCommand(entry);
      expect(text, entry.name).toContain(`## \`tunix-rt ${entry.name}\``);
      expect(text, entry.name).toContain(help.trimEnd());
    }
    for (const code of Object.values(ExitCode))
      expect(text).toContain(`| ${code} | ${exitCodeMeanings[code]} |`);
    expect(text).toContain("--all-problems");
    expect(text).toContain('{"ok": false, "exit_code": 2');
  });
});
