/*
 * Scroll back, served as /static/scroll-back.js. The first item of #messages is a sentinel (views/older.tsx) that
 * htmx swaps, once it scrolls into view, for the page of older messages and what is before them: the next
 * sentinel, or a notice that the room starts there or that retention removed the rest. This script keeps the
 * reader's place while that happens, and marks the older messages so app.js does not take them for new arrivals.
 */
(() => {
  'use strict';
  const chat = window.threadchat;
  if (!chat) return;
  const { list } = chat;
  const isSentinel = (el) => el instanceof Element && el.parentElement === list && el.classList.contains('older');

  // The page app.js keeps at most 1000 messages; it may have dropped the oldest since this sentinel was made, so
  // ask for what is before the oldest message still shown, leaving no hole.
  list.addEventListener('htmx:config:request', (e) => {
    const oldest = list.querySelector('.msg');
    if (!isSentinel(e.target) || !oldest) return;
    const url = new URL(e.detail.ctx.request.action, location.href);
    url.searchParams.set('before', oldest.dataset.id);
    e.detail.ctx.request.action = url.pathname + url.search;
  });

  /** The first message the reader sees, and where on the screen: it stays there when older ones go in above. */
  let anchor = null;
  const restore = () => {
    if (!anchor) return;
    list.scrollTop += anchor.li.getBoundingClientRect().top - anchor.top;
    anchor = null;
  };

  list.addEventListener('htmx:before:swap', (e) => {
    if (!isSentinel(e.target)) return;
    if ((e.detail.ctx.response?.status ?? 200) >= 300) {
      e.preventDefault(); // an error answer is not a page of messages: keep the sentinel
      e.target.textContent = 'Older messages could not be loaded. Scroll down and up again to retry.';
      return;
    }
    for (const task of e.detail.tasks) {
      for (const li of task.fragment?.querySelectorAll?.('.msg') ?? []) li.dataset.older = ''; // history, not news
    }
    const top = list.getBoundingClientRect().top;
    const li = [...list.querySelectorAll('.msg')].find((m) => m.getBoundingClientRect().bottom > top);
    anchor = li ? { li, top: li.getBoundingClientRect().top } : null;
  });
  // Fired on the first new item as soon as it is in. The frame callback runs after app.js has decorated the new
  // messages (its MutationObserver, a microtask) and before the frame is drawn and intersections are checked: the
  // reader sees no jump, and the new sentinel is checked where it ends up (above the screen), so it does not fire
  // at once.
  list.addEventListener('htmx:before:settle', () => anchor && requestAnimationFrame(restore));
  // app.js dropped the oldest messages of a long session: a "start of the room" line above them is no longer
  // true, and the way back to them is a sentinel again (it asks for what is before the oldest message still shown).
  list.addEventListener('chat:trimmed', () => {
    const edge = list.querySelector(':scope > .edge');
    if (!edge || list.querySelector(':scope > .older')) return;
    const sentinel = document.createElement('li');
    sentinel.className = 'older';
    sentinel.setAttribute('hx-get', edge.dataset.older); // its before= becomes the oldest message still shown
    sentinel.setAttribute('hx-trigger', 'intersect');
    sentinel.setAttribute('hx-swap', 'outerHTML');
    sentinel.textContent = 'Loading older messages…';
    edge.replaceWith(sentinel);
    htmx.process(sentinel);
  });
  list.addEventListener('htmx:error', (e) => {
    if (isSentinel(e.target)) e.target.textContent = 'Older messages could not be loaded. Scroll down and up again to retry.';
  });
})();
