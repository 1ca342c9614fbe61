/**
 * The small SVG vocabulary the charts are written in: escaped text, elements from attribute
 * objects, coordinates rounded to a tenth of a pixel (so the same data gives the same bytes),
 * and axes drawn from a scale's ticks. Scales, ticks and paths come from d3 (d3-scale,
 * d3-shape), which need no DOM; only the SVG elements are written here.
 */

/** Escapes text for SVG and HTML (element content and attribute values alike). */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A coordinate as SVG gets it: a tenth of a pixel is finer than any screen shows. */
export function px(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

type Attr = string | number | undefined;

/** An element: attributes (numbers rounded with `px`, undefined left out) and children. */
export function el(tag: string, attrs: Record<string, Attr>, ...children: string[]): string {
  const parts = Object.entries(attrs)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === "number" ? px(v) : esc(v)}"`)
    .join("");
  return children.length ? `<${tag}${parts}>${children.join("")}</${tag}>` : `<${tag}${parts}/>`;
}

/** A text element. */
export function text(x: number, y: number, content: string, attrs: Record<string, Attr> = {}): string {
  return el("text", { x, y, ...attrs }, esc(content));
}

/** A number for a label: up to 3 significant digits, no trailing zeros, exponent for tiny or huge ones. */
export function label(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e5) return value.toExponential(1).replace(/\.0e/, "e").replace("e+", "e");
  return String(Number(value.toPrecision(3)));
}

/** A whole chart: a titled SVG document of the given size, with the shared styles. */
export function svgDocument(width: number, height: number, title: string, body: string[]): string {
  const style =
    "text{font:11px system-ui,-apple-system,'Segoe UI',sans-serif;fill:#333}" +
    ".title{font-size:13px;font-weight:600}.axis{stroke:#888;stroke-width:1}.grid{stroke:#eee}" +
    ".muted{fill:#777}.label{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">${el("title", {}, esc(title))}<style>${style}</style>${el("rect", { width, height, fill: "#fff" })}${body.join("")}</svg>\n`;
}

/** A tick of an axis: where, and what it says. */
export interface Tick {
  at: number;
  label: string;
}

/** A horizontal axis at `y` from `x0` to `x1` with its ticks below it, and a caption. */
export function axisBottom(
  y: number,
  x0: number,
  x1: number,
  ticks: readonly Tick[],
  caption?: string,
): string {
  const marks = ticks.map(
    (t) =>
      el("line", { class: "axis", x1: t.at, x2: t.at, y1: y, y2: y + 4 }) +
      text(t.at, y + 15, t.label, { "text-anchor": "middle" }),
  );
  const name = caption
    ? text((x0 + x1) / 2, y + 30, caption, { "text-anchor": "middle", class: "muted" })
    : "";
  return el("line", { class: "axis", x1: x0, x2: x1, y1: y, y2: y }) + marks.join("") + name;
}

/** A vertical axis at `x` from `y0` (bottom) to `y1` (top), ticks to its left with grid lines to `gridTo`. */
export function axisLeft(
  x: number,
  y0: number,
  y1: number,
  ticks: readonly Tick[],
  { caption, gridTo }: { caption?: string; gridTo?: number } = {},
): string {
  const marks = ticks.map(
    (t) =>
      (gridTo === undefined ? "" : el("line", { class: "grid", x1: x, x2: gridTo, y1: t.at, y2: t.at })) +
      el("line", { class: "axis", x1: x - 4, x2: x, y1: t.at, y2: t.at }) +
      text(x - 6, t.at + 3.5, t.label, { "text-anchor": "end" }),
  );
  const name = caption
    ? text(x - 36, (y0 + y1) / 2, caption, {
        "text-anchor": "middle",
        class: "muted",
        transform: `rotate(-90 ${px(x - 36)} ${px((y0 + y1) / 2)})`,
      })
    : "";
  return marks.join("") + el("line", { class: "axis", x1: x, x2: x, y1: y0, y2: y1 }) + name;
}
