/**
 * What a pull request does to submission_runs/, from the paths it changes (the diff of its
 * base and head commits): the evidence folders to verify, and every entry that is not
 * evidence tunix-rt writes, each a problem on its path. Every changed entry is accounted
 * for: a loose file, a dot-folder or a folder not named as a run_version, a symbolic link or
 * a submodule anywhere, a file an evidence folder does not hold. Pure.
 */
import { isSafeRunVersion, runVersionRule } from "../config/config.js";
import type { Problem } from "../errors.js";
import { gradesFileName } from "../grading/grades.js";
import { attestationFileName, evidenceFileNames } from "./schemas.js";

/** The folder of evidence folders, at the repository root. */
export const evidenceDir = "submission_runs";

/** One changed path: its status (A, M, D, T) and its mode after the change. */
export interface ChangedPath {
  status: string;
  newMode: string;
  path: string;
}

/** What a pull request does to submission_runs/. */
export interface EvidenceChanges {
  /** Evidence folders (run_versions) with changes, in name order: verified unless gone in the head. */
  folders: string[];
  /** Every changed entry that is not evidence tunix-rt writes. */
  problems: Problem[];
  /** Changed paths outside submission_runs/. */
  outside: number;
}

/** The modes of a plain file in git: the only entries an evidence folder holds. */
export const fileModes = new Set(["100644", "100755"]);

/** Whether a path inside an evidence folder is one tunix-rt writes there. */
export function isEvidenceMember(inside: string): boolean {
  if (
    (evidenceFileNames as readonly string[]).includes(inside) ||
    inside === "leaderboard.md" ||
    inside === gradesFileName ||
    inside === attestationFileName
  )
    return true;
  return /^charts\/[a-z][a-z0-9-]{0,63}\.svg$/.test(inside);
}

/** What an entry of a mode is, for messages. */
function modeName(mode: string): string | undefined {
  if (mode === "120000") return "a symbolic link";
  if (mode === "160000") return "a submodule";
  if (mode === "040000") return "a folder";
  return undefined;
}

/** Sorts changed paths into evidence folders and problems (see the module's comment). */
export function evidenceChanges(changes: readonly ChangedPath[]): EvidenceChanges {
  const folders = new Set<string>();
  const problems: Problem[] = [];
  let outside = 0;
  const prefix = `${evidenceDir}/`;
  for (const change of changes) {
    const { path: file } = change;
    if (file !== evidenceDir && !file.startsWith(prefix)) {
      outside++;
      continue;
    }
    // A deletion leaves nothing to account for; the folder it leaves is verified whole.
    const deleted = change.status === "D";
    const odd = deleted ? undefined : modeName(change.newMode);
    if (file === evidenceDir) {
      if (!deleted)
        problems.push({
          file,
          path: "",
          message: `is ${odd ?? "a file"}; expected a folder of evidence folders`,
        });
      continue;
    }
    const [name = "", ...rest] = file.slice(prefix.length).split("/");
    const inside = rest.join("/");
    if (rest.length === 0) {
      if (!deleted)
        problems.push({
          file,
          path: "",
          message: `is ${odd ?? "a loose file"} in ${evidenceDir}/; it holds only evidence folders, one per run_version`,
        });
      continue;
    }
    if (!isSafeRunVersion(name)) {
      if (!deleted)
        problems.push({
          file,
          path: "",
          message: `is in ${name.startsWith(".") ? "a dot-folder" : "a folder"} whose name ${JSON.stringify(name)} is no run_version (${runVersionRule}); ${evidenceDir}/ holds only evidence folders`,
        });
      continue;
    }
    folders.add(name);
    if (deleted) continue;
    if (odd || !fileModes.has(change.newMode)) {
      problems.push({
        file,
        path: "",
        message: `is ${odd ?? `an entry of mode ${change.newMode}`}; an evidence folder holds plain files only`,
      });
    } else if (!isEvidenceMember(inside)) {
      problems.push({
        file,
        path: "",
        message: `is not a file tunix-rt writes into an evidence folder (${evidenceFileNames.join(", ")}, ${gradesFileName}, leaderboard.md, ${attestationFileName}, charts/<name>.svg)`,
      });
    }
  }
  return { folders: [...folders].sort(), problems, outside };
}
