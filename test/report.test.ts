import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ParamSpec } from "../src/core/config/config.js";
import { type ChartTrial, historyChart, rungsChart } from "../src/core/report/charts.js";
import { parallelChart, slicesChart } from "../src/core/report/param-charts.js";
import { bestSoFarMermaid, importanceMarkdown, reportHtml, sweepCharts } from "../src/core/report/report.js";
import { readZipFile } from "../src/runtime/zip-read.js";
import { runCli, tempDir } from "./helpers/cli.js";
import { exampleRepo, referenceZip } from "./helpers/example-repo.js";

const space: Record<string, ParamSpec> = {
  lr: { type: "loguniform", min: 1e-4, max: 1e-1 },
  wd: { type: "uniform", min: 0, max: 0.2 },
  bs: { type: "choice", values: [8, 2, 4] },
  opt: { type: "choice", values: ["adam", "sgd"] },
};

/** A sweep of n trials with a known score per trial, some failed, finishing out of id order. */
function sweep(n: number): ChartTrial[] {
  return Array.from({ length: n }, (_, i) => {
    const failed = i % 5 === 3;
    return {
      trial_id: `t${String(i).padStart(4, "0")}`,
      status: failed ? "failed" : "completed",
      primary_score: failed ? null : Math.round(((i * 37) % 100) + 0.5) / 100,
      params: {
        lr: 1e-4 * 10 ** ((i % 7) / 2.4),
        wd: (i % 9) / 45,
        bs: [2, 4, 8][i % 3] as number,
        opt: i % 2 ? "sgd" : "adam",
      },
      // Finished in an order other than the ids: the later half first.
      finished_at: new Date(Date.UTC(2026, 0, 1, 0, (i + Math.floor(n / 2)) % n)).toISOString(),
      wave: 1 + Math.floor(i / 4),
    } as ChartTrial;
  });
}

