/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';

/** The HTML shell: no inline script or style, so the Content-Security-Policy can forbid them. */
export const Layout = ({ title, children }: { title: string; children: Child }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <title>{title}</title>
      <link rel="stylesheet" href="/static/app.css" />
      <script src="/static/htmx.min.js" defer></script>
      <script src="/static/hx-sse.min.js" defer></script>
      <script src="/static/app.js" defer></script>
    </head>
    <body>{children}</body>
  </html>
);
