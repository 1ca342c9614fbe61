/**
 * The rules under which a `pull_request_target` workflow runs no code of the pull request,
 * after GitHub Security Lab's "Keeping your GitHub Actions and workflows secure Part 1:
 * Preventing pwn requests" (https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/):
 * the workflow and the code it runs come from the base; the pull request's head, when checked
 * out at all, is data in a folder of its own, without credentials, that nothing executes.
 *
 *  - triggered by pull_request_target only (no pull_request, whose workflow file is the
 *    pull request's own);
 *  - read-only permissions at the top; in every job read-only but for `statuses: write` (a
 *    verdict posted as a commit status, which runs nothing); no secrets; GitHub-hosted runners;
 *  - no filter (`paths`, `paths-ignore`, `branches`, `types`) on the trigger: a required
 *    check whose workflow is skipped stays pending, and the pull request can never merge;
 *  - the code checkout (the workspace root) is the base: no `repository`, and `ref` the
 *    pull request's base commit (github.event.pull_request.base.sha; github.sha, the
 *    default branch's tip under pull_request_target since December 2025, is refused);
 *  - the pull request's head is not checked out at all: its commit is read as data by the
 *    base's own action (releases of actions/checkout after v5.0.0 refuse a fork's head under
 *    pull_request_target without allow-unsafe-pr-checkout); where a workflow does check it
 *    out, the checkout has a `path` of its own, `persist-credentials: false`, and comes after
 *    the base checkout, and it is still a finding;
 *  - no `uses: ./<pr folder>/...`, no step or job `working-directory` inside the pr folder
 *    (except as an input of the base's own action, which reads it);
 *  - in `run:` scripts, a line that names the pr folder only lists or compares it (a `for`
 *    over a glob, `${var#folder/}`, `[ -d ]`, `ls`, `diff -rq`, `git diff --no-index`), and
 *    no line runs a package manager, an interpreter, or a file named by a variable.
 *
 * A workflow not triggered by pull_request_target gives no finding.
 */
import { parse } from "yaml";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  "working-directory"?: string;
}
interface Job {
  "runs-on"?: unknown;
  permissions?: unknown;
  defaults?: { run?: { "working-directory"?: string } };
  steps?: Step[];
}

/** What the pull request's head is checked out as: the checkout step's path. */
export interface PrCheckout {
  job: string;
  path: string;
}

const checkout = /^actions\/checkout@/;
const baseRefs = new Set([`\${{ github.event.pull_request.base.sha }}`]);
const headRepo = /\$\{\{\s*github\.event\.pull_request\.head\.(repo\.full_name|sha|ref)\s*\}\}/;
const executes =
  /(^|[;&|]\s*|\b(?:then|do|else)\s+)(npm|npx|node|yarn|pnpm|corepack|python3?|pip3?|uv|make|bash|sh|zsh|source|\.|eval|exec|sudo|docker|cargo|go)\s/;
const runsVariablePath = /(^|[;&|]\s*|\b(?:then|do|else)\s+)"?\$\{?\w+\}?[/"]?\S*(\s|$)/;

/** The folders of the pull request's checkouts, by job. */
export function prCheckouts(workflow: { jobs?: Record<string, Job> }): PrCheckout[] {
  const found: PrCheckout[] = [];
  for (const [id, job] of Object.entries(workflow.jobs ?? {}))
    for (const step of job.steps ?? [])
      if (step.uses && checkout.test(step.uses) && isHeadCheckout(step))
        found.push({ job: id, path: String(step.with?.path ?? ".") });
  return found;
}

function isHeadCheckout(step: Step): boolean {
  return Object.values(step.with ?? {}).some((v) => typeof v === "string" && headRepo.test(v));
}

