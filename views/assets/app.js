/*
 * The room page's core, served as /static/app.js: who is writing, every message taken in once (no duplicate, in
 * id order), scrolling, the live stream's life (its URL, reconnects, resets) and your name. These share one state,
 * hence one file over 250 lines; each further feature is a script of its own that follows this one and uses
 * window.threadchat (views/room.tsx lists them). The layout loads it deferred and before htmx: deferred scripts run
 * in document order once the page is parsed, so the stream URL below is complete (client id, name) before htmx
 * processes the page. Everything a user typed reaches the DOM as text (textContent), or as the server's rendering of
 * its Markdown (an edit's `html`, escaped there), never as markup of its own.
 */
(() => {
  'use strict';
  const app = document.querySelector('.app[data-room]');
  if (!app) return keepStatusConnected();
  document.documentElement.classList.add('js');

  const $ = (id) => document.getElementById(id);
  const room = app.dataset.room;
  const list = $('messages');
  const statusEl = $('status');
  const sendForm = $('send');
  const textBox = $('text');
  const nameField = sendForm.elements.namedItem('name');
  const nameForm = $('name-form');
  const nameInput = $('name-input');
  const nameLabel = $('name-label');
  const nameSubmit = $('name-submit');
  const nameCancel = $('name-cancel');
  const meButton = $('me');
  const jump = $('jump');
  const STREAM = 'hx-sse:connect';

  // ---- Storage may be off (private modes); the page then works, it just forgets.
  const storage = (area) => ({
    get(key) {
      try { return window[area].getItem(key); } catch { return null; }
    },
    set(key, value) {
      try { window[area].setItem(key, value); } catch { /* not kept */ }
    },
  });
  const local = storage('localStorage');
  const session = storage('sessionStorage');

  // ---- Who is writing
  /**
   * One id per tab (sessionStorage survives a reload): the server keeps this client's own posts off its stream. It is
   * the tab's secret key (128 random bits): the server shows others only its digest, and renames need the key.
   */
  const clientId = (session.get('threadchat.client') || '').length >= 32 ? session.get('threadchat.client') : (() => {
    const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    session.set('threadchat.client', id);
    return id;
  })();
  /** The server's rules for names (lib/input.ts cleanName), so the name shown is the name stored. */
  const cleanName = (s) => s.replace(/[\t\n\r]/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '').replace(/ {2,}/g, ' ').trim().slice(0, 32);
  let myName = cleanName(local.get('threadchat.name') || '');

  /** Ids this browser posted here, to tell your own messages apart after a reload (bounded). */
  const MINE_KEY = `threadchat.mine.${room}`;
  const mine = new Set((local.get(MINE_KEY) || '').split(',').filter(Boolean));
  function rememberMine(id) {
    mine.add(id);
    for (const old of mine) if (mine.size > 300) mine.delete(old); else break;
    local.set(MINE_KEY, [...mine].join(','));
  }

  /**
   * Same order as the store's ids: integers ("42"), or Redis "ms-seq" ids. Numeric collation compares each run of
   * digits as a number, which is exactly that order for both shapes.
   */
  const compareIds = new Intl.Collator('en', { numeric: true }).compare;

  // ---- Messages: every message, however it arrived (history, stream, own post), passes through decorate().
  const isMsg = (el) => el instanceof HTMLElement && el.classList.contains('msg');
  const handled = new WeakSet();
  const seen = new Set();
  let dupes = 0;
  list.dataset.dupes = '0';

  /** A reply to your post can land after a newer message from the stream: keep the list in id order. */
  function placeInOrder(li) {
    let before = null;
    for (let p = li.previousElementSibling; p; p = p.previousElementSibling) {
      if (!isMsg(p)) continue;
      if (compareIds(p.dataset.id, li.dataset.id) > 0) before = p;
      else break;
    }
    if (before) before.before(li);
  }

  /** Every message passes here once; message-look.js (times, links, grouping) and the rest see it by its event. */
  function decorate(li, live) {
    handled.add(li);
    seen.add(li.dataset.id);
    if (mine.has(li.dataset.id)) li.classList.add('mine');
    if (live) {
      placeInOrder(li);
      li.classList.add('new');
    }
    li.dispatchEvent(new CustomEvent('chat:message', { bubbles: true, detail: { live, mine: li.classList.contains('mine') } }));
  }

  /**
   * What the page's other scripts (one file per feature, loaded after this one) use of it. They listen for
   * `chat:message` on the list, `chat:name` on the document, and for the stream's named events through onStream.
   */
  window.threadchat = {
    room, clientId, list, local,
    name: () => myName,
    notice: (text) => notice(text),
    onStream: (name, handler) => on(name, handler),
    rememberMine: (id) => rememberMine(id),
    /** Just after this page's own reconnect, joins are people reconnecting too: not news. */
    reconnectedLately: () => Date.now() < quietUntil,
  };

  for (const li of list.querySelectorAll('.msg')) decorate(li, false);

  // Runs before the browser paints, so a duplicate is never seen; data-dupes lets tests check the server sent none.
  new MutationObserver((records) => {
    let added = 0;
    let own = false;
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (!isMsg(node) || handled.has(node) || !node.isConnected) continue;
        if (seen.has(node.dataset.id)) {
          node.remove();
          list.dataset.dupes = String(++dupes);
          continue;
        }
        // Older messages scrolled back to (scroll-back.js marks them data-older) are history, not arrivals.
        const live = !('older' in node.dataset);
        decorate(node, live);
        if (!live) continue;
        added++;
        own ||= node.classList.contains('mine');
      }
    }
    if (added) arrived(added, own);
  }).observe(list, { childList: true });

  // ---- Scrolling: follow new messages while the reader is at the bottom; otherwise offer a jump.
  let pinned = true;
  let unseen = 0;
  const toBottom = () => { list.scrollTop = list.scrollHeight; };
  let lastTop = 0;
  let lastHeight = 0;
  list.addEventListener('scroll', () => {
    // Off the bottom lets go of it, unless the list only grew under a reader who had not moved: a scroll event lands
    // at the next frame, and in a burst more messages may have come since the last toBottom().
    if (list.scrollHeight - list.scrollTop - list.clientHeight < 80) pinned = true;
    else if (list.scrollTop < lastTop || list.scrollHeight === lastHeight) pinned = false;
    lastTop = list.scrollTop;
    lastHeight = list.scrollHeight;
    if (pinned) {
      unseen = 0;
      jump.hidden = true;
    }
  }, { passive: true });
  // The list shrinks when the composer grows or a phone keyboard opens: stay at the bottom if we were there.
  new ResizeObserver(() => pinned && toBottom()).observe(list);
  /** A tab left open for days would hold every message: past this many, the oldest go (only while at the bottom). */
  const KEEP = 1000;
  function trim() {
    const items = list.querySelectorAll('.msg, .notice');
    for (let i = 0; i < items.length - KEEP; i++) {
      seen.delete(items[i].dataset.id); // the stream only moves forward: a dropped id does not come back
      items[i].remove();
    }
    // What is above the oldest message shown changed (scroll-back.js puts a way back to them there).
    if (items.length > KEEP) list.dispatchEvent(new CustomEvent('chat:trimmed'));
  }
  function arrived(count, own) {
    if (pinned || own) {
      trim();
      return toBottom();
    }
    unseen += count;
    jump.textContent = `${unseen} new message${unseen === 1 ? '' : 's'} ↓`;
    jump.hidden = false;
  }
  jump.addEventListener('click', () => list.scrollTo({ top: list.scrollHeight, behavior: 'smooth' }));
  const anchor = location.hash.startsWith('#m-') && document.getElementById(location.hash.slice(1));
  // Opened at a message (a search result): the reader is there, not at the bottom, until they scroll down to it.
  if (anchor) {
    pinned = false;
    anchor.scrollIntoView({ block: 'center' });
  } else toBottom();

  function notice(text) {
    const li = document.createElement('li');
    li.className = 'notice';
    li.textContent = text;
    list.append(li);
    if (pinned) toBottom();
    return li;
  }

  // ---- The stream: an hx-sse element whose URL carries where to start and the name; the tab's client id, a secret,
  // goes in a header (htmx:before:request below), never in a URL that logs and proxies keep.
  let stream = $('stream');
  const rendered = new URL(stream.getAttribute(STREAM), location.href);
  /** The last message id the page holds from the server: where a fresh connection resumes. */
  let lastStreamId = rendered.searchParams.get('lastEventId') || '0';
  function streamUrl() {
    const url = new URL(rendered);
    url.searchParams.set('lastEventId', lastStreamId);
    if (myName) url.searchParams.set('name', myName);
    else url.searchParams.delete('name');
    return url.pathname + url.search;
  }
  stream.setAttribute(STREAM, streamUrl());

  // htmx starts on a timer once its script has run. Until it has processed the page, a new URL is simply read then;
  // and if it ran before hx-sse.min.js arrived (scripts can arrive in any order), nothing connected: connect now.
  let htmxStarted = false;
  let parsed = false;
  const ensureConnected = () => htmxStarted && parsed && !stream.hasAttribute('data-htmx-powered') && htmx.process(stream);
  document.addEventListener('htmx:after:process', (e) => e.target === document.body && ((htmxStarted = true), ensureConnected()));
  document.addEventListener('DOMContentLoaded', () => ((parsed = true), ensureConnected()));

  /**
   * Opens a new connection in a new element (a name the open stream could not take, a first connect that failed).
   * The old one is cleaned up by htmx (a forced re-process without the connect attribute) and then detached: hx-sse's
   * reconnect loop stops once its element leaves the page, where re-processing the same element would leave it running.
   */
  function reconnect() {
    const old = stream;
    if (!htmxStarted) return old.setAttribute(STREAM, streamUrl());
    const next = document.createElement('div');
    for (const attr of ['id', 'hidden', 'hx-config', 'hx-target', 'hx-swap']) next.setAttribute(attr, old.getAttribute(attr) ?? '');
    next.setAttribute(STREAM, streamUrl());
    stream = next; // events from the old element are ignored from here on
    old.removeAttribute(STREAM);
    htmx.process(old, true);
    old.replaceWith(next);
    setState('connecting');
    htmx.process(next);
  }

  /**
   * hx-sse reconnects a dropped stream with its first request's URL (ctx.request.action): kept here so a rename in
   * place can point later reconnects at the new name.
   */
  let streamRequest = null;
  const followName = () => streamRequest && (streamRequest.action = streamUrl());

  const fromStream = (event) => event.target === stream;
  const STATES = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };
  function setState(state) {
    statusEl.dataset.state = state;
    statusEl.textContent = STATES[state];
  }
  setState('connecting');

  let failures = 0;
  let retryTimer = 0;
  /** Just after our own reconnect (say the server restarted), joins are people reconnecting too: no notices. */
  let quietUntil = 0;
  /** hx-sse retries a stream that dropped, not a first connect that failed: that one is ours to retry. */
  function retrySoon() {
    setState('reconnecting');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(reconnect, Math.min(30_000, 1000 * 2 ** failures++) * (0.8 + Math.random() * 0.4));
  }

  const on = (name, handler) => document.addEventListener(name, (e) => fromStream(e) && handler(e));
  on('htmx:before:request', (e) => {
    streamRequest = e.detail.ctx.request;
    streamRequest.headers['X-Client-Id'] = clientId; // kept by hx-sse for its reconnects
  });
  on('htmx:sse:before:connection', (e) => e.detail.connection.attempt > 0 && setState('reconnecting'));
  on('htmx:sse:after:connection', (e) => {
    if (e.detail.connection.attempt > 0) quietUntil = Date.now() + 10_000;
    failures = 0;
    setState('live');
  });
  on('htmx:sse:error', () => setState('reconnecting'));
  on('htmx:sse:close', retrySoon); // hx-sse gave up on this element (it never should): start over
  on('htmx:error', retrySoon);
  on('htmx:before:swap', (e) => {
    if ((e.detail.ctx.response?.status ?? 200) < 300) return;
    e.preventDefault(); // an error answer (503: server full) is not a message
    retrySoon();
  });
  on('htmx:sse:before:message', (e) => {
    const { event, id } = e.detail.message;
    if (!event && id) lastStreamId = id;
  });
  on('bye', () => setState('reconnecting')); // the server is restarting; hx-sse reconnects
  on('delete', (e) => {
    let deleted;
    try { deleted = JSON.parse(e.detail.data); } catch { return; }
    if (typeof deleted?.id === 'string') document.getElementById(`m-${deleted.id}`)?.remove();
  });
  /**
   * An edit: the new text as the server rendered it for this html stream (`html`: its Markdown, views/markdown.ts,
   * raw HTML off, so everything typed arrives escaped; the one markup this page takes from a string, and only from
   * its own server's stream), else as text; and one "(edited)" mark after the time (views/message.tsx).
   */
  on('edit', (e) => {
    let edit;
    try { edit = JSON.parse(e.detail.data); } catch { return; }
    if (typeof edit?.id !== 'string' || typeof edit.text !== 'string') return;
    const li = document.getElementById(`m-${edit.id}`);
    const text = li?.querySelector('.text');
    if (!text) return;
    if (typeof edit.html === 'string') text.innerHTML = edit.html;
    else text.textContent = edit.text;
    if (!li.querySelector('.edited')) {
      const mark = document.createElement('span');
      mark.className = 'edited';
      mark.textContent = '(edited)';
      if (Number.isFinite(edit.edited)) mark.title = `edited ${new Date(edit.edited).toISOString()}`;
      li.querySelector('.meta')?.append(' ', mark);
    }
    li.dispatchEvent(new CustomEvent('chat:edited', { bubbles: true })); // links made again (message-look.js), mentions marked (attention.js)
  });
  on('reset', (e) => {
    let reset = {};
    try { reset = JSON.parse(e.detail.data); } catch { /* a reset all the same */ }
    if (reset.reason !== 'unknown') return notice('Some older messages are no longer kept.');
    // The server's history was reset (a restart without storage, a wiped data directory): what this page shows
    // is gone there; the recent history follows.
    list.replaceChildren();
    lastStreamId = '0';
    notice('The server was reset; showing its history from here.');
  });

  // ---- Your name: asked once, then remembered.
  function setName(name) {
    myName = name;
    local.set('threadchat.name', name);
    if (nameField) nameField.value = name; // none when signed in: the name is the identity's
    const b = document.createElement('b');
    b.textContent = name;
    meButton.replaceChildren('as ', b);
    meButton.hidden = false;
    document.dispatchEvent(new CustomEvent('chat:name'));
  }
  /**
   * Shows the name step (a first visit: the message box waits for it) or a rename (the box stays, with its draft),
   * or the message box alone; focus follows, except unasked on a touch screen (it opens the keyboard).
   */
  const FIRST_ASK = [nameLabel.textContent, nameSubmit.textContent];
  function askName(ask, focus = matchMedia('(pointer: fine)').matches) {
    const renaming = ask && Boolean(myName);
    nameForm.hidden = !ask;
    sendForm.hidden = ask && !renaming;
    nameCancel.hidden = !renaming;
    [nameLabel.textContent, nameSubmit.textContent] = renaming ? [nameLabel.dataset.rename, nameSubmit.dataset.rename] : FIRST_ASK;
    if (ask) nameInput.value = myName;
    if (focus) (ask ? nameInput : textBox).focus();
  }
  nameForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = cleanName(nameInput.value);
    if (!name) return nameInput.reportValidity();
    const changed = name !== myName;
    setName(name);
    askName(false, true);
    if (changed) renaming = renaming.then(rename); // one at a time, so the last name given is the one kept
  });
  let renaming = Promise.resolve();
  /**
   * A new name is a rename in place: the open stream takes it (PUT …/members/me, with the key) and the room sees "alice is
   * now alicia", not a leave and a join. With no open stream yet (404: still connecting) or no answer, a new
   * connection carries it in its ?name=.
   */
  async function rename() {
    followName();
    try {
      const res = await fetch(`/rooms/${room}/members/me`, {
        method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-Client-Id': clientId }, body: JSON.stringify({ name: myName }),
      });
      if (res.ok) return;
    } catch { /* the server is unreachable: the reconnect below retries */ }
    reconnect();
  }
  nameForm.addEventListener('keydown', (e) => e.key === 'Escape' && myName && askName(false));
  nameCancel.addEventListener('click', () => askName(false, true));
  meButton.addEventListener('click', () => askName(true, true));
  // Signed in (accounts, jwt): the name is the identity's, shown and never asked; there is nothing to rename.
  const signedInAs = app.dataset.me;
  if (signedInAs) {
    setName(signedInAs);
    meButton.disabled = true;
    meButton.title = `Signed in as ${signedInAs}`;
    askName(false);
  } else {
    if (myName) setName(myName);
    askName(!myName);
  }

  /**
   * The status page: hx-sse retries a stream that dropped, not a first connect that failed (a 503 while the server
   * has no room): that one is retried here, in a new element, as the room page does its own (reconnect(), above),
   * keeping what the page shows meanwhile.
   */
  function keepStatusConnected() {
    let live = document.getElementById('status-live');
    if (!live) return;
    let failures = 0;
    let timer = 0;
    const renew = () => {
      const old = live;
      const next = document.createElement('div');
      for (const attr of ['id', 'class', 'hx-sse:connect', 'hx-swap']) {
        const value = old.getAttribute(attr);
        if (value !== null) next.setAttribute(attr, value);
      }
      next.append(...old.childNodes);
      live = next;
      old.removeAttribute('hx-sse:connect');
      htmx.process(old, true);
      old.replaceWith(next);
      htmx.process(next);
    };
    const retry = () => {
      clearTimeout(timer);
      timer = setTimeout(renew, Math.min(30_000, 1000 * 2 ** failures++));
    };
    const onLive = (name, handler) => document.addEventListener(name, (e) => e.target === live && handler(e));
    onLive('htmx:error', retry);
    onLive('htmx:sse:close', retry);
    onLive('htmx:before:swap', (e) => {
      if ((e.detail.ctx.response?.status ?? 200) < 300) return;
      e.preventDefault(); // a refusal (503) is no snapshot
      retry();
    });
    onLive('htmx:sse:after:connection', () => (failures = 0));
  }
})();
