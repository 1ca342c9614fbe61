/**
 * The submission zip as a release asset: uploaded to the release of a tag, replacing the
 * assets of the same run version (`tunix_rt_<run_version>_*.zip`, DESIGN.md "Names").
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

/** What `uploadReleaseAsset` needs. */
export interface UploadReleaseAssetOptions {
  owner: string;
  repo: string;
  /** The release's tag (a published release: GitHub finds drafts by id only). */
  tag: string;
  /** The zip to upload; its file name is the asset's name and must match the run version's pattern. */
  file: string;
  runVersion: string;
}

/** The uploaded asset. */
export interface UploadedReleaseAsset {
  /** `browser_download_url`: the link people download from. */
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

/**
 * Uploads a submission zip to the release of `tag` and deletes the release's other assets of
 * the same run version. An asset with the very same name is deleted first (GitHub refuses
 * duplicate names); the others only after the upload succeeded, so a failed upload leaves the
 * previous zip in place. The upload goes to the release's `upload_url` as GitHub returned it
 * (uploads.github.com, or the GHES uploads path), not to the API host.
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

  let release: { id: number; upload_url: string };
  try {
    release = (await octokit.rest.repos.getReleaseByTag({ owner, repo, tag })).data;
  } catch (error) {
    if (hasStatus(error, 404)) {
      throw new GitHubApiError(
        `release ${tag} in ${full}: not found (is it published? GitHub finds draft releases by id only; or the token lacks "contents: read")`,
        404,
      );
    }
    throw describeApiError(error, { ...write, doing: `reading release ${tag}` });
  }

  const assets: AssetLike[] = await callGitHub(
    { ...write, doing: `listing the assets of release ${tag}` },
    () =>
      octokit.paginate(octokit.rest.repos.listReleaseAssets, {
        owner,
        repo,
        release_id: release.id,
        per_page: 100,
      }),
  );
  const remove = async (asset: AssetLike) =>
    callGitHub({ ...write, doing: `deleting the old asset ${asset.name}` }, () =>
      octokit.rest.repos.deleteReleaseAsset({ owner, repo, asset_id: asset.id }),
    );
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
        ? (
            await octokit.paginate(octokit.rest.repos.listReleaseAssets, {
              owner,
              repo,
              release_id: release.id,
              per_page: 100,
            })
          ).find((a) => a.name === name)
        : undefined;
    if (!leftover) throw describeApiError(error, write);
    await remove(leftover);
    uploaded = await callGitHub(write, async () => (await upload()).data as typeof uploaded);
  }

  for (const old of assets.filter((a) => a.name !== name && pattern.test(a.name))) {
    await remove(old);
    replaced.push(old.name);
  }
  return { url: uploaded.browser_download_url, id: uploaded.id, name: uploaded.name, replaced };
}
