/**
 * report.html in a real browser: Debian's Chromium, headless, driven by playwright-core (no
 * browser download). The page must load from a file with no console error, no failed
 * request and no request at all beyond itself; every chart must render at its size; the
 * numbers the history chart draws must be the trials of the page's data block. Each chart is
 * screenshotted into .tmp/report-screenshots/ for a person to look at.
 *
 * Chromium comes from Debian's `chromium` package, which .ci/run installs when it is missing
 * (and sets TUNIX_RT_REQUIRE_BROWSER=1, so a missing browser fails instead of skipping).
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ParamSpec } from "../src/core/config.js";
import type { ChartTrial } from "../src/core/report/charts.js";
import { reportHtml } from "../src/core/report/report.js";
import { repoRoot, runCli, tempDir } from "./helpers/cli.js";
import { referenceZip } from "./helpers/example-repo.js";

const executable = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p): p is string => p !== undefined && existsSync(p),
);
const required = process.env.TUNIX_RT_REQUIRE_BROWSER === "1";
const screenshots = path.join(repoRoot, ".tmp/report-screenshots");

/** A sweep with every kind of chart: failures, waves, successive halving, importance. */
function fullReport(): string {
  const space: Record<string, ParamSpec> = {
    learning_rate: { type: "loguniform", min: 1e-5, max: 1e-2 },
    weight_decay: { type: "uniform", min: 0, max: 0.1 },
    batch_size: { type: "choice", values: [1, 2, 4, 8] },
    scheduler: { type: "choice", values: ["linear", "cosine"] },
  };
  const trials: ChartTrial[] = [];
  for (let i = 0; i < 27; i++) {
    const lr = 1e-5 * 10 ** (((i * 7) % 30) / 10);
    trials.push({
      trial_id: `t${String(i).padStart(4, "0")}`,
      status: i % 9 === 4 ? "failed" : "completed",
      primary_score:
        i % 9 === 4 ? null : Math.max(0, 0.9 - Math.abs(Math.log10(lr) + 3.5) / 3 - (i % 3) * 0.03),
      params: {
        learning_rate: lr,
        weight_decay: (i % 5) / 50,
        batch_size: [1, 2, 4, 8][i % 4] as number,
        scheduler: i % 2 ? "cosine" : "linear",
      },
      finished_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      rung: 0,
      budget: 1000,
      wave: 1 + Math.floor(i / 9),
    });
  }
  const rung0 = trials
    .filter((t) => t.primary_score !== null)
    .sort((a, b) => (b.primary_score as number) - (a.primary_score as number));
  rung0.slice(0, 3).forEach((parent, k) => {
    trials.push({
      ...parent,
      trial_id: `t${String(27 + k).padStart(4, "0")}`,
      primary_score: Math.min(1, (parent.primary_score as number) + 0.05 * (k + 1)),
      rung: 1,
      budget: 3000,
      parent: parent.trial_id,
      finished_at: new Date(Date.UTC(2026, 0, 1, 1, k)).toISOString(),
    });
  });
  return reportHtml({
    runVersion: "browser_v1",
    sweepId: "5d3c1a2b-0000-4000-8000-000000000000",
    space,
    facts: { model: "google/gemma-3-1b-it" },
    trials,
    importance: {
      method: "fANOVA on a random forest",
      params: [
        { name: "learning_rate", importance: 0.71, std: 0.08 },
        { name: "batch_size", importance: 0.12, std: 0.05 },
        { name: "weight_decay", importance: 0.04, std: 0.03 },
        { name: "scheduler", importance: 0.01, std: 0.01 },
      ],
    },
  });
}

describe.skipIf(!executable && !required)("report.html in headless Chromium", () => {
  let browser: Awaited<ReturnType<typeof chromium.launch>>;
  beforeAll(async () => {
    if (!executable)
      throw new Error(
        "no Chromium: install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH",
      );
    browser = await chromium.launch({
      executablePath: executable,
      // As root in a container: no sandbox; and no background traffic to Google's hosts.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    await mkdir(screenshots, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a page, recording console errors, page errors and every request but the page's own. */
  async function open(file: string) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    const url = pathToFileURL(file).href;
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`failed request: ${r.url()}`));
    page.on("request", (r) => {
      if (r.url() !== url) problems.push(`request beyond the page: ${r.url()}`);
    });
    await page.goto(url, { waitUntil: "load" });
    return { page, problems };
  }

  it("renders every chart with nothing fetched and no error, and draws the trials of its data", async () => {
    const dir = await tempDir("tunix-rt-browser-");
    const file = path.join(dir, "report.html");
    await writeFile(file, fullReport());
    const { page, problems } = await open(file);
    const figures = await page.$$eval("figure", (els) => els.map((e) => e.id));
    expect(figures).toEqual(["history", "parallel", "slices", "importance", "rungs"]);
    for (const id of figures) {
      const box = await page.locator(`#${id} svg`).boundingBox();
      expect(box?.width ?? 0, id).toBeGreaterThan(300);
      expect(box?.height ?? 0, id).toBeGreaterThan(100);
      const shot = await page.locator(`#${id} svg`).screenshot({ path: path.join(screenshots, `${id}.png`) });
      expect(shot.length, id).toBeGreaterThan(5_000);
    }
    // What the history chart draws, read back from the rendered page, is the data block.
    const drawn = await page.$$eval("#history svg circle[data-trial]", (els) =>
      els.map((e) => [e.getAttribute("data-trial"), Number(e.getAttribute("data-score"))]),
    );
    const data = JSON.parse((await page.textContent("#tunix-rt-report")) ?? "{}") as {
      trials: Array<{ trial_id: string; status: string; primary_score: number | null }>;
    };
    const completed = data.trials
      .filter((t) => t.status === "completed")
      .map((t) => [t.trial_id, t.primary_score]);
    expect(drawn.sort()).toEqual(completed.sort());
    expect(await page.locator("table").first().textContent()).toContain("t0029");
    await page.screenshot({ path: path.join(screenshots, "page.png"), fullPage: true });
    expect(problems).toEqual([]);
  }, 60_000);

  it("opens the report `tunix-rt report` draws from the example's reference zip", async () => {
    const out = await tempDir("tunix-rt-browser-zip-");
    const made = await runCli(["report", await referenceZip(), "--out", out]);
    expect(made.code).toBe(0);
    const { page, problems } = await open(path.join(out, "report.html"));
    // Eight scored trials: importance computed from them, drawn as the table says.
    expect(await page.$$eval("figure", (els) => els.map((e) => e.id))).toEqual([
      "history",
      "parallel",
      "slices",
      "importance",
    ]);
    await page.locator("#history svg").screenshot({ path: path.join(screenshots, "example-history.png") });
    await page
      .locator("#importance svg")
      .screenshot({ path: path.join(screenshots, "example-importance.png") });
    const bars = await page.$$eval("#importance svg [data-importance]", (els) =>
      els.map((e) => Number(e.getAttribute("data-importance")).toFixed(3)),
    );
    const rows = await page.$$eval("table", (tables) => {
      const table = tables.find((t) => t.textContent?.includes("± std"));
      return [...(table?.querySelectorAll("tbody tr") ?? [])].map((r) => r.children[1]?.textContent ?? "");
    });
    expect(bars).toHaveLength(4);
    expect(bars).toEqual(rows);
    expect(problems).toEqual([]);
  }, 60_000);
});
