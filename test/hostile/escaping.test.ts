/**
 * One list of payloads through every output a string from evidence or a trainer reaches:
 * the CLI's terminal, an action's job log and annotations, the job summaries, the pull
 * request's body, leaderboard.md and report.html. Each payload is wrapped in markers
 * (`QA<i>Q … QZ<i>Q`, letters that no escaping changes) so its stretch of each output can be
 * found and held to the rule of that output:
 *
 * - a terminal or a job log: the stretch stays on its line, with no control character, line
 *   separator or bidirectional control, and no line of the output but the action's own starts
 *   with `::`;
 * - Markdown: rendered by a real GFM renderer (marked, with GitHub's autolinks), the stretch
 *   holds no element (no image, link, autolink or tag) and no @mention outside code, and in
 *   the source it stays on its line;
 * - HTML: the stretch holds no `<`.
 *
 * The payloads reach the outputs as a user's run brings them: a trainer that prints them on
 * stderr and fails, a choice parameter whose values they are (a sweep config is a user's file,
 * and its values are shown too), and evidence edited as a fork's pull request could.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { marked } from "marked";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullRequestBody } from "../../src/actions/score/publish.js";
import type { Problem } from "../../src/core/errors.js";
import { formatProblem } from "../../src/core/errors.js";
import { planTrials } from "../../src/core/search/plan.js";
import {
  aggregateSummary,
  planSummary,
  problemAnnotations,
  trialSummary,
  verifySummary,
} from "../../src/github/summary.js";
import { loadConfig } from "../../src/runtime/config-file.js";
import { runBundle } from "../actions/helpers.js";
import { exampleRepo } from "../helpers/example-repo.js";
import { editJson, editJsonl, linesOf, runCliWithin } from "./helpers.js";

const payloads = [
  "lf\n::warning::forged",
  "cr\r::error::forged",
  "crlf\r\n# heading\r\n",
  "ls\u2028::notice::forged\u2029",
  "::add-mask::hunter2",
  "::stop-commands::token",
  "%0A::warning::percent-encoded",
  "esc\u001b[2J\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007",
  "bidi\u202eevil\u202c\u2066x\u2069",
  "nul\u0000bell\u0007tab\tdel\u007f",
  "![pixel](https://evil.example/p.png)",
  "[click](https://evil.example)",
  "<img src=x onerror=alert(1)>",
  "<script>alert(1)</script>",
  "<!-- hidden --> </details>",
  "@org/team and @someone",
  "#123 and owner/repo#45",
  "https://evil.example/a and www.evil.example",
  "`code` *bold* _em_ ~~del~~ | cell |",
  "&lt;entity&gt; &#60;b&#62;",
  "\\*escaped\\* \\[x\\]",
];
const wrap = (i: number) => `QA${i}Q${payloads[i]}QZ${i}Q`;
const wrapped = payloads.map((_, i) => wrap(i));

/** Each payload's stretch of `text`: from its start marker to its end marker, or to the line's end. */
function stretches(text: string): Array<{ i: number; at: number; body: string; closed: boolean }> {
  const found: Array<{ i: number; at: number; body: string; closed: boolean }> = [];
  for (const match of text.matchAll(/QA(\d+)Q/g)) {
    const i = Number(match[1]);
    const from = (match.index ?? 0) + match[0].length;
    const end = text.indexOf(`QZ${i}Q`, from);
    const lineEnd = text.slice(from).search(/\n/);
    const stop = lineEnd < 0 ? text.length : from + lineEnd;
    const at = match.index ?? 0;
    found.push(
      end >= 0 && end <= stop
        ? { i, at, body: text.slice(from, end), closed: true }
        : { i, at, body: text.slice(from, stop), closed: false },
    );
  }
  return found;
}

/** A stretch cut short by its writer (a long value quoted with "...", a clipped cell). */
const cutShort = (body: string) => /(\.\.\.|…)"?\s*$/.test(body);

