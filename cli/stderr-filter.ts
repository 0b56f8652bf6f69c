// Drops the lines Dawn writes to stderr while it discovers adapters, which no user can act on or
// silence (npm webgpu has no log level), and passes everything else through as soon as it can:
// only a trailing fragment that may still become one of those lines waits for more input, so a
// progress bar's `\r` updates stay live. Text is handled as latin1, one character per byte, so a
// chunk boundary inside a UTF-8 character changes nothing.

/** A piece of the noise line: literal text, or one or more characters of a regex class. */
type Piece = { literal: string } | { oneOrMore: "\\w" | "\\d" };

// e.g. "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16
// to fit dynamic offset allocation limit." Narrow on purpose: any other warning is printed.
const NOISE_PIECES: Piece[] = [
  { literal: "Warning: maxDynamic" },
  { oneOrMore: "\\w" },
  { literal: "PerPipelineLayout artificially reduced from " },
  { oneOrMore: "\\d" },
  { literal: " to " },
  { oneOrMore: "\\d" },
  { literal: " to fit dynamic offset allocation limit." },
];

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const whole = (piece: Piece): string =>
  "literal" in piece ? escapeRegex(piece.literal) : `${piece.oneOrMore}+`;

/** any start of the piece, the empty one included */
const started = (piece: Piece): string =>
  "literal" in piece
    ? [...piece.literal].reduceRight((rest, char) => `(?:${escapeRegex(char)}${rest})?`, "")
    : `${piece.oneOrMore}*`;

const WHOLE_NOISE = NOISE_PIECES.map(whole).join("");

/** a complete noise line, without its "\n" (a "\r" before it is tolerated) */
const NOISE_LINE = new RegExp(`^${WHOLE_NOISE}\\r?$`);

/** text that a noise line starts with: the pieces before one in full, then a start of that one */
const NOISE_STARTS = NOISE_PIECES.map(
  (piece, i) => NOISE_PIECES.slice(0, i).map(whole).join("") + started(piece),
);
const NOISE_START = new RegExp(`^(?:${[...NOISE_STARTS, `${WHOLE_NOISE}\\r`].join("|")})$`);

/** Longer than any noise line: a fragment this long is printed even if it still matches. */
const MAX_HELD = 512;

export class StderrNoiseFilter {
  private held = "";

  /** the part of `chunk` (and of what was held back before it) to write now */
  push(chunk: string): string {
    const text = this.held + chunk;
    this.held = "";
    let out = "";
    let lineStart = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", lineStart)) {
      if (!NOISE_LINE.test(text.slice(lineStart, newline))) out += text.slice(lineStart, newline + 1);
      lineStart = newline + 1;
    }
    const fragment = text.slice(lineStart);
    if (fragment.length > 0 && fragment.length <= MAX_HELD && NOISE_START.test(fragment))
      this.held = fragment;
    else out += fragment;
    return out;
  }

  /** at the end of the stream: what was held back, since no newline can complete it any more */
  end(): string {
    const rest = this.held;
    this.held = "";
    return rest;
  }
}
