/**
 * The submission zip as a release asset, released the way GitHub documents for immutable
 * releases ("Best practices for publishing immutable releases": create the release as a
 * draft, attach all assets to the draft, publish the draft;
 * https://docs.github.com/code-security/supply-chain-security/understanding-your-software-supply-chain/immutable-releases).
 * Once an immutable release is published, no asset can be added, replaced or deleted, so the
 * zip goes to a draft (created, or one that exists for the tag) and the draft is published
 * last. The zip replaces the release's assets of the same run version
 * (`tunix_rt_<run_version>_*.zip`, DESIGN.md "Names"), which a draft, or a published release
 * that is not immutable, allows.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { InputError } from "../core/errors.js";
import { apiMessages, callGitHub, describeApiError, GitHubApiError, hasStatus } from "./errors.js";
import type { GitHubClient } from "./octokit.js";

/**
 * The asset names of one run version: `tunix_rt_<run_version>_<YYYY-MM-DD>_<short sha>.zip`,
 * matched whole, so `m34_v1` never matches the assets of `m34_v10` (or of `m34`).
 */
export function releaseAssetPattern(runVersion: string): RegExp {
  const escaped = runVersion.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^tunix_rt_${escaped}_\\d{4}-\\d{2}-\\d{2}_[^_]+\\.zip$`);
}

/**
 * The release of the tag is published and immutable: its assets can no longer change (GitHub
 * answers 422 to an upload or a deletion). The message says what to do instead.
 */
export class ImmutableReleaseError extends GitHubApiError {
  constructor(tag: string, repo: string) {
    super(
      `release ${tag} in ${repo} is published and immutable: GitHub lets no asset be added, replaced or deleted; release the zip under a new tag (the release workflow's tag input, for example ${tag}-2), which is drafted, given the zip, then published`,
      422,
    );
  }
}

/** A release as this module reads it (the REST API's release, the fields used). */
export interface ReleaseLike {
  id: number;
  tag_name: string;
  draft: boolean;
  /** Absent on GitHub Enterprise Server versions without immutable releases. */
  immutable?: boolean;
  upload_url: string;
  html_url: string;
  assets?: Array<{ id: number; name: string; browser_download_url: string }>;
}

/** Where a repository is, for the calls of this module. */
export interface RepoRef {
  owner: string;
  repo: string;
}

/** What `uploadReleaseAsset` needs. */
export interface UploadReleaseAssetOptions extends RepoRef {
  /** The release's tag (a published release, or a draft for the tag). */
  tag: string;
  /** The zip to upload; its file name is the asset's name and must match the run version's pattern. */
  file: string;
  runVersion: string;
  /** The release, when the caller has read it already (else it is found by its tag). */
  release?: ReleaseLike;
}

/** The uploaded asset. */
export interface UploadedReleaseAsset {
  /** `browser_download_url`: the link people download from (a draft's is `untagged-...` until published). */
  url: string;
  id: number;
  name: string;
  /** Names of the assets deleted (earlier zips of the same run version). */
  replaced: string[];
}

interface AssetLike {
  id: number;
  name: string;
}

const isPublishedImmutable = (release: ReleaseLike) => !release.draft && release.immutable === true;

/**
 * The release of a tag: the published one (`getReleaseByTag` finds only those), else the newest
 * draft whose tag is `tag` (drafts have no tag yet, so only the list of releases shows them, to
 * a token with push access). Undefined when there is none.
 */
export async function findRelease(
  octokit: GitHubClient,
  { owner, repo, tag }: RepoRef & { tag: string },
): Promise<ReleaseLike | undefined> {
  const full = `${owner}/${repo}`;
  try {
    return (await octokit.rest.repos.getReleaseByTag({ owner, repo, tag })).data;
  } catch (error) {
    if (!hasStatus(error, 404))
      throw describeApiError(error, {
        doing: `reading release ${tag}`,
        repo: full,
        permission: "contents: read",
      });
  }
  const releases = await callGitHub(
    { doing: `looking for a draft release of ${tag}`, repo: full, permission: "contents: write" },
    () => octokit.paginate(octokit.rest.repos.listReleases, { owner, repo, per_page: 100 }),
  );
  return releases.find((r) => r.draft && r.tag_name === tag);
}

/**
 * Uploads a submission zip to the release of `tag` (published, or a draft) and deletes the
 * release's other assets of the same run version. An asset with the very same name is deleted
 * first (GitHub refuses duplicate names); the others only after the upload succeeded, so a
 * failed upload leaves the previous zip in place. The upload goes to the release's
 * `upload_url` as GitHub returned it (uploads.github.com, or the GHES uploads path), not to the
 * API host.
 *
 * A published immutable release is refused before anything changes (ImmutableReleaseError);
 * so is one that GitHub refuses with 422 because it became immutable meanwhile.
 *
 * Needs `contents: write`. Errors are GitHubApiError with one line saying what to do.
 */
