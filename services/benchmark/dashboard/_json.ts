/**
 * JSON that is safe inside an HTML `<script>` element.
 * @module
 */

/**
 * `JSON.stringify(value)` with `<`, `>`, `&` and the line separators U+2028/U+2029 written as
 * `\uXXXX` escapes, so that no string in the data can close the `<script>` element it sits in
 * (`</script>`) or open a comment (`<!--`); `JSON.parse` reads it back unchanged.
 *
 * @param value Any JSON-serialisable value.
 * @returns The JSON text.
 * @example
 * ```ts
 * import { scriptJson } from "./_json.ts";
 * console.log(scriptJson({ name: "</script>" })); // {"name":"\u003c/script\u003e"}
 * ```
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
