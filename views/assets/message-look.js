/*
 * How a message reads, for the room page, served as /static/message-look.js after app.js: times in the reader's
 * own clock, links made of URLs, and a message from the same person within five minutes grouped under the one
 * before it. It sees every message through app.js's `chat:message` event, and those already on the page at load.
 * Everything is built with DOM methods: no markup is parsed.
 */
(() => {
  'use strict';
  const chat = window.threadchat;
  if (!chat) return;
  const isMsg = (el) => el instanceof HTMLElement && el.classList.contains('msg');

  /** Text these leave alone: a link (made already), code (as typed), a mark made here before. */
  const WHOLE = new Set(['a', 'code', 'pre', 'mark']);
  /** The text nodes under `el` (the server's Markdown: paragraphs, bold, lists), outside the elements kept whole. */
  function textNodes(el) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode: (node) => node.nodeType === Node.TEXT_NODE ? NodeFilter.FILTER_ACCEPT
        : WHOLE.has(node.localName) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP,
    });
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    return nodes;
  }

  /**
   * Replaces each match of `pattern` (a /g regex) in the text of `el` with the element `build(text)` makes, except in
   * links, code and marks, which are left whole; returns whether anything matched. What people typed stays text: the
   * pieces around a match are text nodes, and `build` sets textContent. Links here, and attention.js's mentions (this
   * script comes first: views/room.tsx).
   */
  chat.wrapMatches = function wrapMatches(el, pattern, build) {
    let found = false;
    for (const node of textNodes(el)) {
      const parts = [];
      let last = 0;
      for (const match of node.data.matchAll(pattern)) {
        parts.push(node.data.slice(last, match.index), build(match[0]));
        last = match.index + match[0].length;
      }
      if (parts.length) node.replaceWith(...parts, node.data.slice(last));
      found ||= parts.length > 0;
    }
    return found;
  };

  const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const dayClock = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
  /** The server writes UTC; the reader wants their own clock (and a date when it is not today). */
  function localTime(time) {
    const date = new Date(time.dateTime);
    if (Number.isNaN(date.getTime())) return;
    time.textContent = (date.toDateString() === new Date().toDateString() ? clock : dayClock).format(date);
    time.title = fullDate.format(date);
  }
  const stamp = (li) => Date.parse(li.querySelector('time')?.dateTime ?? '');

  const LINK = /\bhttps?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]}]/g;
  /**
   * Turns http(s) URLs in a message's text into links: those the server's Markdown did not make already (it links
   * bare URLs too, views/markdown.ts), outside code.
   */
  const linkify = (el) => chat.wrapMatches(el, LINK, (url) => {
    const a = document.createElement('a');
    a.href = url;
    a.textContent = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    return a;
  });

  /** The next message from the same person within five minutes drops the repeated name and avatar. */
  function group(li) {
    const prev = li.previousElementSibling;
    const gap = prev && isMsg(prev) ? stamp(li) - stamp(prev) : Infinity;
    const same = gap >= 0 && gap < 5 * 60_000 && prev.dataset.name === li.dataset.name &&
      prev.classList.contains('mine') === li.classList.contains('mine');
    li.classList.toggle('cont', same);
  }

  /** Runs once per message, where app.js put it (a live one already in id order). */
  function look(li) {
    const time = li.querySelector('time');
    if (time) localTime(time);
    const text = li.querySelector('.text');
    if (text) linkify(text);
    group(li);
    if (isMsg(li.nextElementSibling)) group(li.nextElementSibling);
  }
  for (const li of chat.list.querySelectorAll('.msg')) look(li);
  chat.list.addEventListener('chat:message', (e) => look(e.target));
  // An edited message's text is new text (app.js): its links are made again.
  chat.list.addEventListener('chat:edited', (e) => {
    const text = e.target.querySelector('.text');
    if (text) linkify(text);
  });
})();
