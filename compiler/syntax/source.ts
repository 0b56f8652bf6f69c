// A source text with its line table: turns character offsets into SourceSpans.

import type { SourceSpan } from "../../format/spec.js";

export class SourceText {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** A span from offset `start` (inclusive) to `end` (exclusive), clamped into the text. */
  span(start: number, end: number): SourceSpan {
    const offset = Math.max(0, Math.min(Number.isFinite(start) ? start : this.text.length, this.text.length));
    const stop = Math.max(offset, Math.min(Number.isFinite(end) ? end : offset, this.text.length));
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return {
      file: this.file,
      line: low + 1,
      column: offset - this.lineStarts[low] + 1,
      offset,
      length: stop - offset,
    };
  }

  /** The position just past the last character: where "unexpected end of file" points. */
  endSpan(): SourceSpan {
    return this.span(this.text.length, this.text.length);
  }
}