export async function uploadReleaseAsset(
  octokit: GitHubClient,
  options: UploadReleaseAssetOptions,
): Promise<UploadedReleaseAsset> {
  const { owner, repo, tag } = options;
  const full = `${owner}/${repo}`;
  const name = path.basename(options.file);
  const pattern = releaseAssetPattern(options.runVersion);
  if (!pattern.test(name)) {
    throw new InputError(
      `${options.file}: the zip's name must be tunix_rt_${options.runVersion}_<YYYY-MM-DD>_<short sha>.zip, so that a later upload replaces it`,
    );
  }
  const data = await readFile(options.file).catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`${options.file}: cannot read the zip (${error.code ?? error.message})`);
  });
  const write = { doing: `uploading ${name} to release ${tag}`, repo: full, permission: "contents: write" };

  const release = options.release ?? (await findRelease(octokit, { owner, repo, tag }));
  if (!release) {
    throw new GitHubApiError(
      `release ${tag} in ${full}: not found (no published or draft release has this tag; or the token lacks "contents: write", without which drafts are not listed)`,
      404,
    );
  }
  if (isPublishedImmutable(release)) throw new ImmutableReleaseError(tag, full);
  // A 422 on a release that is (now) published and immutable says that; anything else as it is.
  const failed = async (error: unknown, doing: string): Promise<GitHubApiError> => {
    if (hasStatus(error, 422)) {
      const now = await octokit.rest.repos.getRelease({ owner, repo, release_id: release.id }).then(
        (r) => r.data,
        () => undefined,
      );
      if (now && isPublishedImmutable(now)) return new ImmutableReleaseError(tag, full);
    }
    return describeApiError(error, { ...write, doing });
  };

  const listAssets = () =>
    octokit.paginate(octokit.rest.repos.listReleaseAssets, {
      owner,
      repo,
      release_id: release.id,
      per_page: 100,
    });
  const assets: AssetLike[] = await callGitHub(
    { ...write, doing: `listing the assets of release ${tag}` },
    listAssets,
  );
  const remove = async (asset: AssetLike) => {
    try {
      await octokit.rest.repos.deleteReleaseAsset({ owner, repo, asset_id: asset.id });
    } catch (error) {
      throw await failed(error, `deleting the old asset ${asset.name}`);
    }
  };
  const replaced: string[] = [];
  for (const same of assets.filter((a) => a.name === name)) {
    await remove(same);
    replaced.push(same.name);
  }

  const upload = () =>
    octokit.request({
      method: "POST",
      url: release.upload_url,
      name,
      data,
      headers: { "content-type": "application/zip", "content-length": data.length },
    });
  let uploaded: { id: number; name: string; browser_download_url: string };
  try {
    uploaded = (await upload()).data as typeof uploaded;
  } catch (error) {
    // A 502 during an upload can leave a half asset ("starter") under the name: delete it, try once more.
    const leftover =
      hasStatus(error, 422) && /already_exists|already exists/i.test(apiMessages(error).join(" "))
        ? (await listAssets()).find((a) => a.name === name)
        : undefined;
    if (!leftover) throw await failed(error, write.doing);
    await remove(leftover);
    try {
      uploaded = (await upload()).data as typeof uploaded;
    } catch (again) {
      throw await failed(again, write.doing);
    }
  }

  for (const old of assets.filter((a) => a.name !== name && pattern.test(a.name))) {
    await remove(old);
    replaced.push(old.name);
  }
  return { url: uploaded.browser_download_url, id: uploaded.id, name: uploaded.name, replaced };
}

/** What `releaseZip` needs. */
export interface ReleaseZipOptions extends RepoRef {
  /** The release's tag (`evidence/<run_version>`). */
  tag: string;
  /** The zip to upload (named `tunix_rt_<run_version>_<YYYY-MM-DD>_<short sha>.zip`). */
  file: string;
  runVersion: string;
  /**
   * The commit (or branch) a new draft's tag is created at when it is published: the commit
   * whose evidence was packaged (`GITHUB_SHA`). Unused when the tag exists. Needed only when no
   * release of the tag exists yet.
   */
  target?: string;
  /** Publish a draft once the zip is on it (default true); false leaves it for a person to publish. */
  publish?: boolean;
  /** Title and notes of a draft this call creates (default: the tag, and a line naming the run_version). */
  name?: string;
  body?: string;
}