/** Whether a path lies in the folder (`pr`, `pr/x`, `./pr/x`). */
function under(folder: string, p: string): boolean {
  const norm = p.replace(/^\.\//, "").replace(/\/+$/, "");
  return norm === folder || norm.startsWith(`${folder}/`);
}

/** Whether a `run:` line that names the pr folder only lists or compares it. */
function readsOnly(line: string): boolean {
  const l = line.trim();
  return (
    /^for \w+ in [^;]+; do$/.test(l) ||
    /^\w+="\$\{\w+#[^}]*\}"$/.test(l) ||
    /^\[ -[de] "?[^\]]*"? \] (\|\| continue|&& \w+)$/.test(l) ||
    /^ls( -[a-zA-Z]+)* /.test(l) ||
    /^(if ! )?diff -rq /.test(l) ||
    /^(if ! )?git diff --no-index /.test(l)
  );
}

/** Everything that breaks the rules above, one line each; empty when the workflow keeps them. */
export function auditPullRequestTarget(text: string): string[] {
  const workflow = parse(text) as {
    on?: unknown;
    permissions?: unknown;
    jobs?: Record<string, Job>;
  };
  const on = workflow.on;
  const events = typeof on === "string" ? [on] : Array.isArray(on) ? on.map(String) : Object.keys(on ?? {});
  if (!events.includes("pull_request_target")) return [];
  const out: string[] = [];
  if (events.includes("pull_request"))
    out.push("on: pull_request too: on it the workflow file is the pull request's own");
  if (/\bsecrets\./.test(text)) out.push("uses secrets: a pull_request_target workflow must use none");
  const trigger = (on as Record<string, unknown> | undefined)?.pull_request_target;
  if (trigger && typeof trigger === "object")
    for (const filter of Object.keys(trigger))
      out.push(
        `on.pull_request_target.${filter}: a required check whose workflow is skipped stays pending; run on every pull request`,
      );
  if (!readOnly(workflow.permissions)) out.push("permissions: the top must be read-only");

  const heads = prCheckouts(workflow);
  for (const [id, job] of Object.entries(workflow.jobs ?? {})) {
    const where = `jobs.${id}`;
    if (!readOnly(job.permissions, ["statuses"]))
      out.push(`${where}.permissions: must be read-only, but for statuses: write`);
    const labels = Array.isArray(job["runs-on"]) ? job["runs-on"] : [job["runs-on"]];
    if (labels.some((l) => typeof l !== "string" || l.includes("self-hosted") || l.includes(`\${{`)))
      out.push(`${where}.runs-on: must be a GitHub-hosted runner`);
    const steps = job.steps ?? [];
    const folders = heads.filter((h) => h.job === id).map((h) => h.path);
    let baseSeen = false;
    steps.forEach((step, i) => {
      const at = `${where}.steps[${i}]`;
      if (step.uses && checkout.test(step.uses)) {
        if (isHeadCheckout(step)) {
          out.push(
            `${at}: checks out the pull request's head; read its commit as data instead (the verify action fetches it): actions/checkout after v5.0.0 refuses a fork's head here without allow-unsafe-pr-checkout`,
          );
          const p = String(step.with?.path ?? ".");
          if (p === "." || p === "" || p.includes(".."))
            out.push(`${at}: the pull request's checkout needs a path of its own (not the workspace root)`);
          if (step.with?.["persist-credentials"] !== false && step.with?.["persist-credentials"] !== "false")
            out.push(`${at}: the pull request's checkout needs persist-credentials: false`);
          if (!baseSeen) out.push(`${at}: the pull request's checkout must come after the base checkout`);
        } else {
          const p = String(step.with?.path ?? ".");
          if (p === "." || p === "") {
            baseSeen = true;
            if (step.with?.repository !== undefined && step.with.repository !== `\${{ github.repository }}`)
              out.push(`${at}: the base checkout must be this repository`);
            if (!baseRefs.has(String(step.with?.ref)))
              out.push(
                `${at}: the base checkout's ref must be \${{ github.event.pull_request.base.sha }} (github.sha is the default branch's tip under pull_request_target)`,
              );
          }
        }
      }
      for (const folder of folders) {
        if (step.uses && under(folder, step.uses.replace(/^\.\//, "")) && step.uses.startsWith("./"))
          out.push(`${at}: uses ${step.uses}: runs code from the pull request's checkout`);
        if (step["working-directory"] && under(folder, step["working-directory"]))
          out.push(
            `${at}: working-directory ${step["working-directory"]}: runs inside the pull request's checkout`,
          );
        if (
          step.run &&
          job.defaults?.run?.["working-directory"] &&
          under(folder, job.defaults.run["working-directory"])
        )
          out.push(`${at}: runs inside the pull request's checkout (defaults.run.working-directory)`);
      }
      if (step.run) {
        step.run.split("\n").forEach((line, n) => {
          const l = line.trim();
          if (l === "" || l.startsWith("#")) return;
          if (executes.test(l))
            out.push(`${at}.run line ${n + 1}: runs a program that could execute files: ${l}`);
          else if (runsVariablePath.test(l) && !/^\w+=/.test(l))
            out.push(`${at}.run line ${n + 1}: runs a command named by a variable: ${l}`);
          for (const folder of folders) {
            const names = new RegExp(
              `(^|[\\s"'=(#%:])(\\./)?${folder.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(/|["'\\s]|$)`,
            );
            if (names.test(l) && !readsOnly(l))
              out.push(
                `${at}.run line ${n + 1}: names the pull request's checkout in something other than a read: ${l}`,
              );
          }
        });
      }
    });
  }
  return out;
}

/** Read-only permissions, but for the scopes in `writable`, which may also be `write`. */
function readOnly(permissions: unknown, writable: readonly string[] = []): boolean {
  if (
    permissions === "read-all" ||
    (permissions && typeof permissions === "object" && Object.keys(permissions).length === 0)
  )
    return true;
  if (permissions && typeof permissions === "object" && !Array.isArray(permissions))
    return Object.entries(permissions).every(
      ([scope, v]) => v === "read" || v === "none" || (v === "write" && writable.includes(scope)),
    );
  return false;
}