const unsafeInLine = /[\p{Cc}\p{Zl}\p{Zp}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * The rule of a terminal or a job log; returns how many payloads reached the output. A
 * writer may show a trainer's output as several lines of its own (each prefixed), so a
 * stretch may end at a line break; what it may not do is hold a control character, or leave
 * a line that starts a workflow command.
 */
function checkLines(where: string, text: string, own: RegExp = /^$/): number {
  const found = stretches(text);
  for (const s of found)
    expect(unsafeInLine.test(s.body), `${where}: payload ${s.i} holds ${JSON.stringify(s.body)}`).toBe(false);
  const commands = linesOf(text).filter((l) => l.startsWith("::") && !own.test(l));
  expect(commands, `${where}: lines that start a workflow command`).toEqual([]);
  return new Set(found.map((s) => s.i)).size;
}

/** The rule of GitHub-rendered Markdown; returns how many payloads reached the output. */
function checkMarkdown(where: string, markdown: string): number {
  for (const s of stretches(markdown))
    expect(
      s.closed || cutShort(s.body),
      `${where}: payload ${s.i} breaks its line: ${JSON.stringify(s.body)}`,
    ).toBe(true);
  const html = marked.parse(markdown, { gfm: true, async: false });
  const flat = html.replace(/\n/g, " ");
  const found = stretches(flat);
  for (const s of found) {
    expect(s.body, `${where}: payload ${s.i} renders an element`).not.toMatch(/</);
    const before = flat.slice(0, s.at);
    const inCode = (before.match(/<code>/g) ?? []).length > (before.match(/<\/code>/g) ?? []).length;
    const text = s.body.replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
    if (!inCode) {
      expect(text, `${where}: payload ${s.i} mentions`).not.toMatch(/@[\w-]/);
      expect(text, `${where}: payload ${s.i} references an issue`).not.toMatch(/#\d/);
    }
  }
  return new Set(found.map((s) => s.i)).size;
}

/** The rule of HTML; returns how many payloads reached the output. */
function checkHtml(where: string, html: string): number {
  const found = stretches(html);
  for (const s of found) expect(s.body, `${where}: payload ${s.i} opens a tag`).not.toMatch(/</);
  return new Set(found.map((s) => s.i)).size;
}

let repo: string;
/** What the sweep printed (stdout and stderr). */
let sweepOutput: string;
const evidence = "submission_runs/escape_v1";

beforeAll(async () => {
  // A trainer that prints its payload on stderr; every other trial fails with it.
  repo = await exampleRepo({ git: true });
  await writeFile(
    path.join(repo, "training/payload.mjs"),
    [
      'import { readFileSync, writeFileSync } from "node:fs";',
      'import path from "node:path";',
      'const params = JSON.parse(readFileSync(process.env.TUNIX_RT_PARAMS_FILE, "utf8"));',
      "const i = Number(/^QA(\\d+)Q/.exec(params.tag)[1]);",
      'process.stderr.write(params.tag + "\\n");',
      "if (i % 2 === 1) process.exit(1);",
      'const items = readFileSync(process.env.TUNIX_RT_EVALSET, "utf8").split("\\n").filter(Boolean).map((l) => JSON.parse(l));',
      'const lines = items.map((it, k) => JSON.stringify({ id: it.id, prediction: k <= i ? it.expected_answer : "0" }));',
      'writeFileSync(path.join(process.env.TUNIX_RT_OUTPUT_DIR, "predictions.jsonl"), lines.join("\\n") + "\\n");',
    ].join("\n"),
  );
  const config = [
    "name: Escaping sweep",
    "run_version: escape_v1",
    "base_model_id: tunix-rt/example-digit-adder",
    `num_samples: ${payloads.length}`,
    "max_concurrent_trials: 4",
    "max_failed_trials: null",
    "seed: 1",
    "sampler: grid",
    "evalset: training/evalsets/example_eval.jsonl",
    "search_space:",
    `  tag: { type: choice, values: ${JSON.stringify(wrapped)} }`,
    "trainer:",
    "  command: [node, training/payload.mjs]",
    "  timeout_minutes: 1",
    "",
  ].join("\n");
  await writeFile(path.join(repo, "training/escape.yaml"), config);
  const sweep = await runCliWithin(["sweep", "--config", "training/escape.yaml"], {
    cwd: repo,
    limitMs: 90_000,
  });
  sweepOutput = `${sweep.stdout}\n${sweep.stderr}`;
  expect(sweep.timedOut).toBe(false);
  // Then the evidence edited as a fork's pull request could: a dirty tree's file list and the
  // evalset's name, both shown by verify.
  await editJsonl(path.join(repo, evidence, "trials.jsonl"), (t) => ({
    ...t,
    worktree: { dirty: true, changed: wrapped.length, files: wrapped, diff_sha256: "a".repeat(64) },
  }));
  await editJson(path.join(repo, evidence, "eval_summary.json"), (s) => {
    s.eval_set = wrapped.join(" ");
  });
  // And values that problems quote: a trial id, a model id, a dataset.
  await editJson(path.join(repo, evidence, "best_params.json"), (b) => {
    b.trial_id = wrap(12);
  });
  await editJson(path.join(repo, evidence, "run_manifest.json"), (m) => {
    m.model_id = wrap(10);
    m.dataset = wrap(15);
  });
}, 120_000);

afterAll(async () => {
  if (repo) await rm(repo, { recursive: true, force: true });
});

describe("every output, one list of payloads", () => {
  it("the terminal: what the sweep prints, and verify's problems, notes and verdict", async () => {
    expect(checkLines("tunix-rt sweep", sweepOutput)).toBe(payloads.length);
    const verify = await runCliWithin(["verify", evidence], { cwd: repo });
    expect(checkLines("tunix-rt verify", `${verify.stdout}\n${verify.stderr}`)).toBeGreaterThan(0);
  });

  it("leaderboard.md (the evidence pull request's body) and report.html", async () => {
    const board = await readFile(path.join(repo, evidence, "leaderboard.md"), "utf8");
    expect(checkMarkdown("leaderboard.md", board)).toBe(payloads.length);
    const report = await runCliWithin(["report", evidence], { cwd: repo });
    expect(report.code, report.stderr).toBe(0);
    const html = await readFile(path.join(repo, "runs/escape_v1/report/report.html"), "utf8");
    expect(checkHtml("report.html", html)).toBe(payloads.length);
    expect(checkLines("tunix-rt report", `${report.stdout}\n${report.stderr}`)).toBeGreaterThanOrEqual(0);
  });

  it("the verify-evidence action: its job log, its annotations and its job summary", async () => {
    const step = await runBundle("dist/verify-evidence.js", { path: evidence }, { workspace: repo });
    const own = /^::(?:error|debug|set-output|notice|warning)(?: title=tunix-rt verify[^:]*)?::/;
    expect(checkLines("the job log", step.stdout, own)).toBeGreaterThan(0);
    for (const a of step.errors) expect(unsafeInLine.test(a.message), a.message).toBe(false);
    expect(checkMarkdown("the job summary", step.summary)).toBeGreaterThan(0);
  });

  it("the job summaries of a plan, a trial and the aggregate, and the pull request's body", async () => {
    const { config } = await loadConfig("training/escape.yaml", { cwd: repo });
    const plan = planTrials({
      config,
      sweepId: "00000000-0000-4000-8000-000000000000",
      count: payloads.length,
    });
    expect(checkMarkdown("the plan's summary", planSummary(plan, config))).toBe(payloads.length);
    for (const [i, tag] of wrapped.entries()) {
      const summary = trialSummary(
        {
          trial_id: `t${i}`,
          status: "failed",
          primary_score: null,
          duration_s: 1,
          sweep_id: plan.sweep_id,
          seed: 1,
          error: `the trainer exited 1: ${tag}`,
          params: { tag },
        },
        `tunix-rt-trial-${tag}`,
      );
      expect(checkMarkdown(`the trial summary of payload ${i}`, summary)).toBe(1);
    }
    const leaderboardMd = await readFile(path.join(repo, evidence, "leaderboard.md"), "utf8");
    const best = { trial_id: "t0000", primary_score: 0.5, params: { tag: wrap(10) } };
    const aggregate = aggregateSummary({
      leaderboardMd,
      counts: {
        total: payloads.length,
        completed: 11,
        failed: 10,
        timeout: 0,
        failures: 10,
        max_failed_trials: null,
        failure_budget_exceeded: false,
      } as never,
      best: best as never,
      charts: "",
    });
    expect(checkMarkdown("the aggregate's summary", aggregate)).toBe(payloads.length);
    const body = pullRequestBody(
      {
        runDir: evidence,
        bestConfigFile: null,
        runVersion: "escape_v1",
        sweepId: null,
        best: { trial_id: "t0000", primary_score: 0.5 },
        leaderboardMd,
        charts: "",
      },
      { runDir: evidence, valid: false, problems: [], attested: true },
      null,
    );
    expect(checkMarkdown("the pull request's body", body)).toBe(payloads.length);
  });

  it("problems as a terminal line, an annotation and a summary row", () => {
    const problems: Problem[] = wrapped.map((w, i) => ({
      file: `submission_runs/${w}/run_manifest.json`,
      line: i + 1,
      path: `params.${w}`,
      message: `got ${w}; expected nothing like it`,
    }));
    expect(checkLines("formatProblem", problems.map(formatProblem).join("\n"))).toBe(payloads.length);
    for (const a of problemAnnotations(problems)) {
      expect(unsafeInLine.test(a.message), a.message).toBe(false);
      expect(unsafeInLine.test(a.file), a.file).toBe(false);
    }
    expect(
      checkMarkdown("the verify summary", verifySummary(problems, { dir: evidence, valid: false })),
    ).toBe(payloads.length);
  });
});
