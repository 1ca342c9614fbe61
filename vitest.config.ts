import { defineConfig } from "vitest/config";

export default defineConfig({
  // Those inlined packages ship source maps that point at files they do not ship.
  logLevel: "error",
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests spawn real processes and wait on them (trainers that sleep between
    // steps, git, the stand-in servers): more workers than cores keep the 2-core CI machine
    // busy. On it, the whole suite took 5 min 53 s with two workers and 4 min 42 s with three
    // (1,118 tests); at 1,169 tests, 4 min 55 s with three and 4 min 15 s with four
    // (`time npm test`, `time npx vitest run --maxWorkers=4`).
    maxWorkers: 4,
    // GitHub's workflow parser imports its JSON schemas without an import attribute, which
    // Node's own loader refuses; vite transforms those packages (as the VS Code extension's
    // bundler does).
    server: { deps: { inline: [/@actions\/(languageservice|workflow-parser|expressions)/] } },
  },
});
