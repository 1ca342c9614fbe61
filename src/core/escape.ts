/**
 * One escaping rule per place a string from evidence or a trainer is shown (evidence is
 * hostile input: a fork's pull request carries it byte for byte). Every writer of that place
 * passes such strings through its function here, and test/hostile/escaping.test.ts runs
 * every output against one list of payloads.
 *
 *  - `lineText`: a terminal or a job log. Control characters (CR, LF, ESC, ...), the line
 *    and paragraph separators and the bidirectional controls are written as `\uXXXX`, so a
 *    value stays on its line, moves no cursor, reorders nothing and cannot start a workflow command (`::warning::`, `::add-mask::`,
 *    `::stop-commands::`) on a line of its own.
 *  - `logLine`: a whole line of a job log: `lineText`, and a line that would still start with
 *    `::` gets a space in front, so only the action's own commands are commands.
 *  - `markdownCode`: the same, as a code span (names, paths, ids).
 *  - `markdownText`: Markdown that GitHub renders (job summaries, pull request bodies,
 *    leaderboard.md), in the middle of a line: HTML and inline Markdown syntax shown as the
 *    characters they are, links,
 *    images and bare URLs not made links, `@name` and `@org/team` not made mentions (a mention
 *    in a pull request body notifies people), `#12` not made an issue reference, one line
 *    (line breaks read as spaces), and a table cell's `|` escaped.
 */

/**
 * Control characters, the line and paragraph separators, and the bidirectional controls
 * (which reorder what a terminal or a browser shows: "Trojan Source"), written as `\uXXXX`.
 */
export function lineText(text: string): string {
  return text.replace(
    /[\p{Cc}\p{Zl}\p{Zp}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A job log line that is no workflow command unless the action means it: see the module's comment. */
export function logLine(text: string): string {
  const line = lineText(text);
  return line.startsWith("::") ? ` ${line}` : line;
}

/** Line breaks (and the spaces around them) as one space: Markdown reads a break as a block's end. */
const oneLine = (text: string) => text.replace(/\s*[\r\n\u2028\u2029]+\s*/g, " ");

/** The zero-width space that keeps `@name`, `www.` and `://` from being linked. */
const zwsp = "\u200b";

/**
 * The Markdown punctuation that opens inline syntax in the middle of a line (emphasis, code,
 * links and images, a table cell's end, GFM's `~` strikethrough), written with a backslash
 * (CommonMark: any ASCII punctuation may be). `<` (HTML, autolinks) is an entity already.
 * The text goes after something of ours on its line, so what only matters at a line's start
 * (`#`, `-`, `1.`, `>`) stays as it is, and so does a `_` inside a word, which emphasizes
 * nothing (`learning_rate`): numbers, ids and parameter names read as they are in the raw file.
 */
const markdownSyntax = /[\\`*[\]|~]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu;

/** Text for GitHub-rendered Markdown, in the middle of a line: see the module's comment. */
export function markdownText(text: string): string {
  return (
    lineText(oneLine(text))
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(markdownSyntax, (c) => `\\${c}`)
      .replace(/@/g, `@${zwsp}`)
      // `#12` and `owner/repo#12` would link (and note the mention on) an issue.
      .replace(/#(?=\w)/g, `#${zwsp}`)
      .replace(/:\/\//g, `:${zwsp}//`)
      .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${zwsp}.`)
  );
}

/**
 * Text as a Markdown code span, in the middle of a line: a fence of one more backtick than
 * the text's longest run of them, a table cell's `|` escaped (GitHub splits a table row on it
 * even inside a code span), one line. Nothing inside a code span is HTML, a link or a mention.
 */
export function markdownCode(text: string): string {
  const body = lineText(oneLine(text)).replace(/\|/g, "\\|");
  let longest = 0;
  for (const run of body.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = "`".repeat(longest + 1);
  const pad = body.startsWith("`") || body.endsWith("`") ? " " : "";
  return `${fence}${pad}${body}${pad}${fence}`;
}
