// Writes .github/workflows/sweep.yml: the sweep's wave jobs are the same pair of jobs eight
// times over, so they are generated from one template here, and the file is committed and
// checked like dist/ (a test compares it with what this script writes).
//
//   node scripts/build-workflows.mjs          write .github/workflows/sweep.yml
//   node scripts/build-workflows.mjs --check  exit 1 when the committed file differs
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const target = path.join(root, ".github/workflows/sweep.yml");

/** The wave jobs the workflow has (src/core/fidelity.ts maxWorkflowWaves must say the same). */
export const waves = 8;

const checkout = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0";
const appToken = "actions/create-github-app-token@fee1f7d63c2ff003460e3d139729b119787bc349 # v2.2.2";

/** The inputs both triggers take (workflow_call's config description names the caller). */
function inputs(caller) {
  return `      config:
        description: The sweep config, relative to ${caller ? "the caller's" : "the"} repository root.
        type: string
        default: training/sweep.yaml
      num-samples:
        description: How many trials (1 to 256). Empty, the config's num_samples.
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
      runner-labels:
        description: The trial jobs' runs-on, as a JSON array of runner labels.
        type: string
        default: '["self-hosted","gpu"]'
      setup-command:
        description: A shell command run before each trial (install the trainer's dependencies, log in, fetch weights).
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
      tunix-rt-repository:
        description: The repository whose actions run (owner/name). Empty, this workflow's own (job.workflow_repository).
        type: string
        default: ""
      tunix-rt-ref:
        description: The commit, tag or branch of those actions. Empty, this workflow's own commit (job.workflow_sha).
        type: string
        default: ""
`;
}

/**
 * The steps that put tunix-rt's own actions in .tunix-rt/: the repository and commit of
 * this workflow file, or the inputs that name them. Where neither is known (GitHub
 * Enterprise Server has no job.workflow_* context), the job fails saying what to pass,
 * rather than running some other version of tunix-rt.
 */
const ownActions = `      - name: Find tunix-rt's own repository and commit
        id: tunix-rt
        env:
          REPOSITORY: \${{ inputs.tunix-rt-repository || job.workflow_repository }}
          REF: \${{ inputs.tunix-rt-ref || job.workflow_sha }}
        run: |
          if [ -z "$REPOSITORY" ] || [ -z "$REF" ]; then
            echo "::error::this runner's GitHub names no job.workflow_repository or job.workflow_sha (GitHub Enterprise Server): pass the inputs tunix-rt-repository and tunix-rt-ref (the repository and commit of sweep.yml)"
            exit 1
          fi
          echo "repository=$REPOSITORY" >> "$GITHUB_OUTPUT"
          echo "ref=$REF" >> "$GITHUB_OUTPUT"
      - name: Check out tunix-rt at that commit
        uses: ${checkout}
        with:
          repository: \${{ steps.tunix-rt.outputs.repository }}
          ref: \${{ steps.tunix-rt.outputs.ref }}
          path: .tunix-rt
          persist-credentials: false
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

/** The plan job of wave `k`: a plain job, so its outputs reach later jobs whatever its trials did. */
function planJob(k) {
  const first = k === 1;
  const from = (output, fallback) => (first ? fallback : `\${{ needs.plan-1.outputs.${output} }}`);
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
    "    runs-on: ubuntu-latest",
    "    timeout-minutes: 10",
    "    # Earlier waves' records come through the runner's artifact service: no actions: read.",
    "    permissions:",
    "      contents: read",
    "    outputs:",
    ...planOutputs.map((o) => `      ${o}: \${{ steps.plan.outputs.${o} }}`),
    "    steps:",
    `      - uses: ${checkout}`,
    "        with:",
    "          persist-credentials: false",
    ownActions.trimEnd(),
    "      - id: plan",
    "        uses: ./.tunix-rt/actions/sweep",
    "        with:",
    // biome-ignore-start lint/suspicious/noTemplateCurlyInString: workflow expressions, not templates.
    "          mode: plan",
    `          wave: ${k}`,
    `          max-waves: ${waves}`,
    "          config: ${{ inputs.config }}",
    "          num-samples: ${{ inputs.num-samples }}",
    `          seed: ${from("seed", "${{ inputs.seed }}")}`,
    `          sampler: ${from("sampler", "${{ inputs.sampler }}")}`,
    `          run-version: ${from("run-version", "${{ inputs.run-version }}")}`,
    // biome-ignore-end lint/suspicious/noTemplateCurlyInString: workflow expressions
  );
  if (!first) {
    lines.push(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, not a template.
      "          sweep-id: ${{ needs.plan-1.outputs.sweep-id }}",
      `          planned: \${{ needs.plan-${k - 1}.outputs.planned }}`,
      '          history-from-artifacts: "true"',
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The trial jobs of wave `k`: one per matrix entry, on the user's runners. */
function trialsJob(k) {
  return `  trials-${k}:
    name: trial \${{ matrix.trial_id }}
    needs: plan-${k}
    # An empty wave (a grid with no untried point, nothing to promote) has nothing to fan out.
    # A condition without a status function means success() && (...), and a job's success()
    # looks at every job upstream: one failed trial of an earlier wave would skip every later
    # wave's trials. Only this wave's plan decides.
    if: \${{ !cancelled() && needs.plan-${k}.result == 'success' && needs.plan-${k}.outputs.count != '0' }}
    runs-on: \${{ fromJSON(inputs.runner-labels) }}
    timeout-minutes: \${{ fromJSON(needs.plan-${k}.outputs.timeout-minutes) }}
    permissions:
      contents: read
    strategy:
      # Every trial runs to its end; a failed one does not stop the wave or the next one.
      fail-fast: false
      max-parallel: \${{ fromJSON(needs.plan-${k}.outputs.max-parallel) }}
      matrix: \${{ fromJSON(needs.plan-${k}.outputs.matrix) }}
    steps:
      - uses: ${checkout}
        with:
          persist-credentials: false
