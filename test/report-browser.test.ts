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
import type { ParamSpec } from "../src/core/config/config.js";
import { validateConfig } from "../src/core/config/config.js";
import { deriveEvidence } from "../src/core/evidence/derived.js";
import type { ChartTrial } from "../src/core/report/charts.js";
import { type CurveTrial, drawnPoints } from "../src/core/report/curves.js";
import { reportHtml } from "../src/core/report/report.js";
import { PruningSchema } from "../src/core/search/pruning.js";
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

  it("draws a pruned sweep's learning curves: one line per readable curve, a cross where each pruned trial stopped, grey rings in the history", async () => {
    const trials: CurveTrial[] = [];
    for (let i = 0; i < 12; i++) {
      const q = 0.3 + (i % 6) / 10;
      // Trial 5 logs every step (2,000 points): drawn thinned.
      const every = i === 5 ? 1 : 20;
      const prunedAt = i % 3 === 1 ? (i < 6 ? 60 : 180) : undefined;
      const steps: number[] = [];
      for (let s = every; s <= (prunedAt ?? 2000); s += every) steps.push(s);
      const values = steps.map((s) => Number((q * (1 - Math.exp(-s / 400))).toFixed(4)));
      trials.push({
        trial_id: `t${String(i).padStart(4, "0")}`,
        status: prunedAt ? "pruned" : "completed",
        primary_score: prunedAt ? null : q,
        params: { learning_rate: 1e-4 * (i + 1) },
        finished_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
        curve: { metric: "eval_accuracy", steps, values },
        ...(prunedAt ? { pruned: { step: prunedAt, value: values.at(-1), threshold: 0.5 } } : {}),
      });
    }
    // A curve that is no curve (hostile evidence): left out, and named.
    trials.push({
      trial_id: "t0012",
      status: "completed",
      primary_score: 0.5,
      params: { learning_rate: 2e-3 },
      curve: { metric: "eval_accuracy", steps: [1, 1], values: [0.1, 0.2] },
    });
    const dir = await tempDir("tunix-rt-browser-curves-");
    const file = path.join(dir, "report.html");
    await writeFile(
      file,
      reportHtml({
        runVersion: "curves_v1",
        sweepId: null,
        space: { learning_rate: { type: "loguniform", min: 1e-5, max: 1e-2 } },
        trials,
        pruning: PruningSchema.parse({ metric: "eval_accuracy", rule: "asha", min_resource: 60 }),
      }),
    );
    const { page, problems } = await open(file);
    expect(await page.$$eval("figure", (els) => els.map((e) => e.id))).toEqual([
      "history",
      "curves",
      "parallel",
      "slices",
    ]);
    const box = await page.locator("#curves svg").boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(300);
    await page.locator("#curves svg").screenshot({ path: path.join(screenshots, "curves.png") });
    const lines = await page.$$eval("#curves svg path[data-status]", (els) =>
      els.map((e) => [e.getAttribute("data-trial"), (e.getAttribute("d")?.match(/[ML]/g) ?? []).length]),
    );
    expect(lines.map((l) => l[0]).sort()).toEqual(trials.slice(0, 12).map((t) => t.trial_id));
    // The curve of 2,000 points is drawn with at most drawnPoints (and its prune point) of them.
    expect(lines.find((l) => l[0] === "t0005")?.[1]).toBeLessThanOrEqual(drawnPoints + 1);
    const crosses = await page.$$eval("#curves svg path[data-pruned-step]", (els) =>
      els.map((e) => [e.getAttribute("data-trial"), Number(e.getAttribute("data-pruned-step"))]),
    );
    const pruned = trials.filter((t) => t.status === "pruned");
    expect(crosses.sort()).toEqual(pruned.map((t) => [t.trial_id, t.pruned?.step]).sort());
    // ASHA's rungs up to the last step: 60, 180, 540, 1620.
    expect(await page.locator("#curves svg line[data-rung]").count()).toBe(4);
    expect(await page.textContent("#curves")).toContain("Left out, their curves unreadable: t0012");
    const rings = await page.$$eval('#history svg circle[data-status="pruned"]', (els) =>
      els.map((e) => e.getAttribute("data-trial")),
    );
    expect(rings.sort()).toEqual(pruned.map((t) => t.trial_id).sort());
    expect(await page.textContent("#history")).toContain(`${pruned.length} pruned (grey rings)`);
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

  it("shows leaderboard.md's table, tick labels over the lines, whole-number axes, the re-evaluation, and importance once", async () => {
    // A sweep whose leaderboard has it all: failed and not-run trials, a spent failure budget,
    // the model's shortlist, repeats; a whole-number parameter.
    const checked = validateConfig(
      {
        run_version: "agree_v1",
        num_samples: 12,
        seed: 3,
        max_failed_trials: 1,
        recommend: "model",
        search_space: {
          learning_rate: { type: "loguniform", min: 1e-5, max: 1e-2 },
          layers: { type: "randint", min: 1, max: 4 },
        },
        reevaluate: { top_k: 2, repeats: 1 },
      },
      "agree.yaml",
    );
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    const trials = Array.from({ length: 12 }, (_, i) => ({
      trial_id: `t${String(i).padStart(4, "0")}`,
      params: { learning_rate: 1e-5 * 10 ** (((i * 7) % 30) / 10), layers: 1 + (i % 4) },
      status: i === 3 || i === 8 ? ("failed" as const) : ("completed" as const),
      primary_score: i === 3 || i === 8 ? null : Math.round(1000 * (0.4 + ((i * 37) % 11) / 25)) / 1000,
      error: i === 3 || i === 8 ? "trainer exited with code 1: CUDA out of memory" : null,
      duration_s: 10 + i,
      finished_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    }));
    trials.push({
      ...(trials[5] as (typeof trials)[number]),
      trial_id: "t0012",
      repeat_of: "t0005",
      primary_score: 0.61,
      finished_at: new Date(Date.UTC(2026, 0, 1, 1, 0)).toISOString(),
    } as (typeof trials)[number]);
    const derived = deriveEvidence({ config: checked.value, trials, sweepId: null, notRun: 3 });
    const dir = await tempDir("tunix-rt-browser-agree-");
    const file = path.join(dir, "report.html");
    await writeFile(file, reportHtml(derived.report, derived.charts));
    const { page, problems } = await open(file);

    // The same table as leaderboard.md: header, rows in order, cell by cell.
    const markdownRows = derived.leaderboardMd
      .split("\n")
      .filter((l) => l.startsWith("| ") && !l.startsWith("|---"))
      .map((l) =>
        l
          .slice(2, -2)
          .split(" | ")
          .map((c) =>
            c
              .replace(/\*\*/g, "")
              .replace(/\\(.)/g, "$1")
              .replace(/\u200b/g, ""),
          ),
      );
    const htmlRows = await page.$$eval("table.leaderboard tr", (rows) =>
      rows.map((r) => [...r.children].map((c) => c.textContent ?? "")),
    );
    expect(htmlRows).toEqual(markdownRows);
    const head = (await page.textContent("body")) ?? "";
    expect(head).toContain("3 not run");
    expect(head).toContain(
      "Failure budget exceeded: 2 failed trials, max_failed_trials is 1; 3 trials were not run.",
    );
    expect(head).toContain(
      "Rank 1 is the configuration run 2 times; the other configurations follow, by their score.",
    );
    await page.locator("table.leaderboard").screenshot({ path: path.join(screenshots, "leaderboard.png") });

    // Tick labels come after every line of the parallel chart: drawn over them, haloed.
    const order = await page.$$eval("#parallel svg > *", (els) =>
      els.map((e) => (e.classList.contains("label") ? "label" : e.hasAttribute("data-trial") ? "line" : "")),
    );
    expect(order.lastIndexOf("line")).toBeLessThan(order.indexOf("label"));
    await page.locator("#parallel svg").screenshot({ path: path.join(screenshots, "parallel-labels.png") });
    // The whole-number parameter's axis names whole numbers only: its labels sit left of it.
    const layerTicks = await page.$$eval("#parallel svg text", (els) => {
      const title = els.find((e) => e.textContent === "layers");
      const x = Number(title?.getAttribute("x"));
      return els
        .filter((e) => e.classList.contains("label") && Number(e.getAttribute("x")) === x - 5)
        .map((e) => e.textContent ?? "");
    });
    expect(layerTicks.sort()).toEqual(["1", "2", "3", "4"]);
    // The re-evaluation is marked in the history.
    expect(await page.locator('#history svg line[data-stage="re-evaluation"]').count()).toBe(1);
    // Parameter importance: one chart, its numbers under it, no second heading.
    expect(await page.locator("h2", { hasText: "Parameter importance" }).count()).toBe(0);
    expect(await page.locator("figure#importance").count()).toBe(1);
    expect(problems).toEqual([]);
  }, 60_000);
});
