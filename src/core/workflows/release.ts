/**
 * The release workflow: the text, whose own comment says how it works with immutable
 * releases and how to start it.
 */
import {
  actionUses,
  checkoutAction,
  commentLines,
  hostedRunner,
  type WorkflowTextOptions,
  yamlScalar,
} from "./parts.js";

/** How the workflow works: written into it, for whoever reads the file. */
const about = commentLines(
  [
    "Releases the submission zip of a run_version under the tag evidence/<run_version>, in the",
    "order GitHub documents for immutable releases (create the release as a draft, attach all",
    'assets to the draft, publish the draft: "Immutable releases", https://docs.github.com/',
    "code-security/supply-chain-security/understanding-your-software-supply-chain/immutable-releases).",
    "A published immutable release takes no new asset and loses none, so attaching the zip",
    "after `release: published` cannot work there.",
    "",
    "Start it by pushing a tag evidence/<run_version> (the zip is packed from the tagged",
    "commit), or by hand with the run_version (packed from the branch it runs on; the tag is",
    "created at that commit when the release is published). The package action reuses the",
    "tag's draft (one you wrote notes for) or creates one, puts the zip on it (replacing an",
    "earlier tunix_rt_<run_version>_*.zip, which a draft allows) and publishes it. A tag whose",
    "release is already published and immutable is refused in one line: use a new tag.",
    "",
    "What GITHUB_TOKEN does starts no workflow but workflow_dispatch and repository_dispatch: a",
    "workflow that makes the tag with GITHUB_TOKEN should run this one with",
    "`gh workflow run <this file> -f run-version=<run_version>` (actions: write) instead.",
    "",
  ].join("\n"),
);

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: workflow expressions, not templates.
/** The text of a release workflow. */
export function releaseWorkflow(o: WorkflowTextOptions): string {
  return `${o.header}${about}name: ${yamlScalar(o.name)}

on:
  push:
    tags: ["evidence/*"]
  workflow_dispatch:
    inputs:
      run-version:
        description: The run_version to release (submission_runs/<run_version> at the commit this runs on)
        required: true
        type: string
      tag:
        description: The release's tag. Empty, evidence/<run_version>.
        required: false
        type: string
      publish:
        description: Publish the release once the zip is on it (unchecked, it stays a draft)
        required: false
        type: boolean
        default: true

permissions:
  contents: read

# One release job per tag at a time: two would each create a draft.
concurrency:
  group: release-\${{ github.event_name == 'push' && github.ref_name || inputs.tag || format('evidence/{0}', inputs.run-version) }}
  cancel-in-progress: false

jobs:
  package:
    name: package
    runs-on: ${hostedRunner}
    timeout-minutes: 10
    permissions:
      contents: write # the draft release, its asset, publishing it (which creates the tag)
    steps:
      - uses: ${checkoutAction}
        with:
          persist-credentials: false
      - name: Find the run_version and the tag
        id: release
        env:
          EVENT: \${{ github.event_name }}
          REF_NAME: \${{ github.ref_name }}
          RUN_VERSION: \${{ inputs.run-version }}
          TAG: \${{ inputs.tag }}
          PUBLISH: \${{ inputs.publish }}
        run: |
          if [ "$EVENT" = push ]; then
            tag="$REF_NAME"
            run_version="\${REF_NAME#evidence/}"
            publish=true
          else
            run_version="$RUN_VERSION"
            tag="\${TAG:-evidence/$RUN_VERSION}"
            publish="\${PUBLISH:-true}"
          fi
          case "$tag" in
            evidence/*) ;;
            *) if [ "$EVENT" = push ]; then run_version=""; fi ;;
          esac
          # bash's =~ matches the whole value (grep would match any one of its lines).
          if ! [[ "$run_version" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$ ]]; then
            echo "::error::no valid run_version: push a tag evidence/<run_version>, or run the workflow with the run-version input (letters, digits, '.', '_', '-'; at most 100)"
            exit 1
          fi
          if ! [[ "$tag" =~ ^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$ ]] || ! git check-ref-format "refs/tags/$tag"; then
            echo "::error::the tag input is no valid tag name: use letters, digits, '.', '_', '-' and '/' (for example evidence/<run_version>-2)"
            exit 1
          fi
          if [ "$publish" != true ] && [ "$publish" != false ]; then
            echo "::error::the publish input must be true or false"
            exit 1
          fi
          {
            echo "run-dir=submission_runs/$run_version"
            echo "tag=$tag"
            echo "publish=$publish"
          } >> "$GITHUB_OUTPUT"
      - name: Package, put the zip on the draft release, publish it
        uses: ${actionUses(o.actions, "package")}
        with:
          run-dir: \${{ steps.release.outputs.run-dir }}
          release-tag: \${{ steps.release.outputs.tag }}
          release-publish: \${{ steps.release.outputs.publish }}
`;
}
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: workflow expressions
