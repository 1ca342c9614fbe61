import { describe, expect, it } from "vitest";
import { type SweepConfig, validateConfig } from "../../src/core/config/config.js";
import type { Problem } from "../../src/core/errors.js";
import { markdownText } from "../../src/core/escape.js";
import {
  type AggregatedTrial,
  buildLeaderboard,
  countTrials,
  leaderboardMarkdown,
} from "../../src/core/report/leaderboard.js";
import { planTrials } from "../../src/core/search/plan.js";
import {
  aggregateSummary,
  maxSummaryBytes,
  planSummary,
  problemAnnotations,
  trialSummary,
  verifySummary,
} from "../../src/github/summary.js";

function config(): SweepConfig {
  const result = validateConfig(
    {
      run_version: "m34_v1",
      num_samples: 3,
      max_concurrent_trials: 2,
      search_space: {
        learning_rate: { type: "loguniform", min: 1e-5, max: 1e-4 },
        per_device_batch_size: { type: "choice", values: [1, 2, 4] },
      },
    },
    "training/sweep.yaml",
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

const trials: AggregatedTrial[] = [
  { trial_id: "t0000", params: { lr: 1e-5 }, status: "completed", primary_score: 0.5, duration_s: 3 },
  { trial_id: "t0001", params: { lr: 5e-5 }, status: "completed", primary_score: 0.75, duration_s: 4 },
  {
    trial_id: "t0002",
    params: { lr: 9e-5 },
    status: "failed",
    primary_score: null,
    error: "trainer exited with code 1: HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123456789 rejected",
  },
];

describe("planSummary", () => {
  it("names the sweep and lists every planned trial with its params", () => {
    const c = config();
    const plan = planTrials({ config: c, sweepId: "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d" });
    const md = planSummary(plan, c);
    expect(md).toContain("## tunix-rt plan: m34_v1");
    expect(md).toContain("Sweep `3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`");
    // No waves key: 3 trials at most 2 at once make two waves, of 2 and then 1.
    expect(md).toContain(`2 trials, sampler ${plan.sampler}, seed 42, at most 2 in parallel.`);
    expect(md).toContain(
      "Proposed (warm-up): gp: warm-up (Sobol points) until 4 trials have a score (0 so far).",
    );
    expect(md).toContain("| trial | seed | learning_rate | per_device_batch_size |");
    for (const t of plan.trials)
      expect(md).toContain(`| ${t.trial_id} | ${t.seed} | ${t.params.learning_rate} |`);
  });

  it("says so when the plan is empty", () => {
    const c = config();
    const plan = planTrials({ config: c, sweepId: "s", count: 0 });
    expect(planSummary(plan, c)).toContain("Nothing to run: the plan is empty");
  });
});

describe("aggregateSummary", () => {
  const counts = countTrials(trials, null);
  const leaderboardMd = leaderboardMarkdown(buildLeaderboard(trials), {
    title: "tunix-rt sweep m34_v1",
    counts,
    bestId: "t0001",
  });

  it("gives the best trial, the pull request, the run link and the leaderboard with failed trials, redacted", () => {
    const md = aggregateSummary({
      leaderboardMd,
      counts,
      best: trials[1],
      pr: { operation: "created", number: 7, url: "https://github.com/octo/sweeps/pull/7" },
      runUrl: "https://github.com/octo/sweeps/actions/runs/1",
    });
    expect(md).toContain("**Best trial: t0001**, primary_score 0.7500 (lr=0.00005).");
    expect(md).toContain("Evidence pull request [#7](https://github.com/octo/sweeps/pull/7): opened.");
    expect(md).toContain("[Workflow run](https://github.com/octo/sweeps/actions/runs/1)");
    expect(md).toContain("### Failed trials");
    expect(md).toContain("t0002 (failed): trainer exited with code 1: HF_TOKEN=*** rejected");
    expect(md).not.toContain("hf_abcdefghijklmnopqrstuvwxyz0123456789");
  });

  it("without a best trial, and with the failure budget exceeded", () => {
    const failed = trials.map((t) => ({ ...t, status: "failed" as const, primary_score: null }));
    const c = countTrials(failed, 1);
    const md = aggregateSummary({
      leaderboardMd: "## lb\n",
      counts: c,
      best: undefined,
      pr: { operation: "unchanged", number: null, url: null },
    });
    expect(md).toContain("**No best trial**: none of the 3 trials completed with a score");
    expect(md).toContain("3 trials failed or timed out, over max_failed_trials (1)");
    expect(md).toContain("none needed, the base branch already holds this evidence");
  });
});

describe("verifySummary and problemAnnotations", () => {
  const problems: Problem[] = [
    {
      file: "submission_runs/m34_v1/eval_rows.jsonl",
      line: 3,
      path: "prediction",
      message: "got <answer>|x</answer>",
    },
    {
      file: "submission_runs/m34_v1/run_manifest.json",
      path: "",
      message: "missing; token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    },
  ];

  it("lists every problem in a table, escaped and redacted", () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      file: "f.jsonl",
      line: i + 1,
      path: "id",
      message: `bad ${i}`,
    }));
    const md = verifySummary([...problems, ...many], { dir: "submission_runs/m34_v1", valid: false });
    expect(md).toContain("## :x: 42 problems in `submission_runs/m34_v1`");
    expect(md).toContain(
      "| submission_runs/m34_v1/eval_rows.jsonl | 3 | prediction | got &lt;answer&gt;\\|x&lt;/answer&gt; |",
    );
    expect(md).toContain("| submission_runs/m34_v1/run_manifest.json |  | – | missing; token *** |");
    for (let i = 0; i < 40; i++) expect(md).toContain(`| f.jsonl | ${i + 1} | id | bad ${i} |`);
  });

  it("a valid folder", () => {
    expect(verifySummary([], { dir: "d", valid: true })).toBe(
      "## :white_check_mark: Evidence is valid: `d`\n",
    );
  });

  it("clips a summary over GitHub's 1 MiB, saying so", () => {
    const huge = Array.from({ length: 12_000 }, (_, i) => ({
      file: "f",
      line: i,
      path: "p",
      message: "x".repeat(100),
    }));
    const md = verifySummary(huge, { dir: "d", valid: false });
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(maxSummaryBytes);
    expect(md).toContain("summary clipped");
  });

  it("annotations: file relative to the repository, line for JSONL, message with the json path", () => {
    const withAbsolute: Problem[] = [...problems, { file: "/ws/repo/a/b.json", path: "x.y", message: "bad" }];
    expect(problemAnnotations(withAbsolute, { repoRoot: "/ws/repo", secrets: [] })).toEqual([
      {
        message: "prediction: got <answer>|x</answer>",
        file: "submission_runs/m34_v1/eval_rows.jsonl",
        startLine: 3,
        title: "tunix-rt verify",
      },
      {
        message: "missing; token ***",
        file: "submission_runs/m34_v1/run_manifest.json",
        title: "tunix-rt verify",
      },
      { message: "x.y: bad", file: "a/b.json", title: "tunix-rt verify" },
    ]);
  });

  it("markdownText keeps a cell on one line", () => {
    expect(markdownText("a|b\nc <d> & e")).toBe("a\\|b c &lt;d&gt; &amp; e");
  });
});

