/**
 * The sweep workflow: the text, whose own comment says what its jobs do. One template writes
 * tunix-rt's own `.github/workflows/sweep.yml` (its actions `local`) and every user's
 * (`tunix-rt init`: the actions pinned across repositories). The wave jobs are one pair
 * repeated, as many as the config's schedule takes (`wavesNeeded`).
 */
import {
  actionUses,
  appTokenAction,
  attestAction,
  checkoutAction,
  commentLines,
  hostedRunner,
  type WorkflowTextOptions,
  yamlBlock,
  yamlList,
  yamlScalar,
} from "./parts.js";

/** What the workflow does: written into it, for whoever reads the file. */
const about = commentLines(
  [
    "A hyperparameter sweep: per wave a plan job on a GitHub-hosted runner and one matrix job",
    "per trial on the trial runners, then one job that aggregates every trial, writes the",
    "evidence, verifies it and opens (or updates) the evidence pull request. Wave k+1 is",
    "planned from every record of waves 1..k (the previous wave's artifact and its trials'",
    "artifacts); the waves a sweep does not use are skipped. There are as many wave jobs as",
    "the config's schedule takes: its waves (or one per round of max_concurrent_trials), one",
    "per further rung of successive halving, one for reevaluate.",
    "",
    "Every step calls tunix-rt's actions directly: no reusable workflow of another owner, whose",
    "jobs GitHub would not queue onto this repository's self-hosted runners.",
    "",
  ].join("\n"),
);

/** What the signing does: written into a workflow that signs. */
const aboutSigning = commentLines(
  [
    "The aggregate job signs the evidence before its pull request: GitHub's",
    "actions/attest-build-provenance signs the SHA-256 of every file (a Sigstore bundle, with the",
    "job's OIDC token), the bundle goes beside the evidence as attestation.sigstore.json, and",
    "the evidence check requires it.",
    "",
  ].join("\n"),
);

/** What a sweep workflow is written for. */
export interface SweepWorkflowOptions extends WorkflowTextOptions {
  /** The sweep config, relative to the repository root. */
  config: string;
  /** The trial jobs' `runs-on` labels (the GPU runners). */
  runnerLabels: readonly string[];
  /** A shell command run before each trial (install the trainer's dependencies), or "" for none. */
  setupCommand: string;
  /** How many wave jobs (plan and trials) the workflow has: what the config's schedule takes. */
  waves: number;
  /** Sign the evidence before its pull request (a GitHub artifact attestation). */
  attest: boolean;
}

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: workflow expressions, not templates.

/** The inputs of a dispatch (and of a call from another workflow of the same repository). */
const inputs = `      num-samples:
        description: How many trials. Empty, the config's num_samples.
        type: string
        default: ""
      seed:
        description: The sweep seed. Empty, the config's.
        type: string
        default: ""
      sampler:
        description: auto, random, grid, sobol, tpe or gp. Empty, the config's.
        type: string
        default: ""
      run-version:
        description: The evidence folder's name. Empty, the config's run_version.
        type: string
        default: ""
      create-pr:
        description: Open or update the evidence pull request.
        type: boolean
        default: true
      checkpoint-dir:
        description: Shared storage every trial runner sees (an NFS mount); promoted trials of successive halving resume from their parent's folder there. Empty, they start over.
        type: string
        default: ""
`;

const planOutputs = [
  "matrix",
  "sweep-id",
  "max-parallel",
  "count",
  "run-version",
  "seed",
  "sampler",
  "timeout-minutes",
  "planned",
  "done",
];

const checkoutStep = `      - uses: ${checkoutAction}
        with:
          persist-credentials: false
`;

