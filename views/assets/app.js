/*
 * threadchat page behaviour, served as /static/app.js. The layout loads it deferred and before htmx: deferred
 * scripts run in document order once the page is parsed, so the stream URL below is complete (client id, name)
 * before htmx processes the page. One file because /static serves one script; sections follow the page's parts.
 * Everything a user typed reaches the DOM as text (textContent), never as markup.
 */
(() => {
  'use strict';
  const app = document.querySelector('.app[data-room]');
  if (!app) return;
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
  const meButton = $('me');
  const formError = $('form-error');
  const jump = $('jump');
  const membersEl = $('members');
  const countEl = $('count');
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
  /** One id per tab (sessionStorage survives a reload): the server keeps this client's own posts off its stream. */
  const clientId = session.get('threadchat.client') || (() => {
    const id = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
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

  /** A name's colour bucket; must match hue() in views/message.tsx. */
  function hue(name) {
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
    return h % 12;
  }
  const initial = (name) => (Array.from(name)[0] ?? '?').toUpperCase();

  // ---- Messages: every message, however it arrived (history, stream, own post), passes through decorate().
  const isMsg = (el) => el instanceof HTMLElement && el.classList.contains('msg');
  const handled = new WeakSet();
  const seen = new Set();
  let dupes = 0;
  list.dataset.dupes = '0';

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
  /** Turns http(s) URLs in a message's text into links, building elements (no markup is parsed). */
  function linkify(el) {
    for (const node of [...el.childNodes]) {
      if (node.nodeType !== Node.TEXT_NODE) continue;
      const parts = [];
      let last = 0;
      for (const match of node.data.matchAll(LINK)) {
        const a = document.createElement('a');
        a.href = match[0];
        a.textContent = match[0];
        a.target = '_blank';
        a.rel = 'noopener noreferrer nofollow';
        parts.push(node.data.slice(last, match.index), a);
        last = match.index + match[0].length;
      }
      if (parts.length) node.replaceWith(...parts, node.data.slice(last));
    }
  }

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

  /** The next message from the same person within five minutes drops the repeated name and avatar. */
  function group(li) {
    const prev = li.previousElementSibling;
    const gap = prev && isMsg(prev) ? stamp(li) - stamp(prev) : Infinity;
    const same = gap >= 0 && gap < 5 * 60_000 && prev.dataset.name === li.dataset.name &&
      prev.classList.contains('mine') === li.classList.contains('mine');
    li.classList.toggle('cont', same);
  }

  function decorate(li, live) {
    handled.add(li);
    seen.add(li.dataset.id);
    if (mine.has(li.dataset.id)) li.classList.add('mine');
    const time = li.querySelector('time');
    if (time) localTime(time);
    const text = li.querySelector('.text');
    if (text) linkify(text);
    if (live) {
      placeInOrder(li);
      li.classList.add('new');
    }
    group(li);
    if (isMsg(li.nextElementSibling)) group(li.nextElementSibling);
    // The page's other scripts (attention.js: unread count, mentions) see every message here, once.
    li.dispatchEvent(new CustomEvent('chat:message', { bubbles: true, detail: { live, mine: li.classList.contains('mine') } }));
  }

  /**
   * What the page's other scripts (one file per feature, loaded after this one) use of it. They listen for
   * `chat:message` on the list, and for the stream's named events through onStream.
   */
  window.threadchat = { room, clientId, list, name: () => myName, notice: (text) => notice(text), onStream: (name, handler) => on(name, handler) };

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
  list.addEventListener('scroll', () => {
    pinned = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
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
  if (anchor) anchor.scrollIntoView({ block: 'center' });
  else toBottom();

  function notice(text) {
    const li = document.createElement('li');
    li.className = 'notice';
    li.textContent = text;
    list.append(li);
    if (pinned) toBottom();
    return li;
  }

  // ---- The stream: an hx-sse element whose URL carries where to start, this tab's client id and the name.
  let stream = $('stream');
  const rendered = new URL(stream.getAttribute(STREAM), location.href);
  /** The last message id the page holds from the server: where a fresh connection resumes. */
  let lastStreamId = rendered.searchParams.get('lastEventId') || '0';
  function streamUrl() {
    const url = new URL(rendered);
    url.searchParams.set('lastEventId', lastStreamId);
    url.searchParams.set('client', clientId);
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
  on('htmx:before:request', (e) => (streamRequest = e.detail.ctx.request));
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

  // ---- Presence: who is here, and join/leave notices.
  function person(name) {
    const li = document.createElement('li');
    li.className = `person hue-${hue(name)}`;
    li.dataset.name = name;
    li.classList.toggle('you', name === myName);
    const avatar = document.createElement('span');
    avatar.className = 'avatar';
    avatar.setAttribute('aria-hidden', 'true');
    avatar.textContent = initial(name);
    const label = document.createElement('span');
    label.className = 'person-name';
    label.textContent = name;
    li.append(avatar, label);
    return li;
  }

  /** A leave followed soon by a join of the same name is a reconnect, not news: the pair is not shown. */
  const leaves = new Map();
  function announce(change) {
    if (change.name === myName) return;
    const left = change.kind === 'join' && leaves.get(change.name);
    leaves.delete(change.name);
    if (left && Date.now() - left.at < 30_000) return left.li.remove();
    if (Date.now() < quietUntil) return;
    if (change.kind === 'leave') {
      if (leaves.size > 50) leaves.clear();
      leaves.set(change.name, { li: notice(`${change.name} left`), at: Date.now() });
    } else {
      notice(change.kind === 'join' ? `${change.name} joined` : `${change.from} is now ${change.name}`);
    }
  }

  on('presence', (e) => {
    let presence;
    try { presence = JSON.parse(e.detail.data); } catch { return; }
    countEl.textContent = String(presence.count);
    membersEl.replaceChildren(...presence.members.map(person));
    for (const change of presence.changes ?? (presence.change ? [presence.change] : [])) announce(change);
  });

  // ---- Your name: asked once, then remembered.
  function setName(name) {
    myName = name;
    local.set('threadchat.name', name);
    nameField.value = name;
    const b = document.createElement('b');
    b.textContent = name;
    meButton.replaceChildren('as ', b);
    meButton.hidden = false;
    for (const p of membersEl.children) p.classList.toggle('you', p.dataset.name === name);
  }
  /** Shows the name step or the message box; focus follows, except unasked on a touch screen (it opens the keyboard). */
  function askName(ask, focus = matchMedia('(pointer: fine)').matches) {
    nameForm.hidden = !ask;
    sendForm.hidden = ask;
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
   * A new name is a rename in place: the open stream takes it (PUT …/members/:client) and the room sees "alice is
   * now alicia", not a leave and a join. With no open stream yet (404: still connecting) or no answer, a new
   * connection carries it in its ?name=.
   */
  async function rename() {
    followName();
    try {
      const res = await fetch(`/rooms/${room}/members/${clientId}`, {
        method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: myName }),
      });
      if (res.ok) return;
    } catch { /* the server is unreachable: the reconnect below retries */ }
    reconnect();
  }
  nameForm.addEventListener('keydown', (e) => e.key === 'Escape' && myName && askName(false));
  meButton.addEventListener('click', () => askName(true, true));
  if (myName) setName(myName);
  askName(!myName);

  // ---- Sending: Enter sends, Shift+Enter is a new line; the box clears at once and refills if the post fails.
  textBox.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    if (textBox.value.trim()) sendForm.requestSubmit();
  });
  if (!CSS.supports('field-sizing', 'content')) {
    textBox.addEventListener('input', () => {
      textBox.style.height = 'auto';
      textBox.style.height = `${textBox.scrollHeight + 2}px`;
    });
  }

  let sending = '';
  const showError = (message) => {
    formError.textContent = message;
    formError.hidden = !message;
  };
  sendForm.addEventListener('htmx:config:request', (e) => {
    e.detail.ctx.request.headers['X-Client-Id'] = clientId; // the body is already collected
    sending = textBox.value;
    textBox.value = '';
    textBox.dispatchEvent(new Event('input'));
    showError('');
  });
  const refill = () => {
    if (!textBox.value) textBox.value = sending;
  };
  sendForm.addEventListener('htmx:after:request', (e) => {
    const { ctx } = e.detail;
    if (ctx.response.status === 201) {
      const t = document.createElement('template');
      t.innerHTML = ctx.text; // inert: a template's content is not rendered or run
      const id = t.content.querySelector('[data-id]')?.dataset.id;
      if (id) rememberMine(id);
      return;
    }
    refill();
    let reason = '';
    try { reason = JSON.parse(ctx.text).error; } catch { /* not JSON */ }
    const wait = ctx.response.headers.get('Retry-After');
    showError(ctx.response.status === 429 ? `Slow down: try again in ${wait || 'a few'} s.` : `Not sent: ${reason || `error ${ctx.response.status}`}.`);
  });
  sendForm.addEventListener('htmx:before:swap', (e) => e.detail.ctx.response.status >= 300 && e.preventDefault());
  sendForm.addEventListener('htmx:error', () => {
    refill();
    showError('Not sent: the server cannot be reached. Your message is still here.');
  });

  // ---- Room switcher: `My Room` goes to /rooms/my-room (the same rule as GET /rooms?room= on the server).
  const roomInput = $('room-input');
  const slug = (typed) => {
    const s = typed.trim().toLowerCase().replace(/^#+/, '').replace(/\s+/g, '-').replace(/[^a-z0-9_-]/g, '').slice(0, 64);
    return s || null;
  };
  document.querySelector('.switcher').addEventListener('submit', (e) => {
    e.preventDefault();
    const target = slug(roomInput.value);
    if (target) location.assign(`/rooms/${target}`);
    else {
      roomInput.setCustomValidity('Use letters, digits, - and _');
      roomInput.reportValidity();
    }
  });
  roomInput.addEventListener('input', () => roomInput.setCustomValidity(''));
  const recent = (local.get('threadchat.rooms') || '').split(',').filter((r) => /^[a-z0-9_-]{1,64}$/.test(r) && r !== room);
  local.set('threadchat.rooms', [room, ...recent].slice(0, 8).join(','));
  $('recent-rooms').replaceChildren(...recent.map((r) => Object.assign(document.createElement('option'), { value: r })));
})();
