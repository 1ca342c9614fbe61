import path from "node:path";
import { ExitCode, InputError, quote, UsageError } from "../../core/errors.js";
import { verdictName } from "../../core/workflows/evidence.js";
import { hostedRunner } from "../../core/workflows/parts.js";
import { checkInitOptions, type InitOptions, userWorkflowFiles } from "../../core/workflows/user.js";
import { readTrustedRootsFile } from "../../runtime/attestation.js";
import { type BuildInfo, readBuildInfo } from "../../runtime/build-info.js";
import {
  actionPin,
  defaultWorkflowDir,
  diffOf,
  type PlannedFile,
  planFiles,
  readExisting,
  refusal,
  writeFiles,
} from "../../runtime/init.js";
import { isInside } from "../../runtime/root.js";
import { type CliContext, type Command, configFile, parseFlags } from "../command.js";

const defaultLabels = ["self-hosted", "gpu"];

const help = `Usage: tunix-rt init [--config F] [--runner-labels L] [--setup-command CMD] [--out DIR]
                    [--repository OWNER/NAME --commit SHA] [--no-attest]
                    [--sigstore-root FILE] [--force]
       tunix-rt init --check [--out DIR]
       tunix-rt init --upgrade [--repository OWNER/NAME --commit SHA] [--force] [--out DIR]

Writes your repository's GitHub workflows, from the templates tunix-rt's own workflows come
from, into ${defaultWorkflowDir}/:
  tunix-rt-sweep.yml     by hand (Run workflow): per wave a plan job (GitHub-hosted) and one
                         job per trial on your runners, then the aggregate, which writes the
                         evidence, signs it (a GitHub artifact attestation, kept beside it as
                         attestation.sigstore.json) and opens its pull request; as many waves
                         as the config's
                         schedule takes (waves or one per round of max_concurrent_trials,
                         one per further rung of successive halving, one for reevaluate)
  tunix-rt-evidence.yml  every pull request: its evidence verified against the base commit's
                         evalset and config, its signature required (by tunix-rt-sweep.yml of
                         this repository), the verdict posted as the commit status
                         "${verdictName}"
  tunix-rt-release.yml   a tag evidence/<run_version>: the submission zip on a release
Every step calls tunix-rt's actions as OWNER/NAME/actions/<action>@<commit sha>: the
repository and commit of this installed tunix-rt (recorded when it was built), so the trial
jobs run on your own runners. A build from uncommitted changes has no commit to pin:
--commit names one.

  --config F            the sweep config (default: training/sweep.yaml at the repository root)
  --runner-labels L     the trial jobs' runs-on: comma-separated, or a JSON array
                        (default: ${defaultLabels.join(",")})
  --setup-command CMD   a shell command run before each trial (pip install ...; default none)
  --out DIR             where the workflows go (default: ${defaultWorkflowDir} at the root)
  --repository R, --commit SHA
                        pin tunix-rt's actions to this repository and commit instead
  --no-attest           do not sign the evidence, nor require a signature on pull requests:
                        for a private repository on a plan without artifact attestations
                        (GitHub Free, Pro or Team); a public one has them on every plan
  --sigstore-root FILE  a file of the repository with the Sigstore roots signatures are checked
                        against (gh attestation trusted-root > FILE): a private repository's
                        attestations are signed by GitHub's own Sigstore instance
  --force               write over files edited by hand, or not written by init
  --check               exit 0 when each file is what this tunix-rt writes for the options its
                        header records, else 1 with a unified diff (a hand edit, another
                        tunix-rt version, or a config whose schedule changed)
  --upgrade             write each file anew with the options its header records (and this
                        tunix-rt's commit, unless --commit), a hand edit included (it says so)

Each file's header records its options and a SHA-256 of the file, so init never writes over
a hand edit without --force. Run \`npx tunix-rt init --check\` in your CI.

Exit: 0 written (or, with --check, current), 1 (--check) a file differs or is missing,
2 a bad flag or config, a file edited by hand, no commit to pin.`;

