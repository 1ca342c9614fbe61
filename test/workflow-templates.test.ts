/**
 * The workflow templates (src/core/workflows/): the values an option puts into the YAML text
 * read back as given, the header that records the options and the file's hash, and the
 * options' checks.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { matrixLimitProblem, wavesNeeded } from "../src/core/search/fidelity.js";
import { yamlBlock, yamlList, yamlScalar } from "../src/core/workflows/parts.js";
import { checkInitOptions, readHeader, userWorkflows } from "../src/core/workflows/user.js";

const pinned = {
  kind: "pinned",
  repository: "tunix-rt/tunix-rt",
  commit: "a".repeat(40),
  version: "0.1.0",
} as const;
const options = { config: "training/sweep.yaml", runner_labels: ["self-hosted", "gpu"], setup_command: "" };

describe("values in the YAML text", () => {
  const tricky = [
    "training/sweep.yaml",
    "yes",
    "No",
    "null",
    "1e3",
    "0x10",
    ".inf",
    "a: b",
    "# comment",
    "- item",
    "it's",
    'quote " inside',
    "tab\there",
    "*alias",
    "&anchor",
    "!tag",
    "{flow}",
    "[list]",
    "",
    " leading",
    "trailing ",
    "ünïcode",
  ];
  it("a scalar reads back as the same string", () => {
    for (const value of tricky) expect(parse(`key: ${yamlScalar(value)}\n`).key, value).toBe(value);
  });

  it("a list reads back as the same strings", () => {
    expect(parse(`key: ${yamlList(tricky.filter((t) => t !== ""))}\n`).key).toEqual(
      tricky.filter((t) => t !== ""),
    );
  });

  it("a script block reads back as the script, whatever its first line", () => {
    for (const script of [
      "pip install -r requirements.txt",
      "set -e\npip install .\n\necho done",
      "  indented first\nnext",
    ]) {
      const text = `steps:\n  - run: x\n    shell: bash\n${yamlBlock("run", script, 4)}`;
      expect(parse(text.replace("  - run: x\n", "  - name: x\n")).steps[0].run).toBe(
        `${script.replace(/\n+$/, "")}\n`,
      );
    }
  });

  it("the sweep runs the setup command as written, on the labels given", () => {
    const command =
      'python -m pip install -r training/requirements.txt\nhuggingface-cli login --token "$HF_TOKEN"';
    const [sweep] = userWorkflows(
      { ...options, setup_command: command, runner_labels: ["self-hosted", "gpu-80gb", "linux"] },
      { actions: pinned, waves: 2 },
    );
    const doc = parse(sweep?.text as string) as {
      jobs: Record<string, { "runs-on": unknown; steps: Array<{ name?: string; run?: string }> }>;
    };
    const trials = doc.jobs["trials-1"];
    expect(trials?.["runs-on"]).toEqual(["self-hosted", "gpu-80gb", "linux"]);
    expect(trials?.steps.find((s) => s.name === "Set up the trainer")?.run).toBe(`${command}\n`);
  });
});

describe("the header init writes", () => {
  const files = userWorkflows(options, { actions: pinned, waves: 3 });

  it("records the options and reads back unedited, for each file", () => {
    expect(files.map((f) => f.file)).toEqual([
      "tunix-rt-sweep.yml",
      "tunix-rt-evidence.yml",
      "tunix-rt-release.yml",
    ]);
    for (const { file, text } of files) {
      const header = readHeader(text, file);
      expect(header).toEqual({ ok: true, options, unedited: true });
    }
  });

  it("an edit anywhere but the options line shows as an edit, a comment too", () => {
    const text = files[0]?.text as string;
    for (const edited of [
      text.replace("timeout-minutes: 10", "timeout-minutes: 11"),
      text.replace("\nname: ", "\n# a note of mine\nname: "),
      `${text}# appended\n`,
    ]) {
      expect(edited).not.toBe(text);
      expect(readHeader(edited, "f.yml")).toMatchObject({ ok: true, unedited: false });
    }
  });

  it("a file init did not write, or whose options line is broken, is named so", () => {
    expect(readHeader("name: mine\non: push\n", "mine.yml")).toEqual({
      ok: false,
      problems: [
        {
          file: "mine.yml",
          path: "",
          message:
            'has no "# tunix-rt-init: {...}" line in its first comment block; not a file tunix-rt init wrote',
        },
      ],
    });
    const text = files[0]?.text as string;
    const broken = text.replace(/# tunix-rt-init: \{/, "# tunix-rt-init: {,");
    expect(readHeader(broken, "f.yml")).toMatchObject({ ok: false, problems: [{ path: "tunix-rt-init:" }] });
    const hostile = text.replace(
      '"setup_command":""',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, refused.
      '"setup_command":"echo ${{ github.event.issue.title }}"',
    );
    expect(hostile).not.toBe(text);
    const read = readHeader(hostile, "f.yml");
    expect(read.ok).toBe(false);
    expect(!read.ok && read.problems[0]?.message).toMatch(/expected no \$\{\{ \}\} expression/);
  });
});

describe("init's options", () => {
  it("refuse what would break the workflow or inject into it, naming the field and value", () => {
    const bad: Array<[Record<string, unknown>, string, RegExp]> = [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, refused.
      [{ setup_command: "echo ${{ inputs.x }}" }, "setup_command", /expected no \$\{\{ \}\} expression/],
      [{ runner_labels: [] }, "runner_labels", /at least one runner label/],
      [{ runner_labels: ["gpu\nubuntu-latest"] }, "runner_labels.0", /no newline/],
      [{ runner_labels: [""] }, "runner_labels.0", /not an empty string/],
      [{ config: "../elsewhere.yaml" }, "config", /inside the repository/],
      [{ commit: "abc123" }, "commit", /full 40-hex commit sha/],
      [{ repository: "not a repo" }, "repository", /owner\/name/],
    ];
    for (const [change, field, message] of bad) {
      const result = checkInitOptions({ ...options, ...change }, "init");
      expect(result.ok, field).toBe(false);
      const problem = !result.ok ? result.problems[0] : undefined;
      expect(problem?.path, field).toBe(field);
      expect(problem?.message, field).toMatch(message);
      expect(problem?.message, field).toMatch(/^got /);
    }
    expect(checkInitOptions({ ...options, extra: 1 }, "init").ok).toBe(false);
  });
});

describe("the schedule's waves and GitHub's matrix limit", () => {
  const plain = { max_concurrent_trials: 4, waves: undefined, fidelity: undefined };
  it("counts plain waves, further rungs and the re-evaluation wave", () => {
    expect(wavesNeeded({ ...plain, num_samples: 4 })).toBe(1);
    expect(wavesNeeded({ ...plain, num_samples: 24, waves: 12 })).toBe(12);
    const fidelity = { min_budget: 1, max_budget: 9, eta: 3, resume: true };
    expect(wavesNeeded({ ...plain, num_samples: 9, fidelity })).toBe(3);
    expect(wavesNeeded({ ...plain, num_samples: 9, fidelity, reevaluate: { top_k: 2, repeats: 2 } })).toBe(4);
  });

  it("names the wave over 256 trials and what to change, and none when every wave fits", () => {
    expect(
      matrixLimitProblem({ ...plain, num_samples: 256, max_concurrent_trials: 256 }, 256),
    ).toBeUndefined();
    expect(matrixLimitProblem({ ...plain, num_samples: 300, max_concurrent_trials: 300 }, 256)).toBe(
      "a wave of 300 trials (num_samples 300 in 1 wave) exceeds the 256 jobs one GitHub matrix may hold; raise waves to at least 2 or lower num_samples",
    );
    // Rung 0 fits in 4 waves of 150; rung 1 promotes floor(600 / 2) = 300 in one wave.
    const fidelity = { min_budget: 1, max_budget: 4, eta: 2, resume: true };
    expect(matrixLimitProblem({ ...plain, num_samples: 600, waves: 4, fidelity }, 256)).toBe(
      "rung 1 of successive halving promotes 300 trials in one wave (floor(600 / eta 2)), over the 256 jobs one GitHub matrix may hold; lower num_samples or raise fidelity.eta",
    );
  });
});

describe("signed evidence in the written workflows", () => {
  const jobsOf = (text: string) =>
    (
      parse(text) as {
        jobs: Record<
          string,
          {
            permissions?: Record<string, string>;
            steps?: { uses?: string; with?: Record<string, unknown> }[];
          }
        >;
      }
    ).jobs;

  it("signs in the aggregate job alone, which alone may mint an OIDC token; the check requires the signature", () => {
    const [sweep, check] = userWorkflows(options, { actions: pinned, waves: 2 });
    const jobs = jobsOf(sweep?.text as string);
    const minting = Object.entries(jobs)
      .filter(([, job]) => job.permissions?.["id-token"] === "write")
      .map(([name]) => name);
    expect(minting).toEqual(["aggregate"]);
    expect(jobs.aggregate?.permissions).toMatchObject({ "id-token": "write", attestations: "write" });
    const uses = (jobs.aggregate?.steps ?? []).map((s) => s.uses?.replace(/@.*/, "") ?? "");
    expect(uses.slice(-3)).toEqual([
      "tunix-rt/tunix-rt/actions/score",
      "actions/attest-build-provenance",
      "tunix-rt/tunix-rt/actions/score",
    ]);
    // The pull-request check mints nothing, and requires the sweep workflow's signature.
    const verifyJob = jobsOf(check?.text as string).verify;
    expect(verifyJob?.permissions?.["id-token"]).toBeUndefined();
    expect(verifyJob?.steps?.find((s) => s.uses?.includes("verify-evidence"))?.with).toMatchObject({
      "require-attestation": true,
      "signer-workflow": ".github/workflows/tunix-rt-sweep.yml",
    });
  });

  it("--no-attest writes neither the signing steps nor the requirement; --sigstore-root reaches the check", () => {
    const [sweep, check] = userWorkflows(
      { ...options, attest: false, sigstore_root: ".github/roots.jsonl" },
      { actions: pinned, waves: 1 },
    );
    expect(sweep?.text).not.toContain("attest-build-provenance");
    expect(sweep?.text).not.toContain("id-token");
    const verify = jobsOf(check?.text as string).verify?.steps?.find((s) =>
      s.uses?.includes("verify-evidence"),
    );
    expect(verify?.with?.["require-attestation"]).toBeUndefined();
    expect(verify?.with?.["sigstore-root"]).toBe(".github/roots.jsonl");
    expect(checkInitOptions({ ...options, attest: true }, "x.yml")).toMatchObject({
      ok: false,
      problems: [{ path: "attest", message: expect.stringContaining("expected false") }],
    });
  });
});
