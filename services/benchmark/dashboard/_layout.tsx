/** @jsxImportSource hono/jsx */
/**
 * The page frame every dashboard page shares: head, navigation, main landmark.
 * @module
 */
import type { Child } from "hono/jsx";
import type { JSX } from "hono/jsx/jsx-runtime";

/** Where the dashboard's links point. */
export interface Links {
  /** Prefix of dashboard pages and assets ("" when mounted at "/"). */
  readonly base: string;
  /** Prefix of the API routes ("" when the API is on the same origin at "/v1"). */
  readonly api: string;
}

/** Props of {@linkcode Layout}. */
export interface LayoutProps {
  /** The page's title (after "ModelPress · "). */
  readonly title: string;
  /** Links. */
  readonly links: Links;
  /** Which navigation entry is current. */
  readonly current?: "models" | "regressions";
  /** Whether the page draws charts (loads uPlot and the chart script). */
  readonly charts?: boolean;
  /** The page's content. */
  readonly children?: Child;
}

/**
 * The page frame.
 *
 * @param props Title, links, current entry, whether it has charts, content.
 * @returns The whole HTML document.
 * @example
 * ```tsx ignore
 * <Layout title="Models" links={{ base: "", api: "" }}><h1>Models</h1></Layout>
 * ```
 */
export function Layout(props: LayoutProps): JSX.Element {
  const { base } = props.links;
  const aria = (entry: LayoutProps["current"]): { "aria-current"?: "page" } =>
    props.current === entry ? { "aria-current": "page" } : {};
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`ModelPress · ${props.title}`}</title>
        <link rel="icon" href="data:," />
        {props.charts ? <link rel="stylesheet" href={`${base}/assets/uplot.min.css`} /> : null}
        <link rel="stylesheet" href={`${base}/assets/dashboard.css`} />
        {props.charts ? <script src={`${base}/assets/uplot.iife.min.js`} defer></script> : null}
        <script src={`${base}/assets/dashboard.js`} defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href={`${base}/`}>ModelPress benchmarks</a>
          <nav aria-label="Dashboard">
            <a href={`${base}/`} {...aria("models")}>Models</a>
            <a href={`${base}/regressions`} {...aria("regressions")}>Open regressions</a>
          </nav>
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
