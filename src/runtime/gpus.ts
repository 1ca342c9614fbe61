import { execFile } from "node:child_process";
import { findProgram } from "./preflight.js";

/** The devices one `nvidia-smi -L` listed: what `CUDA_VISIBLE_DEVICES` may name. */
export interface GpuList {
  /** GPU indices ("0", "1", ...), in order. */
  indices: string[];
  /** GPU and MIG device UUIDs (`GPU-...`, `MIG-...`). */
  uuids: string[];
}

/**
 * Reads `nvidia-smi -L`: lines `GPU 0: <name> (UUID: GPU-...)` and, under a GPU split into
 * MIG devices, `  MIG 1g.10gb Device 0: (UUID: MIG-...)`.
 */
export function parseGpuList(text: string): GpuList {
  const indices: string[] = [];
  const uuids: string[] = [];
  for (const line of text.split("\n")) {
    const gpu = /^GPU (\d+):/.exec(line.trim());
    if (gpu?.[1] !== undefined) indices.push(gpu[1]);
    const uuid = /\(UUID: ((?:GPU|MIG)-[^)\s]+)\)/.exec(line);
    if (uuid?.[1] !== undefined) uuids.push(uuid[1]);
  }
  return { indices, uuids };
}

/** Whether `id` names a device of the list: an index, or a UUID or a unique prefix of one (as CUDA reads them). */
function names(list: GpuList, id: string): boolean {
  if (/^\d+$/.test(id)) return list.indices.includes(id);
  return list.uuids.filter((u) => u.startsWith(id)).length === 1;
}

/**
 * Checks `--gpus` ids against the devices `nvidia-smi -L` lists, when nvidia-smi is on PATH:
 * `problem`, why the ids cannot be used (one line); `note`, when nothing could check them (no
 * nvidia-smi: a machine without NVIDIA's tools, where the ids mean something else or the
 * trainer checks them); neither when they name devices of this machine.
 */
export async function checkGpuIds(
  ids: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ problem?: string; note?: string }> {
  const found = await findProgram("nvidia-smi", process.cwd(), env);
  if ("error" in found)
    return {
      note: `--gpus ${ids.join(",")} was not checked: nvidia-smi is not on PATH, so whether this machine has those devices is the trainer's to find out`,
    };
  const out = await new Promise<{ ok: true; text: string } | { ok: false; reason: string }>((resolve) => {
    execFile(found.path, ["-L"], { env, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) {
        const said = `${stderr}`.trim().split("\n")[0] || `${stdout}`.trim().split("\n")[0] || error.message;
        resolve({ ok: false, reason: said });
      } else resolve({ ok: true, text: String(stdout) });
    });
  });
  if (!out.ok) return { problem: `--gpus: nvidia-smi -L failed (${out.reason}); the devices cannot be used` };
  const list = parseGpuList(out.text);
  const unknown = ids.filter((id) => !names(list, id));
  if (unknown.length === 0) return {};
  const known = list.indices.length
    ? `this machine has ${list.indices.map((i) => `GPU ${i}`).join(", ")}${list.uuids.some((u) => u.startsWith("MIG-")) ? " (and MIG devices, by UUID)" : ""}`
    : "nvidia-smi -L lists no GPU";
  return {
    problem: `--gpus: got ${unknown.map((id) => JSON.stringify(id)).join(", ")}; ${known} (nvidia-smi -L)`,
  };
}

/**
 * Why a `--gpus` value is not a list of distinct device ids (an index, or a GPU- or MIG-
 * UUID, or a unique prefix of one), or undefined when it is: two workers on one device would
 * slow each other and share its memory.
 */
export function gpuListProblem(value: string): string | undefined {
  const ids = value.split(",").map((g) => g.trim());
  const bad = ids.find((id) => !/^(?:\d+|(?:GPU|MIG)-[0-9A-Fa-f-]+)$/.test(id));
  if (bad !== undefined)
    return `--gpus: got ${JSON.stringify(value)}; ${bad === "" ? "an empty entry" : JSON.stringify(bad)} is no device id: expected indices (0,1,2) or GPU-/MIG- UUIDs, separated by commas`;
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined)
    return `--gpus: got ${JSON.stringify(value)}; device ${twice} is given twice: each worker needs a device of its own`;
  return undefined;
}