/** What `releaseZip` did. */
export interface ReleasedZip extends UploadedReleaseAsset {
  release: {
    id: number;
    /** The release's page. */
    url: string;
    /** This call created the draft. */
    created: boolean;
    /** This call published it. */
    published: boolean;
    /** Whether it is still a draft. */
    draft: boolean;
    /** Whether it is published and immutable now. */
    immutable: boolean;
  };
}

/**
 * Releases the zip: finds the release of `tag`, or creates a draft for it at `target`, uploads
 * the zip (replacing the run version's earlier zips), then publishes the draft unless `publish`
 * is false. A published release that is not immutable (the repository does not enforce it)
 * gets the zip in place, as before immutable releases; a published immutable one is refused
 * with ImmutableReleaseError before anything changes.
 *
 * The release's `body` starts with `run_version: <run_version>`, the line the previous
 * `release: published` workflow read. Needs `contents: write`. Publishing creates the tag when
 * it does not exist; with GITHUB_TOKEN that starts no workflow (no `push` or `release` run).
 */
export async function releaseZip(octokit: GitHubClient, options: ReleaseZipOptions): Promise<ReleasedZip> {
  const { owner, repo, tag } = options;
  const full = `${owner}/${repo}`;
  let release = await findRelease(octokit, { owner, repo, tag });
  if (release && isPublishedImmutable(release)) throw new ImmutableReleaseError(tag, full);
  let created = false;
  if (!release) {
    if (!options.target) {
      throw new InputError(
        `no release has the tag ${tag} in ${full}, and no target commit was given to draft one at (GITHUB_SHA is not set)`,
      );
    }
    release = await createDraft(octokit, { ...options, target: options.target });
    created = true;
  }
  const asset = await uploadReleaseAsset(octokit, { ...options, release });
  if (!release.draft || options.publish === false) {
    return {
      ...asset,
      release: {
        id: release.id,
        url: release.html_url,
        created,
        published: false,
        draft: release.draft,
        immutable: isPublishedImmutable(release),
      },
    };
  }
  const published = await publishDraft(octokit, { owner, repo, tag, release });
  return {
    ...asset,
    // The draft's link was untagged-...; the published release's links go by the tag.
    url: published.assets?.find((a) => a.id === asset.id)?.browser_download_url ?? asset.url,
    release: {
      id: published.id,
      url: published.html_url,
      created,
      published: true,
      draft: published.draft,
      immutable: isPublishedImmutable(published),
    },
  };
}

/** Creates a draft release of the tag (no tag is made until it is published). */
async function createDraft(
  octokit: GitHubClient,
  options: ReleaseZipOptions & { target: string },
): Promise<ReleaseLike> {
  const { owner, repo, tag } = options;
  const body =
    options.body ??
    `run_version: ${options.runVersion}\n\nThe submission zip of submission_runs/${options.runVersion}, verified and packed by tunix-rt.\n`;
  try {
    const { data } = await octokit.rest.repos.createRelease({
      owner,
      repo,
      tag_name: tag,
      target_commitish: options.target,
      name: options.name ?? tag,
      body,
      draft: true,
    });
    return data;
  } catch (error) {
    const described = describeApiError(error, {
      doing: `creating the draft release ${tag}`,
      repo: `${owner}/${repo}`,
      permission: "contents: write",
    });
    if (hasStatus(error, 422)) throw withAdvice(described, tagAdvice);
    // GitHub answers 404 (or 403) when the target commit changes .github/workflows/ and the
    // token may not write workflows, which GITHUB_TOKEN never may (the endpoint's description).
    if (hasStatus(error, 403) || hasStatus(error, 404))
      throw withAdvice(
        described,
        `or, when ${options.target.slice(0, 12)} changes files under .github/workflows/ compared with the default branch, a token allowed to write workflows (GITHUB_TOKEN never is): release from the default branch`,
      );
    throw described;
  }
}

const tagAdvice = "a tag that an immutable release used can never be used again: choose a new tag";

/** The error with one more piece of advice at the end of its line. */
function withAdvice(error: GitHubApiError, advice: string): GitHubApiError {
  return new GitHubApiError(`${error.message}; ${advice}`, error.status);
}

/** Publishes a draft: GitHub creates its tag at its target (when new) and makes it immutable when the repository says so. */
async function publishDraft(
  octokit: GitHubClient,
  { owner, repo, tag, release }: RepoRef & { tag: string; release: ReleaseLike },
): Promise<ReleaseLike> {
  try {
    return (await octokit.rest.repos.updateRelease({ owner, repo, release_id: release.id, draft: false }))
      .data;
  } catch (error) {
    const described = describeApiError(error, {
      doing: `publishing the draft release ${tag} (the zip is on the draft)`,
      repo: `${owner}/${repo}`,
      permission: "contents: write",
    });
    throw hasStatus(error, 422) ? withAdvice(described, tagAdvice) : described;
  }
}