/** `tunix-rt init`: the user's workflows. */
export const command: Command = {
  help,
  async run(args, ctx) {
    const { values } = parseFlags(args, {
      values: ["config", "runner-labels", "setup-command", "out", "repository", "commit", "sigstore-root"],
      switches: ["check", "upgrade", "force", "no-attest"],
    });
    if (values.check && values.upgrade) throw new UsageError("--check and --upgrade: choose one");
    const dir = outDir(values.out, ctx);
    const build = await readBuildInfo();
    if (values.check) {
      const given = [
        "config",
        "runner-labels",
        "setup-command",
        "repository",
        "commit",
        "force",
        "no-attest",
        "sigstore-root",
      ].filter((name) => (values as Record<string, unknown>)[name] !== undefined);
      if (given.length > 0)
        throw new UsageError(
          `--check takes the options from the files' headers; drop --${given.join(", --")}`,
        );
      return check(ctx, dir, build);
    }
    const pin = {
      ...(values.repository === undefined ? {} : { repository: values.repository }),
      ...(values.commit === undefined ? {} : { commit: values.commit }),
    };
    if (values.upgrade) {
      const given = ["config", "runner-labels", "setup-command", "no-attest", "sigstore-root"].filter(
        (name) => (values as Record<string, unknown>)[name] !== undefined,
      );
      if (given.length > 0)
        throw new UsageError(
          `--upgrade keeps the options the files record; to change them run init with --${given.join(", --")} (and --force over hand edits)`,
        );
      return upgrade(ctx, dir, build, pin, values.force === true);
    }
    const config = await configPath(values.config, ctx);
    const options = checkedOptions(
      {
        config,
        runner_labels: labels(values["runner-labels"]),
        setup_command: values["setup-command"] ?? "",
        ...pin,
        ...(values["no-attest"] ? { attest: false as const } : {}),
        ...(values["sigstore-root"] === undefined
          ? {}
          : { sigstore_root: await sigstoreRootPath(values["sigstore-root"], ctx) }),
      },
      "init",
    );
    const files = await planFiles(ctx.root, dir, options, build);
    await write(ctx, files, values.force === true);
    ctx.stdout(nextSteps(options, build, files));
    return ExitCode.ok;
  },
};

/** The output folder relative to the repository root (inside it). */
function outDir(given: string | undefined, ctx: CliContext): string {
  if (given === undefined) return defaultWorkflowDir;
  const absolute = path.resolve(ctx.cwd, given);
  if (!isInside(ctx.root, absolute))
    throw new UsageError(`--out: ${quote(given)} is outside the repository (${ctx.root})`);
  return path.relative(ctx.root, absolute) || ".";
}

/** --sigstore-root as a repository path, once it is shown to hold Sigstore trusted roots. */
async function sigstoreRootPath(given: string, ctx: CliContext): Promise<string> {
  const absolute = path.resolve(ctx.cwd, given);
  if (!isInside(ctx.root, absolute))
    throw new UsageError(`--sigstore-root: ${quote(given)} is outside the repository (${ctx.root})`);
  await readTrustedRootsFile(absolute, `--sigstore-root ${given}`);
  return path.relative(ctx.root, absolute).split(path.sep).join("/");
}

/** The config as a repository path: --config (against the working directory), else the default. */
async function configPath(given: string | undefined, ctx: CliContext): Promise<string> {
  const found = await configFile(given, ctx);
  const absolute = path.resolve(found.cwd, found.file);
  if (!isInside(ctx.root, absolute))
    throw new UsageError(`--config: ${quote(found.file)} is outside the repository (${ctx.root})`);
  return path.relative(ctx.root, absolute).split(path.sep).join("/");
}

