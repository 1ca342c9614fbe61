/**
 * The README is a landing page and the reference lives in docs/: every relative link of
 * README.md and docs/*.md must reach a file of the repository, and every #anchor a heading of
 * the page it names, by GitHub's slug rule (the heading's text lower-cased, punctuation but
 * `-` and `_` dropped, spaces as `-`, a repeated slug numbered `-1`, `-2`, ...). Links are
 * read with a Markdown parser, so code blocks and code spans are left alone. The README links
 * every page of docs/.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { marked, type Token, type Tokens } from "marked";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers/cli.js";

const docsDir = path.join(repoRoot, "docs");
const pages = [
  "README.md",
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];

/** Every token of a Markdown tree, depth first: inline tokens, list items and table cells too. */
function* walk(tokens: readonly Token[]): Generator<Token> {
  for (const token of tokens) {
    yield token;
    const t = token as {
      tokens?: Token[];
      items?: Tokens.ListItem[];
      header?: Tokens.TableCell[];
      rows?: Tokens.TableCell[][];
    };
    if (t.tokens) yield* walk(t.tokens);
    if (token.type === "list") for (const item of t.items ?? []) yield* walk([item]);
    if (token.type === "table") {
      for (const cell of t.header ?? []) yield* walk(cell.tokens);
      for (const row of t.rows ?? []) for (const cell of row) yield* walk(cell.tokens);
    }
  }
}

/** The text of inline tokens as GitHub renders it (code spans' text, links' text, no markup). */
function plain(tokens: readonly Token[]): string {
  return tokens
    .map((token) => {
      const t = token as Partial<{ tokens: Token[]; text: string }>;
      if (t.tokens && t.tokens.length > 0) return plain(t.tokens);
      return token.type === "codespan" || token.type === "text" || token.type === "escape"
        ? (t.text ?? "")
        : "";
    })
    .join("");
}

/** GitHub's anchor of a heading's text. */
function slug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

const cache = new Map<string, Token[]>();
function tokensOf(file: string): Token[] {
  let tokens = cache.get(file);
  if (!tokens) {
    tokens = marked.lexer(readFileSync(path.join(repoRoot, file), "utf8"));
    cache.set(file, tokens);
  }
  return tokens;
}

/** The anchors of a Markdown file's headings, repeated ones numbered as GitHub numbers them. */
function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const token of walk(tokensOf(file))) {
    if (token.type !== "heading") continue;
    const base = slug(plain((token as Tokens.Heading).tokens));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The links of a Markdown file that stay in the repository (not https: or mailto:), as written. */
function relativeLinks(file: string): string[] {
  const links: string[] = [];
  for (const token of walk(tokensOf(file))) {
    if (token.type !== "link" && token.type !== "image") continue;
    const href = (token as Tokens.Link).href;
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto:
    links.push(href);
  }
  return links;
}

/** Why a link of `file` does not resolve, or undefined when it does. */
function broken(file: string, href: string): string | undefined {
  const hash = href.indexOf("#");
  const target = decodeURIComponent(hash === -1 ? href : href.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(href.slice(hash + 1));
  const resolved =
    target === "" ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
  if (resolved.startsWith("../")) return `${href}: leaves the repository`;
  if (!existsSync(path.join(repoRoot, resolved))) return `${href}: ${resolved} does not exist`;
  if (anchor === undefined) return undefined;
  if (!resolved.endsWith(".md")) return `${href}: an anchor into ${resolved}, which is not Markdown`;
  if (!anchorsOf(resolved).has(anchor))
    return `${href}: ${resolved} has no heading whose anchor is #${anchor}`;
  return undefined;
}

describe("links of README.md and docs/", () => {
  it("the slug rule is GitHub's", () => {
    expect(slug("Use it on GitHub: `tunix-rt init`")).toBe("use-it-on-github-tunix-rt-init");
    expect(slug("W&B sweeps")).toBe("wb-sweeps");
    expect(slug("primary_score")).toBe("primary_score");
    expect(slug("`actions/verify-evidence`")).toBe("actionsverify-evidence");
    expect(slug("Successive halving (`sweep-sh.yaml`)")).toBe("successive-halving-sweep-shyaml");
  });

  for (const file of pages) {
    it(`every relative link and #anchor of ${file} resolves`, () => {
      const links = relativeLinks(file);
      expect(links.map((href) => broken(file, href)).filter(Boolean)).toEqual([]);
    });
  }

  it("the README links every page of docs/", () => {
    const linked = new Set(relativeLinks("README.md").map((href) => href.split("#")[0]));
    expect(pages.slice(1).filter((page) => !linked.has(page))).toEqual([]);
  });

  it("finds a broken anchor and a missing file", () => {
    // The README's links are read, those in its tables and lists too (the docs table: 10).
    expect(relativeLinks("README.md").length).toBeGreaterThan(20);
    expect(broken("README.md", "docs/samplers.md#waves-and-successive-halving")).toBeUndefined();
    expect(broken("README.md", "#waves-and-successive-halving")).toMatch(/has no heading/);
    expect(broken("docs/config.md", "samplers.md#no-such-heading")).toMatch(/has no heading/);
    expect(broken("docs/config.md", "nowhere.md")).toMatch(/does not exist/);
  });
});
