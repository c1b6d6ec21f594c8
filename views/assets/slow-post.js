/*
 * Why a message is slow to send, for the room page, served as /static/slow-post.js after app.js. Over plain
 * HTTP/1.1 a browser opens at most six connections to one server, and every open room window's live stream holds
 * one: with six windows open, a send waits for a connection that never frees. When a send has waited SLOW_MS,
 * this says so, instead of a silent spinner. Over HTTPS the server speaks HTTP/2, where every window's streams
 * share one connection.
 */
(() => {
  'use strict';
  if (!window.threadchat) return;
  const form = document.getElementById('send');
  const notice = document.getElementById('slow-post');
  const SLOW_MS = 3000;
  /** How this page reached the server: 'http/1.1', 'h2', 'h3', or '' where the browser does not say. */
  const protocol = () => performance.getEntriesByType('navigation')[0]?.nextHopProtocol ?? '';

  let timer = 0;
  function show() {
    const http1 = !/^h[23]/.test(protocol());
    notice.dataset.reason = http1 ? 'http1' : 'slow';
    notice.textContent = http1
      ? 'Still sending: too many windows of this chat are open over plain HTTP. Each one keeps a live connection, ' +
        'and browsers allow six per server, so this message waits for one to close. Close a window, or use the ' +
        'server over HTTPS, where every window shares one connection.'
      : 'Still sending: the server is slow to answer.';
    notice.hidden = false;
  }
  form.addEventListener('htmx:before:request', () => {
    clearTimeout(timer);
    timer = setTimeout(show, SLOW_MS);
  });
  form.addEventListener('htmx:finally:request', () => {
    clearTimeout(timer);
    notice.hidden = true;
  });
})();