describe("trialSummary", () => {
  it("neutralises HTML, keeps each cell on one line, and redacts secret values", () => {
    const text = trialSummary(
      {
        trial_id: "t0001",
        status: "failed",
        primary_score: null,
        duration_s: 1.5,
        sweep_id: "s",
        seed: 7,
        error: "exited 1: <details>open</details>\nkey hunter22secret",
        params: { "fmt|x": "<answer>", lr: 0.01 },
      },
      "tunix-rt-s-t0001",
      { secrets: ["hunter22secret"] },
    );
    expect(text).toContain("> exited 1: &lt;details&gt;open&lt;/details&gt; key ***");
    expect(text).toContain("| fmt\\|x | &lt;answer&gt; |");
    expect(text).toContain("| lr | 0.01 |");
    expect(text).not.toContain("hunter22secret");
    expect(text).toContain("Artifact: `tunix-rt-s-t0001`");
  });

  it("shows a completed trial's note: its score stands on part of the evalset", () => {
    const note =
      '1 of 20 evalset items had no prediction, graded 0: "q19"; 1 prediction id not in the evalset, ignored: "Q19"';
    const record = {
      trial_id: "t0000",
      status: "completed",
      primary_score: 0.95,
      duration_s: 1.2,
      sweep_id: "s",
      seed: 7,
      error: null,
      params: { lr: 0.01 },
    };
    expect(trialSummary({ ...record, note }, null)).toContain(
      '> Note: 1 of 20 evalset items had no prediction, graded 0: "q19"; 1 prediction id not in the evalset, ignored: "Q19"',
    );
    // A record written before `note` existed kept it in `error`.
    expect(trialSummary({ ...record, error: note }, null)).toContain("> Note: 1 of 20 evalset items");
    expect(trialSummary(record, null)).not.toContain("> ");
  });
});