${ownActions}      - name: Set up the trainer
        if: inputs.setup-command != ''
        env:
          SETUP_COMMAND: \${{ inputs.setup-command }}
          HF_TOKEN: \${{ secrets.HF_TOKEN }}
        run: bash -euo pipefail -c "$SETUP_COMMAND"
      - name: Run the trial
        uses: ./.tunix-rt/actions/sweep
        env:
          HF_TOKEN: \${{ secrets.HF_TOKEN }}
        with:
          mode: trial
          config: \${{ inputs.config }}
          trial: \${{ toJson(matrix) }}
          secret-env: \${{ secrets.TRAINER_ENV }}
          checkpoint-dir: \${{ inputs.checkpoint-dir }}
`;
}

const range = Array.from({ length: waves }, (_, i) => i + 1);
/** The planned trials of every wave so far: the last wave that planned has them all. */
const allPlanned = range
  .slice()
  .reverse()
  .map((k) => `needs.plan-${k}.outputs.planned`)
  .join(" || ");

function aggregateJob() {
  const needs = range.flatMap((k) => [`plan-${k}`, `trials-${k}`]);
  return `  aggregate:
    name: aggregate
    needs: [${needs.join(", ")}]
    # Also after failed trials and failed later waves (the evidence says which failed and
    # why); not when cancelled, and not when wave 1 planned nothing.
    if: \${{ !cancelled() && needs.plan-1.result == 'success' && needs.plan-1.outputs.count != '0' }}
    runs-on: ubuntu-latest
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
      checks: write
    env:
      # Steps cannot test secrets in \`if:\`; the job's env can say whether one was given.
      HAS_APP: \${{ secrets.APP_ID != '' && secrets.APP_PRIVATE_KEY != '' }}
    outputs:
      best-trial: \${{ steps.aggregate.outputs.best-trial }}
      primary-score: \${{ steps.aggregate.outputs.primary-score }}
      pr-url: \${{ steps.aggregate.outputs.pr-url }}
    steps:
      - uses: ${checkout}
        with:
          persist-credentials: false
${ownActions}      - name: Mint a GitHub App token (pull requests it opens start workflows)
        id: app-token
        if: env.HAS_APP == 'true'
        uses: ${appToken}
        with:
          app-id: \${{ secrets.APP_ID }}
          private-key: \${{ secrets.APP_PRIVATE_KEY }}
      - id: aggregate
        uses: ./.tunix-rt/actions/score
        with:
          mode: aggregate
          config: \${{ inputs.config }}
          sweep-id: \${{ needs.plan-1.outputs.sweep-id }}
          matrix: \${{ ${allPlanned} }}
          run-version: \${{ needs.plan-1.outputs.run-version }}
          seed: \${{ needs.plan-1.outputs.seed }}
          sampler: \${{ needs.plan-1.outputs.sampler }}
          create-pr: \${{ inputs.create-pr }}
          token: \${{ steps.app-token.outputs.token || secrets.PR_TOKEN || github.token }}
`;
}

export function sweepWorkflow() {
  return `# Generated by scripts/build-workflows.mjs: edit it there, then run npm run build:workflows.
#
# A hyperparameter sweep: up to ${waves} waves, each a plan job on a GitHub-hosted runner and one
# matrix job per trial on your runners (self-hosted GPU machines by default), then one job
# that aggregates every trial, writes the evidence, verifies it and opens (or updates) the
# evidence pull request. Wave k+1 is planned from every record of waves 1..k (the previous
# wave's artifact and its trials' artifacts); the waves the config does not use are skipped.
#
# Start it by hand (workflow_dispatch), or call it from another workflow (workflow_call):
#   uses: tunix-rt/tunix-rt/.github/workflows/sweep.yml@<commit sha>
#
# Every job is in this file: no nested reusable workflow, so nothing depends on how GitHub
# resolves a local \`uses: ./...\` inside a called workflow. A called workflow's \`uses: ./...\`
# step means the CALLER's checkout, so each job checks this repository out into .tunix-rt/
# at the workflow's own commit: \`job.workflow_repository\` and \`job.workflow_sha\` name the
# repository and commit of the workflow file that defines the running job (this file), both
# when it runs here and when another repository calls it. Where GitHub has no such context
# (GitHub Enterprise Server), the inputs tunix-rt-repository and tunix-rt-ref must name them.
name: sweep

on:
  workflow_dispatch:
    inputs:
${inputs(false)}  workflow_call:
    inputs:
${inputs(true)}    secrets:
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
${range.map((k) => `${planJob(k)}\n${trialsJob(k)}`).join("\n")}
${aggregateJob()}`;
}

const text = sweepWorkflow();
if (process.argv.includes("--check")) {
  const committed = await readFile(target, "utf8").catch(() => "");
  if (committed !== text) {
    console.error(
      `${path.relative(root, target)} differs from what scripts/build-workflows.mjs writes: run npm run build:workflows`,
    );
    process.exit(1);
  }
  console.log(`${path.relative(root, target)} matches scripts/build-workflows.mjs`);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(target, text);
  console.log(`wrote ${path.relative(root, target)}`);
}
