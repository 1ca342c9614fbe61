/** kaggle_output_log.txt's rules: not empty, and not the template it replaces. */
import { quote } from "../../errors.js";
import type { VerifyContext } from "./context.js";

/** The text of kaggle_output_log.txt. */
export function checkOutputLog(ctx: VerifyContext, text: string): void {
  const name = "kaggle_output_log.txt";
  ctx.seen.add(name);
  if (text.trim() === "") {
    ctx.add({ file: name, path: "", message: "is empty; expected the best trial's output log" });
    return;
  }
  // The M34 template's markers: a log that still holds them was never replaced by a real one.
  const lines = text.split("\n");
  const index = lines.findIndex((l) => /^\s*(PLACEHOLDER:|Status:\s*TEMPLATE\b)/.test(l));
  if (index >= 0) {
    ctx.add({
      file: name,
      line: index + 1,
      path: "",
      message: `holds the template line ${quote(lines[index]?.trim())}; expected the best trial's output log`,
    });
  }
}
