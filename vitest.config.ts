import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // GPU tests share one software adapter; running files in parallel on 2 cores only thrashes.
    fileParallelism: false,
  },
});
