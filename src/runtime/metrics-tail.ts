import { open } from "node:fs/promises";
import { type MetricsView, pickMetrics } from "../core/progress/metrics-view.js";

/** How much of a file's end is read first, and at most (a metrics line longer than this is skipped). */
const firstWindow = 4096;
const maxWindow = 65_536;

/**
 * The last complete line of a file that is being appended to, reading only its tail: the bytes
 * after the last newline are a line still being written and are skipped. Undefined when the
 * file does not exist, holds no complete line, or its last line is longer than 64 KiB.
 */
export async function lastCompleteLine(file: string): Promise<string | undefined> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    for (let window = firstWindow; ; window *= 2) {
      const start = Math.max(0, size - window);
      const buffer = Buffer.alloc(size - start);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      const tail = buffer.subarray(0, bytesRead);
      const end = tail.lastIndexOf(0x0a);
      if (end < 0) {
        if (start === 0 || window >= maxWindow) return undefined;
        continue;
      }
      const before = tail.lastIndexOf(0x0a, end - 1);
      // The line may begin before the window: read a larger one (or the whole file's start).
      if (before < 0 && start > 0) {
        if (window >= maxWindow) return undefined;
        continue;
      }
      return tail
        .subarray(before + 1, end)
        .toString("utf8")
        .replace(/\r$/, "");
    }
  } finally {
    await handle.close();
  }
}

/**
 * The numbers to show of a trainer's `metrics.jsonl` (its last complete line, see
 * `pickMetrics`), or undefined when there is none yet or the line is not a JSON object.
 */
export async function readLastMetrics(file: string): Promise<MetricsView | undefined> {
  const line = await lastCompleteLine(file).catch(() => undefined);
  if (line === undefined || line.trim() === "") return undefined;
  try {
    return pickMetrics(JSON.parse(line));
  } catch {
    return undefined;
  }
}
