/*
 * "alice is typing…" for the room page, served as /static/typing.js after app.js. This tab tells the room while its
 * user types (a notice at most every EVERY_MS, within the server's limit of one a second), and shows who else is
 * typing from the stream's `typing` events: each for SHOWN_MS unless another notice of theirs follows, and no
 * longer once their message arrives. The server keeps a tab's own notices off its stream, and sends a room's notices
 * in waves about 250 ms apart: after a quick send (a paste, "ok" and Enter) the notice arrives after the message it
 * announced, so a notice from someone whose message arrived less than STALE_MS ago is old news, and not shown.
 */
(() => {
  'use strict';
  const chat = window.threadchat;
  if (!chat) return;
  const box = document.getElementById('text');
  const line = document.getElementById('typing');
  const EVERY_MS = 2500;
  /** Longer than EVERY_MS, so someone who keeps typing stays shown without a flicker. */
  const SHOWN_MS = 6000;
  /** Longer than the server's wave (250 ms) and the way here; shorter than EVERY_MS, so a next message's notice shows. */
  const STALE_MS = 1000;

  let lastSent = 0;
  /** When the last notices went: never more than the server takes (three at once, then one a second). */
  const sent = [];
  box.addEventListener('input', () => {
    const name = chat.name();
    if (!name || !box.value.trim() || Date.now() - lastSent < EVERY_MS) return;
    if (sent.length === 3 && Date.now() - sent[0] < 3000) return; // quick messages one after another: enough said
    lastSent = Date.now();
    sent.push(lastSent);
    if (sent.length > 3) sent.shift();
    fetch(`/rooms/${chat.room}/typing`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Client-Id': chat.clientId },
      body: JSON.stringify({ name }),
    }).catch(() => { /* a lost notice only means nobody sees it */ });
  });
  // The box was sent: the next keystroke is a new message, worth telling at once.
  document.getElementById('send').addEventListener('submit', () => (lastSent = 0));

  /** Who is typing: name → the timer that forgets them. */
  const typists = new Map();
  /** When each name's last message arrived (bounded: the names of the last few seconds are all it needs). */
  const posted = new Map();
  function render() {
    const names = [...typists.keys()];
    line.textContent = names.length === 1 ? `${names[0]} is typing…`
      : names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
      : names.length > 2 ? 'Several people are typing…' : '';
    line.hidden = names.length === 0;
  }
  function stopped(name) {
    clearTimeout(typists.get(name));
    if (typists.delete(name)) render();
  }
  chat.onStream('typing', (e) => {
    let notice;
    try { notice = JSON.parse(e.detail.data); } catch { return; }
    const name = notice?.name;
    if (typeof name !== 'string' || name === chat.name()) return; // your own name, typing in another tab
    if (Date.now() - (posted.get(name) ?? -Infinity) < STALE_MS) return; // sent before the message that just came
    clearTimeout(typists.get(name));
    typists.set(name, setTimeout(stopped, SHOWN_MS, name));
    render();
  });
  chat.list.addEventListener('chat:message', (e) => {
    if (!e.detail.live) return;
    const name = e.target.dataset.name;
    if (posted.size > 100) posted.clear();
    posted.set(name, Date.now());
    stopped(name);
  });
})();