/** The marks of an SVG that carry a trial: their data attributes. */
function marks(svg: string, tag: string): Array<Record<string, string>> {
  return [...svg.matchAll(new RegExp(`<${tag}((?: [a-z-]+="[^"]*")*)`, "g"))]
    .map((m) =>
      Object.fromEntries([...(m[1] ?? "").matchAll(/ ([a-z-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
    )
    .filter((a) => a["data-trial"] !== undefined);
}

describe("the charts draw the numbers of trials.jsonl", () => {
  const trials = sweep(20);
  const scored = trials.filter((t) => t.status === "completed");

  it("history: every scored trial once at its score, in finish order; failures marked; the best so far; wave lines", () => {
    const chart = historyChart(trials);
    const dots = marks(chart.svg, "circle");
    expect(dots.map((d) => d["data-trial"]).sort()).toEqual(scored.map((t) => t.trial_id).sort());
    for (const d of dots) {
      const t = trials.find((x) => x.trial_id === d["data-trial"]);
      expect(Number(d["data-score"])).toBe(t?.primary_score);
    }
    // Finish order, not id order; and a higher score is drawn higher (a smaller cy).
    const byOrder = [...trials].sort((a, b) => String(a.finished_at).localeCompare(String(b.finished_at)));
    for (const d of dots)
      expect(Number(d["data-order"])).toBe(byOrder.findIndex((t) => t.trial_id === d["data-trial"]) + 1);
    const sorted = [...dots].sort((a, b) => Number(a["data-score"]) - Number(b["data-score"]));
    for (let i = 1; i < sorted.length; i++)
      expect(Number(sorted[i]?.cy)).toBeLessThanOrEqual(Number(sorted[i - 1]?.cy));
    expect(marks(chart.svg, "path").filter((p) => p["data-status"] === "failed")).toHaveLength(
      trials.length - scored.length,
    );
    expect(chart.svg).toContain('data-series="best-so-far"');
    // Waves of 4 by id, finishing out of order: a line wherever the wave changes between neighbours.
    expect((chart.svg.match(/data-stage="wave \d+"/g) ?? []).length).toBeGreaterThan(0);
  });

  it("parallel coordinates: a line per trial, a log axis for the log type, categories as their values", () => {
    const chart = parallelChart(trials, space);
    const lines = marks(chart.svg, "path");
    expect(lines).toHaveLength(trials.length);
    expect(chart.svg).toContain(">lr (log)</text>");
    for (const value of ["adam", "sgd"]) expect(chart.svg).toContain(`>${value}</text>`);
    // Numeric choices in order of size, whatever the config's order.
    const bs = [...chart.svg.matchAll(/>(2|4|8)<\/text>/g)].map((m) => m[1]);
    expect(bs.slice(0, 3)).toEqual(["2", "4", "8"]);
    expect(
      lines.filter((l) => l["data-status"] === "failed").every((l) => l["stroke-dasharray"] === "3 3"),
    ).toBe(true);
  });

  it("slices: one plot per parameter, each with every scored trial", () => {
    const chart = slicesChart(trials, space);
    for (const name of Object.keys(space)) {
      const dots = marks(chart.svg, "circle").filter((d) => d["data-param"] === name);
      expect(dots.map((d) => d["data-trial"]).sort()).toEqual(scored.map((t) => t.trial_id).sort());
    }
  });

  it("rungs: each rung's trials at its budget, promotions joined to their parents", () => {
    const rung = (id: string, r: number, budget: number, score: number, parent?: string): ChartTrial => ({
      trial_id: id,
      status: "completed",
      primary_score: score,
      params: { lr: 0.01 },
      rung: r,
      budget,
      ...(parent ? { parent } : {}),
    });
    const chart = rungsChart([
      rung("t0000", 0, 100, 0.2),
      rung("t0001", 0, 100, 0.6),
      rung("t0002", 1, 300, 0.7, "t0001"),
    ]);
    expect(chart?.svg).toContain('data-promotion="t0001&#62;t0002"');
    expect(rungsChart(trials)).toBeUndefined();
  });

  it("the same records give the same bytes", () => {
    expect(sweepCharts({ runVersion: "r", sweepId: "s", space, trials }).map((c) => c.svg)).toEqual(
      sweepCharts({ runVersion: "r", sweepId: "s", space, trials: [...trials].reverse() }).map((c) => c.svg),
    );
  });
});

describe("report.html and the Markdown views", () => {
  it("is one self-contained page: charts inline, no script to run, nothing fetched; its data block is the trials", () => {
    const trials = sweep(256);
    const html = reportHtml({ runVersion: "big_v1", sweepId: "s", space, trials });
    expect(html).not.toMatch(/<script(?![^>]*type="application\/json")/);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
    const json =
      /<script type="application\/json" id="tunix-rt-report">(.*?)<\/script>/s.exec(html)?.[1] ?? "";
    const data = JSON.parse(json);
    expect(data.trials).toHaveLength(256);
    expect(new Set(data.trials.map((t: { primary_score: unknown }) => t.primary_score))).toEqual(
      new Set(trials.map((t) => t.primary_score)),
    );
    // 256 trials, four parameters: small enough to mail.
    expect(Buffer.byteLength(html)).toBeLessThan(400_000);
  });

  it("draws the best so far as Mermaid (at most 40 points) and importance as a table", () => {
    const mermaid = bestSoFarMermaid(sweep(100));
    expect(mermaid.startsWith("```mermaid\nxychart-beta\n")).toBe(true);
    const values = JSON.parse(/ line (\[.*\])/.exec(mermaid)?.[1] ?? "[]") as number[];
    expect(values.length).toBeLessThanOrEqual(40);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(values.at(-1)).toBe(
      Math.max(...sweep(100).flatMap((t) => (t.primary_score === null ? [] : [t.primary_score]))),
    );
    expect(bestSoFarMermaid([])).toBe("");
    expect(
      importanceMarkdown({ method: "fanova", params: [{ name: "a|b", importance: 0.5, std: 0.1 }] }),
    ).toContain("| a\\|b | 0.500 | 0.100 |");
  });
});

describe("tunix-rt report, and the charts a sweep leaves", () => {
  it("draws a submission zip's report; a sweep puts its charts in the evidence and the zip", async () => {
    const out = await tempDir();
    const fromZip = await runCli(["report", await referenceZip(), "--out", out]);
    expect(fromZip.stderr).toMatch(
      /^charts: \S+\/charts\/ \(history.svg, parallel.svg, slices.svg, importance.svg\)$/m,
    );
    expect(fromZip.code).toBe(0);
    expect(fromZip.stdout.trim()).toBe(
      path.join(path.relative(process.cwd(), out), "report.html").replace(/^(?!\.|\/)/, ""),
    );
    // Eight scored trials: enough for parameter importance.
    expect((await readdir(path.join(out, "charts"))).sort()).toEqual([
      "history.svg",
      "importance.svg",
      "parallel.svg",
      "slices.svg",
    ]);
    const html = await readFile(path.join(out, "report.html"), "utf8");
    expect(html).toContain("Sweep example_v1");
    // Every parameter of the example's space has a row in the importance table.
    for (const name of ["learning_rate", "per_device_batch_size", "weight_decay", "warmup_steps"])
      expect(html).toMatch(new RegExp(`<tr><td>${name}</td><td>[01]\\.\\d{3}</td>`));
    expect(html).toContain("8 scored trials, 64 trees");

    const dir = await exampleRepo({ sweepYaml: (t) => t.replace("num_samples: 8", "num_samples: 3") });
    const swept = await runCli(["sweep"], { cwd: dir });
    expect(swept.code).toBe(0);
    expect(swept.stdout).toContain("report: runs/example_v1/report.html");
    expect(await readFile(path.join(dir, "runs/example_v1/report.html"), "utf8")).toContain(
      "3 scored trials: importance needs at least 5",
    );
    // Three trials are too few for importance: no chart, and the report says why.
    expect((await readdir(path.join(dir, "submission_runs/example_v1/charts"))).sort()).toEqual([
      "history.svg",
      "parallel.svg",
      "slices.svg",
    ]);
    const zip = path.join(dir, /zip: (\S+)/.exec(swept.stdout)?.[1] ?? "");
    const manifest = JSON.parse(
      (await readZipFile(zip)).find((m) => m.name === "MANIFEST.json")?.data.toString("utf8") ?? "{}",
    );
    expect(manifest.files.map((f: { path: string }) => f.path)).toContain(
      "submission_runs/example_v1/charts/history.svg",
    );
    expect((await runCli(["verify", zip], { cwd: dir })).code).toBe(0);
    // Without --out, report writes to a folder of its own, runs/<rv>/report/, never beside
    // the sweep's own report.html; a later report there replaces the charts it no longer draws.
    const sweepCharts = await readdir(path.join(dir, "runs/example_v1"));
    const own = await runCli(["report", await referenceZip()], { cwd: dir });
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout.trim()).toBe("runs/example_v1/report/report.html");
    expect((await readdir(path.join(dir, "runs/example_v1/report/charts"))).sort()).toContain(
      "importance.svg",
    );
    expect((await readdir(path.join(dir, "runs/example_v1"))).sort()).toEqual(
      [...sweepCharts, "report"].sort(),
    );
    const later = await runCli(["report", "submission_runs/example_v1"], { cwd: dir });
    expect(later.code, later.stderr).toBe(0);
    expect((await readdir(path.join(dir, "runs/example_v1/report/charts"))).sort()).toEqual([
      "history.svg",
      "parallel.svg",
      "slices.svg",
    ]);
    expect(await readFile(path.join(dir, "runs/example_v1/report/report.html"), "utf8")).toContain(
      "3 scored trials: importance needs at least 5",
    );

    // Not an evidence folder: one line naming what is missing.
    const bad = await runCli(["report", dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no trials\.jsonl; expected an evidence folder or a submission zip/);
  });
});
