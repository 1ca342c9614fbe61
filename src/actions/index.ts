/**
 * The one bundle behind every action of this repository (the pattern of github/codeql-action:
 * several action.yml files, one compiled codebase). `dist/<action>.js`, the `main` of each
 * action.yml, is two lines that call `run("<action>")`. Each action's code is imported only
 * when it runs, so a step loads its own chunk and the shared ones, not every action's.
 */

/** The actions of this repository, by the name of their `dist/<name>.js` entry. */
export const actionNames = ["tunix-rt", "sweep", "score", "verify-evidence", "package"] as const;
export type ActionName = (typeof actionNames)[number];

const entryPoints: Record<ActionName, () => Promise<{ run: () => Promise<void> }>> = {
  "tunix-rt": () => import("./tunix-rt/main.js"),
  sweep: () => import("./sweep/main.js"),
  score: () => import("./score/main.js"),
  "verify-evidence": () => import("./verify-evidence/main.js"),
  package: () => import("./package/main.js"),
};

/** Runs one action; every failure inside ends as a failed step (the action's own `run` catches). */
export async function run(action: ActionName): Promise<void> {
  const load = entryPoints[action];
  if (!load) {
    process.exitCode = 1;
    process.stdout.write(`::error::unknown tunix-rt action ${JSON.stringify(action)}\n`);
    return;
  }
  const entry = await load();
  await entry.run();
}
