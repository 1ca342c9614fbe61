/**
 * The evidence check of every pull request: the text of the workflow, whose own comment says
 * why it is built as it is (pull_request_target, no paths filter, the base commit, the head
 * read as data, a commit status on the head).
 */
import {
  actionUses,
  checkoutAction,
  commentLines,
  hostedRunner,
  type WorkflowTextOptions,
  yamlScalar,
} from "./parts.js";

/** The name the verdict is posted under, here and by the sweep's aggregate job. */
export const verdictName = "tunix-rt / verify-evidence";

/** Why the workflow is built as it is: written into it, for whoever reads the file. */
const about = commentLines(
  [
    "On every pull request, the evidence it brings under submission_runs/ is verified against",
    "the truth of its BASE commit, and the verdict is posted as the commit status",
    `"${verdictName}" on its head.`,
    "",
    " - pull_request_target: the workflow file, the verifier (the action below) and the truth",
    "   it checks against (the evalset, the sweep config) are the base's; on pull_request a",
    "   pull request could edit any of them to make its own check pass. A pull request that",
    "   changes the evalset or the sweep config its evidence names fails, naming the file.",
    " - No paths: filter: a required check whose workflow is skipped stays pending, so a pull",
    "   request that touched no evidence could never merge. One without evidence changes gets",
    "   a success status saying so, in seconds.",
    " - The base commit is github.event.pull_request.base.sha, not github.sha: under",
    "   pull_request_target github.sha is the default branch's tip (GitHub changelog,",
    "   2025-11-07), the wrong tree for a pull request into another branch.",
    " - The head is never checked out: the action fetches its commit and reads the blobs under",
    "   submission_runs/ (and the files the evidence names) as data, so nothing of the pull",
    "   request runs, and no release of actions/checkout that refuses a fork's head under",
    "   pull_request_target (without allow-unsafe-pr-checkout) can break the check.",
    ' - Few privileges to take (GitHub Security Lab, "Preventing pwn requests",',
    "   https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/): the",
    "   token reads contents and writes commit statuses; no secrets; a GitHub-hosted runner.",
    " - A commit status on the head, not the job's own check: a pull_request_target run belongs",
    "   to the base branch's commit, and whether its job's check counts for the head is not",
    "   settled by GitHub's docs; a status on the head counts either way. The status step runs",
    "   whatever happened before it, and the verify step has a timeout of its own, so a crash",
    "   or a hang posts failure instead of leaving a required check pending.",
    "",
  ].join("\n"),
);

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: workflow expressions, not templates.
/** What an evidence workflow is written for. */
export interface EvidenceWorkflowOptions extends WorkflowTextOptions {
  /**
   * The sweep workflow that signs the repository's evidence (`.github/workflows/<file>`):
   * evidence must then carry its signature. Undefined: a signature is checked when there.
   */
  signedBy?: string;
  /** A file of the repository holding the Sigstore roots to check signatures against. */
  sigstoreRoot?: string;
}

/** The text of an evidence workflow. */
export function evidenceWorkflow(o: EvidenceWorkflowOptions): string {
  return `${o.header}${about}name: ${yamlScalar(o.name)}

on:
  pull_request_target:

permissions:
  contents: read

jobs:
  verify:
    # Not the verdict's name: the verdict is the commit status posted below.
    name: verify the pull request's evidence
    runs-on: ${hostedRunner}
    timeout-minutes: 15
    permissions:
      contents: read
      # The verdict, as a commit status on the pull request's head commit.
      statuses: write
    steps:
      - name: Check out the base commit (the truth the evidence is checked against)
        uses: ${checkoutAction}
        with:
          ref: \${{ github.event.pull_request.base.sha }}
          persist-credentials: false
      - name: Verify the evidence the pull request brings (its head is read as data, never run)
        id: verify
        timeout-minutes: 10
        uses: ${actionUses(o.actions, "verify-evidence")}
        with:
          pull-request: \${{ github.event.pull_request.number }}
          base-sha: \${{ github.event.pull_request.base.sha }}
          head-sha: \${{ github.event.pull_request.head.sha }}
${
  o.signedBy
    ? `          # Evidence is signed by the sweep workflow of this repository (an artifact
          # attestation, attestation.sigstore.json): none, or another signer, fails.
          require-attestation: true
          signer-workflow: ${yamlScalar(o.signedBy)}
`
    : ""
}${o.sigstoreRoot ? `          sigstore-root: ${yamlScalar(o.sigstoreRoot)}\n` : ""}      - name: Report the verdict on the pull request's head commit
        if: \${{ always() }}
        env:
          GH_TOKEN: \${{ github.token }}
          REPOSITORY: \${{ github.repository }}
          HEAD_SHA: \${{ github.event.pull_request.head.sha }}
          OUTCOME: \${{ steps.verify.outcome }}
          VERDICT: \${{ steps.verify.outputs.verdict }}
          DESCRIPTION: \${{ steps.verify.outputs.description }}
          RUN_URL: \${{ github.server_url }}/\${{ github.repository }}/actions/runs/\${{ github.run_id }}
          CHECK_NAME: ${verdictName}
        run: |
          # Success only when verify ran to its end and found valid evidence, or none.
          state=failure
          description="the evidence check did not finish: see the run"
          if [ "$OUTCOME" = success ] && { [ "$VERDICT" = valid ] || [ "$VERDICT" = no-evidence ]; }; then
            state=success
          fi
          if [ -n "$DESCRIPTION" ]; then description="$DESCRIPTION"; fi
          gh api --method POST "repos/$REPOSITORY/statuses/$HEAD_SHA" \\
            -f state="$state" -f context="$CHECK_NAME" -f description="$description" -f target_url="$RUN_URL" > /dev/null
          echo "$CHECK_NAME: $state ($description)"
`;
}
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: workflow expressions
