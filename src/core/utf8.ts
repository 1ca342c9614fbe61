/**
 * Where bytes stop being UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF), streamed chunk by chunk, with the line (as universal newlines count them: "\n",
 * "\r\n" or a lone "\r") and the byte offset of the first bad byte: a file in Latin-1 is
 * refused where it goes wrong, not decoded into replacement characters.
 */

/** The first bytes that are not UTF-8: their 0-based offset in the stream, line and value. */
export interface Utf8Fault {
  offset: number;
  line: number;
  byte: number;
  /** What is wrong there, in words. */
  what: string;
}

export class Utf8Checker {
  #offset = 0;
  #breaks = 0;
  #afterCr = false;
  /** Continuation bytes still expected, the range of the next one, and where the sequence began. */
  #need = 0;
  #lo = 0x80;
  #hi = 0xbf;
  #start = 0;
  #startByte = 0;
  #startLine = 1;
  #fault: Utf8Fault | undefined;

  /** Checks the next bytes; the first fault, once found, is kept. */
  push(bytes: Uint8Array): Utf8Fault | undefined {
    if (this.#fault) return this.#fault;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      const at = this.#offset + i;
      if (this.#need > 0) {
        if (b < this.#lo || b > this.#hi)
          return this.#fail(this.#start, this.#startLine, this.#startByte, "a sequence cut short");
        this.#need--;
        this.#lo = 0x80;
        this.#hi = 0xbf;
        continue;
      }
      if (b === 0x0a) {
        if (!this.#afterCr) this.#breaks++;
        this.#afterCr = false;
        continue;
      }
      this.#afterCr = b === 0x0d;
      if (b === 0x0d) this.#breaks++;
      if (b < 0x80) continue;
      this.#start = at;
      this.#startByte = b;
      this.#startLine = this.#breaks + 1;
      if (b >= 0xc2 && b <= 0xdf) this.#need = 1;
      else if (b >= 0xe0 && b <= 0xef) {
        this.#need = 2;
        if (b === 0xe0) this.#lo = 0xa0;
        if (b === 0xed) this.#hi = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        this.#need = 3;
        if (b === 0xf0) this.#lo = 0x90;
        if (b === 0xf4) this.#hi = 0x8f;
      } else
        return this.#fail(
          at,
          this.#breaks + 1,
          b,
          b < 0xc0 ? "a continuation byte with nothing to continue" : "a byte UTF-8 never uses",
        );
    }
    this.#offset += bytes.length;
    return undefined;
  }

  /** The end of the stream: a sequence still open is a fault. */
  end(): Utf8Fault | undefined {
    if (this.#fault) return this.#fault;
    if (this.#need > 0)
      return this.#fail(
        this.#start,
        this.#startLine,
        this.#startByte,
        "a sequence cut short by the end of the file",
      );
    return undefined;
  }

  #fail(offset: number, line: number, byte: number, what: string): Utf8Fault {
    this.#fault = { offset, line, byte, what };
    return this.#fault;
  }
}

/** The first fault of some bytes, or undefined when they are UTF-8. */
export function utf8Fault(bytes: Uint8Array): Utf8Fault | undefined {
  const checker = new Utf8Checker();
  return checker.push(bytes) ?? checker.end();
}

/** A fault in words, after `file:line: `. */
export function describeUtf8Fault(fault: Utf8Fault): string {
  return `is not UTF-8 text: byte 0x${fault.byte.toString(16).padStart(2, "0")} at byte offset ${fault.offset} (${fault.what}); save the file as UTF-8`;
}
