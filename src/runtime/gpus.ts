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
 * returns why the ids cannot be used (one line), or undefined when they can or nothing could
 * be checked (no nvidia-smi: a machine without NVIDIA's tools, where the ids mean something
 * else or the trainer checks them).
 */
export async function checkGpuIds(
  ids: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const found = await findProgram("nvidia-smi", process.cwd(), env);
  if ("error" in found) return undefined;
  const out = await new Promise<{ ok: true; text: string } | { ok: false; reason: string }>((resolve) => {
    execFile(found.path, ["-L"], { env, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) {
        const said = `${stderr}`.trim().split("\n")[0] || `${stdout}`.trim().split("\n")[0] || error.message;
        resolve({ ok: false, reason: said });
      } else resolve({ ok: true, text: String(stdout) });
    });
  });
  if (!out.ok) return `--gpus: nvidia-smi -L failed (${out.reason}); the devices cannot be used`;
  const list = parseGpuList(out.text);
  const unknown = ids.filter((id) => !names(list, id));
  if (unknown.length === 0) return undefined;
  const known = list.indices.length
    ? `this machine has ${list.indices.map((i) => `GPU ${i}`).join(", ")}${list.uuids.some((u) => u.startsWith("MIG-")) ? " (and MIG devices, by UUID)" : ""}`
    : "nvidia-smi -L lists no GPU";
  return `--gpus: got ${unknown.map((id) => JSON.stringify(id)).join(", ")}; ${known} (nvidia-smi -L)`;
}
