/**
 * The one place that configures Octokit for tunix-rt: `@actions/github`'s `getOctokit` (the
 * Actions ecosystem's client: the runner's API URL, `GITHUB_API_URL`, and its proxy settings,
 * `https_proxy`/`no_proxy`), with authentication, retries of transient failures (5xx, and
 * GitHub's secondary rate limits) and the user agent. Every adapter in src/github takes the
 * client this returns, so tests point it at the REST stand-in and shrink the retry delays
 * instead of sleeping.
 */
import { getOctokit } from "@actions/github";
import { retry } from "@octokit/plugin-retry";

/** The client every adapter in src/github takes (`getOctokit`'s: REST methods and pagination). */
export type GitHubClient = ReturnType<typeof getOctokit>;

/** How to build the client. */
export interface OctokitSettings {
  /** A token: the workflow's `GITHUB_TOKEN`, a PAT or a GitHub App installation token. Never logged. */
  token: string;
  /** The REST API root; default `GITHUB_API_URL` (set on every runner, GHES included), else api.github.com. */
  baseUrl?: string;
  /** How many times a 5xx (or a network error) is retried; default 3. */
  retries?: number;
  /**
   * The unit of every retry delay, in milliseconds (default 1000). A 5xx is retried after
   * 1, 4, 9, ... units; a secondary rate limit after its `retry-after` seconds, counted in
   * units. Tests pass 1 so that they never sleep for long.
   */
  retryAfterBaseMs?: number;
  /** How many times a secondary rate limit (403/429 with `retry-after`) is waited out; default 2. */
  rateLimitRetries?: number;
  /** A rate limit asking for a longer wait than this many seconds fails at once; default 300. */
  maxRateLimitWaitS?: number;
  /** The user agent; default `tunix-rt`. */
  userAgent?: string;
  /**
   * Where Octokit's own log lines go (a runner passes `core.debug` for debug). Default:
   * warnings to the console, nothing else: a failed request is logged by the request-log
   * plugin as an error line, but the adapters expect some (a 404 for a missing branch) and
   * report the rest themselves, with advice.
   */
  log?: OctokitLog;
}

/** Octokit's logger. */
export interface OctokitLog {
  debug: (message: string) => void;
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
}

const quiet = () => {};

/**
 * Statuses that a retry cannot fix. 403 and 429 are left to the rate-limit hook below, which
 * retries only real rate limits; 409 (ref conflicts, empty repository) needs a new request.
 */
const doNotRetry = [400, 401, 403, 404, 409, 410, 422, 429, 451];

/**
 * Creates the Octokit client used by every GitHub adapter: `getOctokit` with
 * `@octokit/plugin-retry` (5xx and network errors, `retries` times, waiting 1, 4, 9, ...
 * times `retryAfterBaseMs`), plus a hook that waits out secondary rate limits (a 403 or 429
 * whose answer says "secondary rate limit" or carries `retry-after`). A primary rate limit
 * (`x-ratelimit-remaining: 0` without `retry-after`) is not retried: its reset can be an hour
 * away. The token goes only into the `authorization` header; Octokit's request errors redact it.
 */
export function createOctokit(settings: OctokitSettings): GitHubClient {
  const unitMs = settings.retryAfterBaseMs ?? 1000;
  const rateLimitRetries = settings.rateLimitRetries ?? 2;
  const maxWaitS = settings.maxRateLimitWaitS ?? 300;
  const octokit = getOctokit(
    settings.token,
    {
      // Without one, getOctokit's own: the runner's GITHUB_API_URL.
      ...(settings.baseUrl === undefined ? {} : { baseUrl: settings.baseUrl.replace(/\/+$/, "") }),
      userAgent: settings.userAgent ?? "tunix-rt",
      retry: { retries: settings.retries ?? 3, retryAfterBaseValue: unitMs, doNotRetry },
      // Nothing Octokit logs carries the token (request errors redact the authorization header).
      log: settings.log ?? { debug: quiet, info: quiet, warn: (m: string) => console.warn(m), error: quiet },
    },
    retry,
  );
  octokit.hook.wrap("request", async (request, options) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(options);
      } catch (error) {
        const waitS = rateLimitWaitS(error);
        if (waitS === undefined || waitS > maxWaitS || attempt >= rateLimitRetries) throw error;
        await new Promise((resolve) => setTimeout(resolve, waitS * unitMs));
      }
    }
  });
  return octokit;
}

/**
 * Seconds to wait before retrying, when the error is a secondary rate limit; undefined for
 * anything else. GitHub's advice: honour `retry-after`; without it, wait at least a minute
 * (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api).
 */
export function rateLimitWaitS(error: unknown): number | undefined {
  const e = error as {
    status?: unknown;
    message?: unknown;
    response?: { headers?: Record<string, unknown> };
  };
  if (e === null || typeof e !== "object" || (e.status !== 403 && e.status !== 429)) return undefined;
  const headers = e.response?.headers ?? {};
  const retryAfter = Number(headers["retry-after"]);
  if (Number.isFinite(retryAfter) && retryAfter >= 0 && headers["retry-after"] !== undefined)
    return retryAfter;
  if (/secondary rate limit/i.test(String(e.message ?? ""))) return 60;
  // A primary limit (remaining 0, reset later) or a plain permission error: not retried.
  if (String(headers["x-ratelimit-remaining"]) === "0") return undefined;
  return e.status === 429 ? 60 : undefined;
}
