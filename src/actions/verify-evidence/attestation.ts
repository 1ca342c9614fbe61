/**
 * verify-evidence's trust in a signature: the repository the workflow runs in is the one
 * whose workflows sign its evidence (with signer-workflow, that workflow), on the server the
 * run is on; the roots are public-good's, or a file of the workspace's checkout (under
 * pull-request mode, the base commit's: the pull request cannot choose them).
 */
import path from "node:path";
import { InputError } from "../../core/errors.js";
import { type AttestationPolicy, readTrustedRootsFile } from "../../runtime/attestation.js";
import type { RunContext } from "../shared/context.js";
import type { AttestationSettings } from "./inputs.js";

/** The attestation policy of the action's inputs in this run. */
export async function attestationPolicy(
  settings: AttestationSettings,
  context: RunContext,
): Promise<AttestationPolicy> {
  const repository = context.repository;
  if (repository === undefined && (settings.required || settings.signerWorkflow !== undefined))
    throw new InputError(
      "with.require-attestation: the signer is a workflow of this repository, and GITHUB_REPOSITORY is not set (run on GitHub Actions)",
    );
  return {
    required: settings.required,
    ...(repository === undefined
      ? {}
      : {
          signer: {
            repository,
            serverUrl: context.serverUrl,
            ...(settings.signerWorkflow === undefined ? {} : { workflow: settings.signerWorkflow }),
          },
        }),
    ...(settings.sigstoreRoot === undefined
      ? {}
      : {
          roots: await readTrustedRootsFile(
            path.resolve(context.workspace, settings.sigstoreRoot),
            `with.sigstore-root ${settings.sigstoreRoot}`,
          ),
        }),
  };
}
