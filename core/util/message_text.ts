/**
 * Text from untrusted files in one-line messages. Keys and parser messages
 * can carry newlines, NULs or terminal escapes from a bundle or a state
 * file; these helpers make sure none can split or forge an error line.
 *
 * @module
 */

const PLAIN = /^[A-Za-z0-9_.-]+$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/g;

/**
 * Formats a zod issue path: a key that is not plain (letters, digits, `_`,
 * `-`, `.`) is quoted as a JSON string.
 *
 * @example
 * ```ts
 * import { fieldPath } from "./message_text.ts";
 * fieldPath(["annotations", "remoteproc.name"]); // "annotations.remoteproc.name"
 * fieldPath(["annotations", "a\nb"]); // 'annotations."a\\nb"'
 * ```
 *
 * @param path The path segments.
 * @returns `(top level)` for an empty path, else the dotted path.
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  return path.map((key) =>
    typeof key === "number"
      ? String(key)
      : typeof key === "string" && PLAIN.test(key)
      ? key
      : JSON.stringify(String(key))
  ).join(".");
}

/**
 * Escapes control characters (`\n` -> `\\n`, NUL -> `\\u0000`) so that
 * the text stays on one line.
 *
 * @example
 * ```ts
 * import { oneLine } from "./message_text.ts";
 * oneLine("a\nb"); // "a\\nb"
 * ```
 *
 * @param text Any text.
 * @returns The text with every control character escaped.
 */
export function oneLine(text: string): string {
  return text.replace(CONTROL, (c) => JSON.stringify(c).slice(1, -1));
}
