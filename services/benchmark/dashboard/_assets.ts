/**
 * The dashboard's static files: uPlot, read from the installed npm package at run time (no CDN),
 * and the dashboard's own script and style sheet, which sit beside this file.
 * @module
 */

/** One static file: its bytes and content type. */
export interface Asset {
  /** The file's contents. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** Its content type. */
  readonly contentType: string;
}

/** The asset names the dashboard serves under `/assets/`. */
export const ASSET_NAMES: readonly string[] = Object.freeze([
  "uplot.iife.min.js",
  "uplot.min.css",
  "dashboard.js",
  "dashboard.css",
]);

/**
 * The folder of the installed uPlot package's `dist/` files, found through module resolution
 * (`import.meta.resolve("uplot")` points at a file in it).
 *
 * @returns The folder's file URL, ending in "/".
 * @example
 * ```ts
 * import { uplotDistUrl } from "./_assets.ts";
 * console.log(uplotDistUrl().href.endsWith("/uplot/dist/")); // true
 * ```
 */
export function uplotDistUrl(): URL {
  return new URL("./", import.meta.resolve("uplot"));
}

/**
 * Reads the asset `name` (one of {@linkcode ASSET_NAMES}); the caller caches it.
 *
 * @param name The asset's name.
 * @param options Where uPlot's dist folder is (default: {@linkcode uplotDistUrl}).
 * @returns The asset, or null for an unknown name.
 * @example
 * ```ts
 * import { readAsset } from "./_assets.ts";
 * const css = await readAsset("uplot.min.css");
 * console.log(css?.contentType); // "text/css; charset=utf-8"
 * ```
 */
export async function readAsset(
  name: string,
  options: { readonly uplotDir?: URL } = {},
): Promise<Asset | null> {
  const dist = options.uplotDir ?? uplotDistUrl();
  const files: Record<string, URL> = {
    "uplot.iife.min.js": new URL("uPlot.iife.min.js", dist),
    "uplot.min.css": new URL("uPlot.min.css", dist),
    "dashboard.js": new URL("./dashboard_client.js", import.meta.url),
    "dashboard.css": new URL("./dashboard.css", import.meta.url),
  };
  const url = files[name];
  if (!url) return null;
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = await Deno.readFile(url);
  } catch (error) {
    throw new Error(`Cannot read dashboard asset '${name}': ${url.href}: ${error}`, {
      cause: error,
    });
  }
  const contentType = name.endsWith(".js")
    ? "text/javascript; charset=utf-8"
    : "text/css; charset=utf-8";
  return { body, contentType };
}
