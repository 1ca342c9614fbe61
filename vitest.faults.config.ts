import { defineConfig } from "vitest/config";

// `npm run test:faults`: the fault-injection suite alone, with the full 100 MB log flood.
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    env: { TUNIX_RT_FAULTS_FULL: "1" },
  },
});
