// The one error type of target planning: `code` for programs, `token` to point at the input.

export type TargetErrorCode = 'syntax' | 'range' | 'scope' | 'limit' | 'resolve' | 'empty';

const SHOWN_CHARS = 60;

export class TargetError extends Error {
  /** The exact bad token as the user typed it ('' for empty input). */
  readonly token: string;
  readonly code: TargetErrorCode;

  /** Like Error, the message comes first; build it with targetError() to get the usual form. */
  constructor(message: string, token: string, code: TargetErrorCode) {
    super(message);
    this.name = 'TargetError';
    this.token = token;
    this.code = code;
  }
}

/** A TargetError whose message is `"<token>": <detail>`, the token shortened and escaped for display. */
export function targetError(code: TargetErrorCode, token: string, detail: string): TargetError {
  return new TargetError(`${quoteToken(token)}: ${detail}`, token, code);
}

/** Quotes a token for a message: long tokens cut to 60 characters + '…', control characters escaped. */
export function quoteToken(token: string): string {
  let shown = token;
  if (shown.length > SHOWN_CHARS + 4) {
    // Never cut a surrogate pair in half.
    const cut = /[\uD800-\uDBFF]/.test(shown[SHOWN_CHARS - 1]) ? SHOWN_CHARS - 1 : SHOWN_CHARS;
    shown = shown.slice(0, cut) + '…';
  }
  // Tokens end up in logs and terminals: keep escape sequences and newlines out.
  // eslint-disable-next-line no-control-regex
  shown = shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${shown}"`;
}

/** 33554432 -> '33,554,432' (independent of the locale and ICU data). */
export function formatCount(n: number | bigint): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
