// What the benchmarks share: a child process run to its end, and a small seeded generator.
import { spawn } from "node:child_process";

/**
 * Runs `argv` to its end and resolves with its stdout; rejects, naming `what` and the end of
 * its stderr, when it cannot start or exits non-zero. `options` go to spawn (cwd, env).
 */
export function runChild(argv, what, options = {}) {
  return new Promise((resolve, reject) => {
    const [command, ...args] = argv;
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${what} exited ${code}: ${err.slice(-800)}`)),
    );
  });
}

/** A seeded uniform generator on [0,1) (mulberry32): the same numbers for the same seed, everywhere. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
