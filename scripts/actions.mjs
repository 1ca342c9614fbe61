// The actions of this repository, found where they are declared: the root action.yml and
// actions/<name>/action.yml. Each one's `runs.main` names its entry, dist/<name>.js. The
// build writes an entry for each, and the tests check each (and the bundle's table of
// actions, src/actions/index.ts, against the same list), so the list is written nowhere else.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";

/**
 * Every action: `name` (its `dist/<name>.js`) and `file` (its action.yml, relative to the
 * repository root), the root action first, then actions/ in name order.
 */
export async function listActions(root) {
  const folders = await readdir(path.join(root, "actions"), { withFileTypes: true });
  const files = [
    "action.yml",
    ...folders
      .filter((entry) => entry.isDirectory())
      .map((entry) => `actions/${entry.name}/action.yml`)
      .sort(),
  ];
  const actions = [];
  for (const file of files) {
    const main = parse(await readFile(path.join(root, file), "utf8"))?.runs?.main;
    if (typeof main !== "string" || !/^(\.\.\/)*dist\/[a-z-]+\.js$/.test(main))
      throw new Error(`${file}: runs.main is ${JSON.stringify(main)}; expected dist/<name>.js`);
    actions.push({ name: path.basename(main, ".js"), file });
  }
  return actions;
}