/** --runner-labels: a JSON array, or labels separated by commas. */
function labels(given: string | undefined): string[] {
  if (given === undefined) return defaultLabels;
  const text = given.trim();
  if (text.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UsageError(`--runner-labels: got ${quote(given)}; expected a JSON array of labels, or a,b,c`);
    }
    if (!Array.isArray(parsed) || !parsed.every((l) => typeof l === "string"))
      throw new UsageError(`--runner-labels: got ${quote(given)}; expected a JSON array of strings`);
    return parsed as string[];
  }
  return text.split(",").map((l) => l.trim());
}

/** Options from flags, checked as a header's are; a problem is a usage error naming the flag. */
function checkedOptions(raw: InitOptions, file: string): InitOptions {
  const checked = checkInitOptions(raw, file);
  if (checked.ok) return checked.value;
  const flag: Record<string, string> = {
    config: "--config",
    runner_labels: "--runner-labels",
    setup_command: "--setup-command",
    repository: "--repository",
    commit: "--commit",
  };
  const [first] = checked.problems;
  const key = first?.path.split(".")[0] ?? "";
  throw new UsageError(`${flag[key] ?? key}: ${first?.message ?? "invalid"}`);
}

/** Writes the planned files unless one may not be written over; then says what was written. */
async function write(ctx: CliContext, files: readonly PlannedFile[], force: boolean): Promise<void> {
  const refused = force ? [] : files.map(refusal).filter((r): r is string => r !== undefined);
  if (refused.length > 0) {
    throw new InputError(`${refused.join("; ")} (nothing was written)`);
  }
  for (const { repoPath, changed } of await writeFiles(ctx.root, files))
    ctx.stdout(`${changed ? "wrote" : "unchanged"} ${repoPath}\n`);
}

/** --check: each file against what this tunix-rt writes for the options its header records. */
async function check(ctx: CliContext, dir: string, build: BuildInfo): Promise<number> {
  let differs = 0;
  for (const file of userWorkflowFiles) {
    const repoPath = path.posix.join(dir.split(path.sep).join("/"), file);
    const existing = await readExisting(path.join(ctx.root, dir, file), repoPath);
    if (existing.kind === "absent") {
      ctx.stderr(`tunix-rt init --check: ${repoPath}: missing; run tunix-rt init\n`);
      differs++;
      continue;
    }
    if (existing.kind === "foreign") {
      ctx.stderr(
        `tunix-rt init --check: ${repoPath}: ${existing.problems[0]?.message ?? "not written by tunix-rt init"}\n`,
      );
      differs++;
      continue;
    }
    const [planned] = await planFiles(ctx.root, dir, existing.options, build, [file]);
    if (!planned || planned.text === existing.text) {
      ctx.stderr(`tunix-rt init --check: ${repoPath}: current\n`);
      continue;
    }
    differs++;
    const why = existing.unedited
      ? "written by another tunix-rt, or for a config whose schedule has changed since: tunix-rt init --upgrade writes it anew"
      : "edited by hand since tunix-rt init wrote it: tunix-rt init --upgrade writes it anew, dropping the edit";
    ctx.stderr(`tunix-rt init --check: ${repoPath}: differs from what this tunix-rt writes (${why})\n`);
    ctx.stdout(diffOf(planned));
  }
  return differs === 0 ? ExitCode.ok : ExitCode.no;
}

