import { describe, expect, it } from "vitest";
import { lineRedactor, redact, redactDeep } from "../src/core/redact.js";

const key = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
  "AAAAMwAAAAtzc2gtZWQyNTUxOQAAACD",
  "-----END OPENSSH PRIVATE KEY-----",
];

/** What a streamed rewrite gives: each line through one redactor, joined again. */
const byLines = (text: string, secrets: string[] = []) =>
  text.split("\n").map(lineRedactor(secrets)).join("\n");

describe("redaction", () => {
  it("hides a private key over many lines when a log is redacted line by line", () => {
    const secrets = ["hunter22secret"];
    // Each line alone: only the BEGIN line matches a shape; the body would pass.
    expect(key.map((line) => redact(line, secrets)).join("\n")).toMatch(/b3BlbnNz/);
    expect(byLines(["step 1", ...key, "step 2 token=hunter22secret"].join("\n"), secrets)).toBe(
      "step 1\n***\n***\n***\n***\nstep 2 token=***",
    );
    // Text after the END marker on its line stays; later lines are redacted as usual.
    expect(
      byLines([key[0], "body", `${key[3]} after`, "next hf_abcdefghijklmnopqrstuvwxyz0123456789"].join("\n")),
    ).toBe("***\n***\n*** after\nnext ***");
    // BEGIN and END on one line; and a block that never ends hides the rest, as the
    // whole-text pattern does.
    expect(byLines(`x ${key[0]} body ${key[3]} y\nz`)).toBe("x *** y\nz");
    expect(byLines(["before", key[0], "body", "more"].join("\n"))).toBe("before\n***\n***\n***");
    expect(redact(["before", key[0], "body", "more"].join("\n"))).toBe("before\n***");
  });

  it("redacts every string inside a record, keys and other values as they are", () => {
    const record = {
      argv: ["train", "--token", "hunter22secret"],
      error: null,
      n: 3,
      nested: { e: "x hunter22secret" },
    };
    expect(redactDeep(record, ["hunter22secret"])).toEqual({
      argv: ["train", "--token", "***"],
      error: null,
      n: 3,
      nested: { e: "x ***" },
    });
  });
});
