/**
 * The one bundle behind every action of this repository (the pattern of github/codeql-action:
 * several action.yml files, one compiled codebase). `dist/<action>.js`, the `main` of each
 * action.yml, is two lines that call `run("<action>")`; scripts/build-actions.mjs writes one
 * for each action.yml of the repository, and a test holds this table to the same files. Each
 * action's code is imported only when it runs, so a step loads its own chunk and the shared
 * ones, not every action's.
 */
/** Each action's `run`, by the name of its `dist/<name>.js` entry. */
export const actions: Readonly<Record<string, () => Promise<void>>> = {
  "tunix-rt": async () => (await import("./tunix-rt/main.js")).run(),
  sweep: async () => (await import("./sweep/main.js")).run(),
  score: async () => (await import("./score/main.js")).run(),
  "verify-evidence": async () => (await import("./verify-evidence/main.js")).run(),
  package: async () => (await import("./package/main.js")).run(),
};

/** Runs one action; every failure inside ends as a failed step (the shared runner catches). */
export async function run(name: string): Promise<void> {
  const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
  if (!action) {
    process.exitCode = 1;
    process.stdout.write(`::error::unknown tunix-rt action ${JSON.stringify(name)}\n`);
    return;
  }
  await action();
}
