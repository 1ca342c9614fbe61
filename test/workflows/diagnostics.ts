/**
 * A workflow read by GitHub's own workflow language service (@actions/languageservice, the
 * engine of the official VS Code extension), with the two providers it asks for what a file
 * alone cannot say: a file provider (the local reusable workflows a job calls) and an
 * actions metadata provider, which maps tunix-rt's actions, local (`./actions/NAME`) or
 * pinned across repositories (`OWNER/REPO/actions/NAME@sha`), onto this checkout's
 * action.yml, so every `with:` key is checked against the inputs the action declares. Other
 * repositories' actions (actions/checkout, ...) cannot be read here: they are given without
 * inputs, which the service then does not check.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { validate } from "@actions/languageservice";
import { TextDocument } from "vscode-languageserver-textdocument";
import { parse } from "yaml";
import { repoRoot } from "../actions/helpers.js";

const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");

/** tunix-rt's actions, by folder name, as action.yml declares them. */
const tunixActions = new Set(["sweep", "score", "verify-evidence", "package"]);

/** The metadata of an action reference; `tunixRepository` is where tunix-rt's actions live. */
function metadataOf(ref: { owner: string; name: string; path?: string }, tunixRepository: string) {
  const action = ref.path?.replace(/^actions\//, "");
  if (`${ref.owner}/${ref.name}` === tunixRepository && action && tunixActions.has(action)) {
    const yaml = parse(read(`actions/${action}/action.yml`)) as {
      name: string;
      description: string;
      inputs?: Record<string, { description: string; required?: boolean; default?: string }>;
      outputs?: Record<string, { description: string }>;
    };
    return { name: yaml.name, description: yaml.description, inputs: yaml.inputs, outputs: yaml.outputs };
  }
  return { name: `${ref.owner}/${ref.name}`, description: "not read here" };
}

/**
 * Every diagnostic of the language service for `text`, as `file:line: message`. `root` is
 * where local reusable workflows are read from (default this checkout).
 */
export async function diagnostics(
  file: string,
  text: string,
  {
    root = repoRoot,
    tunixRepository = "tunix-rt/tunix-rt",
  }: { root?: string; tunixRepository?: string } = {},
): Promise<string[]> {
  const doc = TextDocument.create(`file://${path.join(root, file)}`, "yaml", 1, text);
  const found = await validate(doc, {
    fileProvider: {
      async getFileContent(ref: { path: string; repository?: string }) {
        if (ref.repository) throw new Error(`no remote files here: ${JSON.stringify(ref)}`);
        return { name: ref.path, content: readFileSync(path.join(root, ref.path), "utf8") };
      },
    },
    actionsMetadataProvider: {
      fetchActionMetadata: async (ref) => metadataOf(ref, tunixRepository),
    },
  });
  return found.map((d) => `${file}:${d.range.start.line + 1}: ${d.message}`);
}
