/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { assetUrl, type AssetName } from './static-assets.ts';

/** A speech bubble, as a data: URL (the CSP allows data: images, and /static has no icon file). */
const ICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Cpath fill='%236d5dfc' " +
  "d='M6 4h20a4 4 0 0 1 4 4v12a4 4 0 0 1-4 4H14l-7 6v-6H6a4 4 0 0 1-4-4V8a4 4 0 0 1 4-4z'/%3E%3C/svg%3E";

/**
 * The HTML shell: no inline script or style, so the Content-Security-Policy can forbid them. app.js comes first:
 * deferred scripts run in document order, so it can finish the stream URL before htmx processes the page. A page's
 * own feature scripts (`scripts`) follow it, so they find `window.threadchat` (app.js) in place.
 */
export const Layout = ({ title, children, scripts = [] }: { title: string; children: Child; scripts?: AssetName[] }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
      <meta name="color-scheme" content="light dark" />
      {/* The page pushes no htmx history, so htmx need not take over back/forward navigation. */}
      <meta name="htmx-config" content="history:false" />
      <meta name="theme-color" content="#f6f5fb" media="(prefers-color-scheme: light)" />
      <meta name="theme-color" content="#16151d" media="(prefers-color-scheme: dark)" />
      <title>{title}</title>
      <link rel="icon" href={ICON} />
      <link rel="stylesheet" href={assetUrl('app.css')} />
      <script src={assetUrl('app.js')} defer></script>
      {scripts.map((name) => (
        <script src={assetUrl(name)} defer></script>
      ))}
      <script src={assetUrl('htmx.min.js')} defer></script>
      <script src={assetUrl('hx-sse.min.js')} defer></script>
    </head>
    <body>{children}</body>
  </html>
);
