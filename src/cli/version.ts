import { readFileSync } from "node:fs";

/** The toolkit's version, read from package.json beside the build (recorded in evidence). */
export const toolkitVersion: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
})();
