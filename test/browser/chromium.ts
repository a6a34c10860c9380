/**
 * Debian's chromium driven by playwright-core, for browser tests.
 * @module
 */
import { type Browser, chromium } from "playwright-core";

/** Where Debian's `chromium` package installs the browser; `CHROMIUM_PATH` overrides it. */
export const DEFAULT_CHROMIUM_PATH = "/usr/bin/chromium";

/** Options of {@linkcode withChromium}. */
export interface WithChromiumOptions {
  /** The browser executable (default: env `CHROMIUM_PATH`, else {@linkcode DEFAULT_CHROMIUM_PATH}). */
  readonly executablePath?: string;
}

/**
 * Launches headless chromium, calls `fn` with it and closes it afterwards, also when `fn`
 * throws. A missing browser is an error that says how to install it (browser tests fail rather
 * than skip: CI installs chromium).
 *
 * @param fn What to do with the browser.
 * @param options Which executable.
 * @returns What `fn` returns.
 * @example
 * ```ts ignore
 * import { withChromium } from "./chromium.ts";
 * await withChromium(async (browser) => {
 *   const page = await browser.newPage();
 *   await page.setContent("<p>hi</p>");
 * });
 * ```
 */
export async function withChromium<T>(
  fn: (browser: Browser) => Promise<T>,
  options: WithChromiumOptions = {},
): Promise<T> {
  const executablePath = options.executablePath ?? Deno.env.get("CHROMIUM_PATH") ??
    DEFAULT_CHROMIUM_PATH;
  try {
    const info = await Deno.stat(executablePath);
    if (!info.isFile) throw new Error("not a file");
  } catch (error) {
    throw new Error(
      `Cannot launch chromium: ${executablePath} is missing (${
        error instanceof Error ? error.message : error
      }); install Debian's chromium with 'apt-get install -y --no-install-recommends chromium' ` +
        "or set CHROMIUM_PATH",
    );
  }
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
  });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}
