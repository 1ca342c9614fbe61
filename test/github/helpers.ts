/**
 * Shared setup of the GitHub adapter tests: a REST stand-in per test, an Octokit pointed at
 * it with retry delays of a millisecond, and the evidence files of a fixture run.
 */

import type { EvidenceFile } from "../../src/core/evidence/changes.js";
import { createOctokit, type GitHubClient } from "../../src/github/octokit.js";
import { type EvidenceFixture, evidenceTexts } from "../helpers/evidence-fixture.js";
import { RestStandIn, type StandInOptions } from "./stand-in/server.js";

/** The token the tests authenticate with (the stand-in only checks that one is sent). */
export const testToken = "ghs_0123456789abcdefghijklmnopqrstuvwxyzAB";

/** A started stand-in and an Octokit aimed at it. */
export interface Harness {
  standIn: RestStandIn;
  octokit: GitHubClient;
}

/** Starts a stand-in; every retry delay unit is 1 ms so retries never slow a test. */
export async function startHarness(options: StandInOptions = {}): Promise<Harness> {
  const standIn = await RestStandIn.start(options);
  const octokit = createOctokit({ token: testToken, baseUrl: standIn.apiUrl, retryAfterBaseMs: 1 });
  return { standIn, octokit };
}

/**
 * The evidence of a fixture run as `publishEvidence` takes it: the six files under
 * `submission_runs/<run_version>/` and `training/configs/best.yaml`, with a timestamp and a
 * workflow run URL that a test can vary.
 */
export function evidenceFiles(
  fixture: EvidenceFixture & { runVersion: string },
  run: { timestamp?: string; runUrl?: string } = {},
): EvidenceFile[] {
  const timestamp = run.timestamp ?? "2025-12-27T10:00:00Z";
  const runUrl = run.runUrl ?? "https://github.com/octo/sweeps/actions/runs/1";
  const texts = evidenceTexts({
    ...fixture,
    manifest: { timestamp, workflow_run_url: runUrl, ...fixture.manifest },
    summary: { evaluated_at: timestamp, ...fixture.summary },
  });
  const dir = `submission_runs/${fixture.runVersion}`;
  const bestYaml = [
    "# Promoted by tunix-rt: the best trial of a sweep.",
    `run_version: ${fixture.runVersion}`,
    "params:",
    "  learning_rate: 5.0e-5",
    "provenance:",
    "  trial_id: t0001",
    `  date: ${timestamp}`,
    `  workflow_run_url: ${runUrl}`,
    "",
  ].join("\n");
  return [
    ...Object.entries(texts).map(([name, content]) => ({ path: `${dir}/${name}`, content })),
    { path: "training/configs/best.yaml", content: bestYaml },
  ];
}