/** The plan job of wave `k`: a plain job, so its outputs reach later jobs whatever its trials did. */
function planJob(k: number, o: SweepWorkflowOptions): string {
  const first = k === 1;
  const from = (output: string, fallback: string) =>
    first ? fallback : `\${{ needs.plan-1.outputs.${output} }}`;
  const lines = [`  plan-${k}:`, `    name: plan (wave ${k})`];
  if (!first) {
    lines.push(
      `    needs: [${[...new Set(["plan-1", `plan-${k - 1}`])].join(", ")}, trials-${k - 1}]`,
      "    # After failed trials too (it plans from whatever records exist); not after a cancel,",
      `    # a failed or skipped plan of wave ${k - 1}, or one that said it was the last.`,
      `    if: \${{ !cancelled() && needs.plan-${k - 1}.result == 'success' && needs.plan-${k - 1}.outputs.done != 'true' }}`,
    );
  }
  lines.push(
    `    runs-on: ${hostedRunner}`,
    "    timeout-minutes: 10",
    "    # Earlier waves' records come through the runner's artifact service: no actions: read.",
    "    permissions:",
    "      contents: read",
    "    outputs:",
    ...planOutputs.map((output) => `      ${output}: \${{ steps.plan.outputs.${output} }}`),
    "    steps:",
    checkoutStep.trimEnd(),
    "      - id: plan",
    `        uses: ${actionUses(o.actions, "sweep")}`,
    "        with:",
    "          mode: plan",
    `          config: ${yamlScalar(o.config)}`,
    `          wave: ${k}`,
    `          max-waves: ${o.waves}`,
    "          num-samples: ${{ inputs.num-samples }}",
    `          seed: ${from("seed", "${{ inputs.seed }}")}`,
    `          sampler: ${from("sampler", "${{ inputs.sampler }}")}`,
    `          run-version: ${from("run-version", "${{ inputs.run-version }}")}`,
  );
  if (!first) {
    lines.push(
      "          sweep-id: ${{ needs.plan-1.outputs.sweep-id }}",
      `          planned: \${{ needs.plan-${k - 1}.outputs.planned }}`,
      '          history-from-artifacts: "true"',
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The setup step of a trial job: the user's command, as written, with the Hugging Face token. */
function setupStep(command: string): string {
  if (command.trim() === "") return "";
  return `      - name: Set up the trainer
        env:
          HF_TOKEN: \${{ secrets.HF_TOKEN }}
        shell: bash
${yamlBlock("run", command, 8)}`;
}

/** The trial jobs of wave `k`: one per matrix entry, on the trial runners. */
function trialsJob(k: number, o: SweepWorkflowOptions): string {
  return `  trials-${k}:
    name: trial \${{ matrix.trial_id }}
    needs: plan-${k}
    # An empty wave (a grid with no untried point, nothing to promote) has nothing to fan out.
    # A condition without a status function means success() && (...), and a job's success()
    # looks at every job upstream: one failed trial of an earlier wave would skip every later
    # wave's trials. Only this wave's plan decides.
    if: \${{ !cancelled() && needs.plan-${k}.result == 'success' && needs.plan-${k}.outputs.count != '0' }}
    runs-on: ${yamlList(o.runnerLabels)}
    timeout-minutes: \${{ fromJSON(needs.plan-${k}.outputs.timeout-minutes) }}
    permissions:
      contents: read
    strategy:
      # Every trial runs to its end; a failed one does not stop the wave or the next one.
      fail-fast: false
      max-parallel: \${{ fromJSON(needs.plan-${k}.outputs.max-parallel) }}
      matrix: \${{ fromJSON(needs.plan-${k}.outputs.matrix) }}
    steps:
${checkoutStep}${setupStep(o.setupCommand)}      - name: Run the trial
        uses: ${actionUses(o.actions, "sweep")}
        env:
          HF_TOKEN: \${{ secrets.HF_TOKEN }}
        with:
          mode: trial
          config: ${yamlScalar(o.config)}
          trial: \${{ toJson(matrix) }}
          secret-env: \${{ secrets.TRAINER_ENV }}
          checkpoint-dir: \${{ inputs.checkpoint-dir }}
`;
}

function aggregateJob(o: SweepWorkflowOptions): string {
  const range = Array.from({ length: o.waves }, (_, i) => i + 1);
  const needs = range.flatMap((k) => [`plan-${k}`, `trials-${k}`]);
  // The planned trials of every wave so far: the last wave that planned has them all.
  const allPlanned = range
    .slice()
    .reverse()
    .map((k) => `needs.plan-${k}.outputs.planned`)
    .join(" || ");
  return `  aggregate:
    name: aggregate
    needs: [${needs.join(", ")}]
    # Also after failed trials and failed later waves (the evidence says which failed and
    # why); not when cancelled, and not when wave 1 planned nothing.
    if: \${{ !cancelled() && needs.plan-1.result == 'success' && needs.plan-1.outputs.count != '0' }}
    runs-on: ${hostedRunner}
    timeout-minutes: 30
    # One evidence pull request per run_version at a time: two sweeps of one run_version would
    # race for its branch, so they queue (queue: max keeps every waiting aggregate, where the
    # default would cancel all but the newest and lose its GPU work). Runs without a pull
    # request write no branch: each is its own group. Job level: only the plan knows the
    # run_version.
    concurrency:
      group: \${{ inputs.create-pr && format('tunix-rt-evidence-{0}-{1}', github.repository, needs.plan-1.outputs.run-version) || format('tunix-rt-aggregate-{0}-{1}', github.run_id, github.run_attempt) }}
      cancel-in-progress: false
      queue: max
    permissions:
      contents: write
      pull-requests: write
      checks: write${
        o.attest
          ? `
      # The evidence's signature: an OIDC token that Sigstore turns into a signing certificate
      # naming this workflow, and the attestation kept with the repository.
      id-token: write
      attestations: write`
          : ""
      }
    env:
      # Steps cannot test secrets in \`if:\`; the job's env can say whether one was given.
      HAS_APP: \${{ secrets.APP_ID != '' && secrets.APP_PRIVATE_KEY != '' }}
    outputs:
      best-trial: \${{ steps.aggregate.outputs.best-trial }}
      primary-score: \${{ steps.aggregate.outputs.primary-score }}
      pr-url: \${{ ${o.attest ? "steps.publish.outputs.pr-url || " : ""}steps.aggregate.outputs.pr-url }}
    steps:
${checkoutStep}      - name: Mint a GitHub App token (pull requests it opens start workflows)
        id: app-token
        if: env.HAS_APP == 'true'
        uses: ${appTokenAction}
        with:
          app-id: \${{ secrets.APP_ID }}
          private-key: \${{ secrets.APP_PRIVATE_KEY }}
      - id: aggregate
        uses: ${actionUses(o.actions, "score")}
        with:
          mode: aggregate
          config: ${yamlScalar(o.config)}
          sweep-id: \${{ needs.plan-1.outputs.sweep-id }}
          matrix: \${{ ${allPlanned} }}
          run-version: \${{ needs.plan-1.outputs.run-version }}
          seed: \${{ needs.plan-1.outputs.seed }}
          sampler: \${{ needs.plan-1.outputs.sampler }}
          create-pr: \${{ inputs.create-pr }}
${o.attest ? '          attest: "true"\n' : ""}          token: \${{ steps.app-token.outputs.token || secrets.PR_TOKEN || github.token }}
${o.attest ? signSteps(o) : ""}`;
}

/**
 * The steps that sign the evidence and then open its pull request: after an aggregate that
 * wrote evidence (also one that found it invalid, whose pull request shows why), not after a
 * cancel. Publish opens no pull request without the bundle.
 */
function signSteps(o: SweepWorkflowOptions): string {
  return `      - name: Sign the evidence (GitHub artifact attestation)
        id: attest
        if: \${{ !cancelled() && steps.aggregate.outputs.subjects != '' }}
        uses: ${attestAction}
        with:
          subject-checksums: \${{ steps.aggregate.outputs.subjects }}
      - name: Put the signature beside the evidence, and open its pull request
        id: publish
        if: \${{ !cancelled() && steps.aggregate.outputs.subjects != '' }}
        uses: ${actionUses(o.actions, "score")}
        with:
          mode: publish
          run-dir: \${{ steps.aggregate.outputs.run-dir }}
          attestation: \${{ steps.attest.outputs.bundle-path }}
          create-pr: \${{ inputs.create-pr }}
          token: \${{ steps.app-token.outputs.token || secrets.PR_TOKEN || github.token }}
`;
}

/** The text of a sweep workflow. */
export function sweepWorkflow(o: SweepWorkflowOptions): string {
  if (!Number.isSafeInteger(o.waves) || o.waves < 1) throw new Error(`waves: got ${o.waves}; expected >= 1`);
  const range = Array.from({ length: o.waves }, (_, i) => i + 1);
  return `${o.header}${about}${o.attest ? aboutSigning : ""}name: ${yamlScalar(o.name)}

on:
  workflow_dispatch:
    inputs:
${inputs}  # Another workflow of this repository may call it too (a schedule, a chain of sweeps).
  workflow_call:
    inputs:
${inputs}    secrets:
      HF_TOKEN:
        description: Hugging Face token for the trainer (gated Gemma weights); masked, and redacted from logs and evidence.
        required: false
      TRAINER_ENV:
        description: More environment for the trainer, NAME=value per line; every value masked and redacted.
        required: false
      PR_TOKEN:
        description: A token for the evidence pull request instead of GITHUB_TOKEN (contents and pull-requests write).
        required: false
      APP_ID:
        description: With APP_PRIVATE_KEY, a GitHub App whose installation token opens the evidence pull request, so that it starts workflows.
        required: false
      APP_PRIVATE_KEY:
        description: The GitHub App's private key (PEM).
        required: false
    outputs:
      sweep-id:
        description: The sweep's UUID.
        value: \${{ jobs.plan-1.outputs.sweep-id }}
      best-trial:
        description: The best trial's id.
        value: \${{ jobs.aggregate.outputs.best-trial }}
      primary-score:
        description: The best trial's primary_score.
        value: \${{ jobs.aggregate.outputs.primary-score }}
      pr-url:
        description: The evidence pull request.
        value: \${{ jobs.aggregate.outputs.pr-url }}

permissions:
  contents: read

jobs:
${range.map((k) => `${planJob(k, o)}\n${trialsJob(k, o)}`).join("\n")}
${aggregateJob(o)}`;
}
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: workflow expressions