/** --upgrade: each file written anew with the options its header records. */
async function upgrade(
  ctx: CliContext,
  dir: string,
  build: BuildInfo,
  pin: Pick<InitOptions, "repository" | "commit">,
  force: boolean,
): Promise<number> {
  const found = await Promise.all(
    userWorkflowFiles.map(async (file) => {
      const repoPath = path.posix.join(dir.split(path.sep).join("/"), file);
      return { file, existing: await readExisting(path.join(ctx.root, dir, file), repoPath) };
    }),
  );
  const recorded = found.flatMap((f) => (f.existing.kind === "ours" ? [f.existing.options] : []));
  const fallback = recorded[0];
  if (!fallback)
    throw new InputError(`no workflow in ${dir} was written by tunix-rt init: run tunix-rt init first`);
  const planned: PlannedFile[] = [];
  for (const { file, existing } of found) {
    const options = { ...(existing.kind === "ours" ? existing.options : fallback), ...pin };
    planned.push(...(await planFiles(ctx.root, dir, options, build, [file])));
  }
  // An upgrade is asked for by name: it writes over hand edits too, and says which; a file
  // init did not write stays refused without --force.
  const foreign = planned.filter((p) => p.existing.kind === "foreign");
  if (foreign.length > 0 && !force)
    throw new InputError(`${foreign.map(refusal).join("; ")} (nothing was written)`);
  await write(ctx, planned, true);
  for (const { file, existing } of found)
    if (existing.kind === "ours" && !existing.unedited)
      ctx.stderr(
        `tunix-rt init --upgrade: ${path.posix.join(dir.split(path.sep).join("/"), file)}: its hand edit is gone (git diff shows it)\n`,
      );
  const actions = actionPin({ ...fallback, ...pin }, build);
  ctx.stdout(`tunix-rt's actions: ${actions.repository}/actions/*@${actions.commit} (v${actions.version})\n`);
  return ExitCode.ok;
}

/** What the user does next, after the files are written. */
function nextSteps(options: InitOptions, build: BuildInfo, files: readonly PlannedFile[]): string {
  const actions = actionPin(options, build);
  const [sweep] = files;
  const waves = sweep ? (sweep.text.match(/^ {2}plan-\d+:$/gm) ?? []).length : 0;
  return `
tunix-rt's actions: ${actions.repository}/actions/<action>@${actions.commit} (v${actions.version})
The sweep has ${waves} wave${waves === 1 ? "" : "s"} for ${options.config}; its trial jobs run on [${options.runner_labels.join(", ")}],
the plan, aggregate, evidence and release jobs on GitHub-hosted ${hostedRunner}.

Next:
  1. Commit the files and push them to your default branch.
  2. Runners: register each GPU machine's runner with the labels ${options.runner_labels.join(", ")}
     (./config.sh ... --labels ${options.runner_labels.filter((l) => l !== "self-hosted").join(",") || "gpu"}), one runner per GPU.
  3. Secrets (Settings > Secrets and variables > Actions): HF_TOKEN for gated weights;
     TRAINER_ENV for more (NAME=value lines); APP_ID and APP_PRIVATE_KEY (a GitHub App) or
     PR_TOKEN if evidence pull requests should start workflows.
  4. Settings > Actions > General > Workflow permissions: allow GitHub Actions to create
     pull requests (or use the App token).
  5. Protect your default branch (a ruleset or branch protection): require the status check
     "${verdictName}" with its expected source set to GitHub Actions, so a status from
     any other app or token does not count; and keep workflow files out of pushed branches
     (a push ruleset restricting .github/workflows/**), since a workflow on a branch of this
     repository could post that status itself.
  6. ${
    options.attest === false
      ? "Evidence is not signed (--no-attest): the evidence check verifies what it can recompute,\n     and a pull request that rewrites evidence consistently is not caught by a signature."
      : "Signed evidence: the aggregate job signs it with GitHub's artifact attestations (public\n     repositories on every plan; private ones on GitHub Enterprise Cloud), and the evidence\n     check requires the signature. A private repository's are made by GitHub's own Sigstore\n     instance: commit its roots (gh attestation trusted-root > .github/tunix-rt-trusted-root.jsonl)\n     and run init again with --sigstore-root .github/tunix-rt-trusted-root.jsonl. Without\n     attestations on your plan, run init again with --no-attest."
  }
  7. Start a sweep: Actions > tunix-rt sweep > Run workflow
     (gh workflow run tunix-rt-sweep.yml).
Run \`npx tunix-rt init --check\` in CI: it fails when these files are no longer what the
installed tunix-rt writes; \`npx tunix-rt init --upgrade\` writes them anew.
`;
}
