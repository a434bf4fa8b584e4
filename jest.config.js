/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts", "**/*.test.tsx"],
  transform: {
    "^.+\\.(t|j)sx?$": [
      "@swc/jest",
      {
        jsc: {
          target: "es2022",
          parser: { syntax: "typescript", tsx: true },
          transform: { react: { runtime: "automatic" } },
        },
        module: { type: "commonjs" },
      },
    ],
  },
  // jose ships only ES modules; compiling it lets suites start a gateway in-process (tests/support/in-process.ts).
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  // Integration suites start emulators and processes; keep the 2-core machine from thrashing.
  maxWorkers: 2,
  testTimeout: 30000,
};
