/*
 * The room switcher, for the room page, served as /static/room-switcher.js after app.js: `My Room` goes to
 * /rooms/my-room, `Łódź` to /rooms/łódź (the same rule as GET /rooms?room= on the server: letters of any script,
 * digits, _ and -, NFC and lower case), and the rooms visited lately are offered.
 */
(() => {
  'use strict';
  const chat = window.threadchat;
  if (!chat) return;
  const input = document.getElementById('room-input');
  const ROOM_CHAR = /[\p{L}\p{M}\p{N}_-]/u;
  const slug = (typed) => {
    const kept = [...typed.trim().replace(/^#+/, '').replace(/\s+/g, '-').normalize('NFC').toLowerCase()].filter((ch) => ROOM_CHAR.test(ch));
    return kept.slice(0, 64).join('') || null;
  };
  document.querySelector('.switcher').addEventListener('submit', (e) => {
    e.preventDefault();
    const target = slug(input.value);
    if (target) location.assign(`/rooms/${encodeURIComponent(target)}`);
    else {
      input.setCustomValidity('Use letters, digits, - and _');
      input.reportValidity();
    }
  });
  input.addEventListener('input', () => input.setCustomValidity(''));
  const recent = (chat.local.get('threadchat.rooms') || '').split(',').filter((r) => /^[\p{L}\p{M}\p{N}_-]{1,64}$/u.test(r) && r !== chat.room);
  chat.local.set('threadchat.rooms', [chat.room, ...recent].slice(0, 8).join(','));
  const options = document.getElementById('recent-rooms');
  options.replaceChildren(...recent.map((r) => Object.assign(document.createElement('option'), { value: r })));

  // Where this browser last read each room: the newest message the page showed while it was in view.
  const readKey = (room) => `threadchat.read.${room}`;
  // Signed in (accounts, jwt: the page carries the name), the server keeps it too, for this person's other browsers
  // (PUT /rooms/:room/read, which keeps the later place): at most one request every 2 s, the last place sent when
  // the page goes away, failures ignored (localStorage still has it).
  const signedIn = Boolean(document.querySelector('.app')?.dataset.me);
  let toSend = null;
  let sentId = null;
  let sentAt = 0;
  let timer = null;
  const sendRead = (keepalive = false) => {
    clearTimeout(timer);
    timer = null;
    if (!toSend || toSend === sentId) return;
    sentId = toSend;
    sentAt = Date.now();
    fetch(`/rooms/${encodeURIComponent(chat.room)}/read`, {
      method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: sentId }), keepalive,
    }).catch(() => {});
  };
  const shareRead = (id) => {
    if (!signedIn) return;
    toSend = id;
    timer ??= setTimeout(sendRead, Math.max(0, sentAt + 2_000 - Date.now()));
  };
  addEventListener('pagehide', () => timer !== null && sendRead(true));
  const noteRead = () => {
    const last = [...chat.list.querySelectorAll('.msg')].at(-1)?.dataset.id;
    if (!last || document.visibilityState !== 'visible') return;
    chat.local.set(readKey(chat.room), last);
    shareRead(last);
  };
  noteRead();
  chat.list.addEventListener('chat:message', noteRead);
  document.addEventListener('visibilitychange', noteRead);

  /**
   * The rooms this person may read (GET /rooms), newest first, each offered with its unread count where this
   * person (`read`, signed in: their place in any browser) or else this browser read it before ("dev · 3 new"):
   * counted from the history after that place, up to 99.
   */
  const unread = async (room) => {
    const read = room.read ?? chat.local.get(readKey(room.name));
    if (!read || read === room.lastId) return read ? 0 : null;
    const res = await fetch(`/rooms/${encodeURIComponent(room.name)}/messages?after=${encodeURIComponent(read)}&limit=99&format=ndjson`);
    return res.ok ? (await res.text()).split('\n').filter(Boolean).length : null;
  };
  let listed = 0;
  const listRooms = async () => {
    if (Date.now() - listed < 2_000) return; // a fresh list when the switcher is used, at most every 2 s
    listed = Date.now();
    const res = await fetch('/rooms?format=json', { headers: { Accept: 'application/json' } }).catch(() => null);
    if (!res?.ok) return;
    const rooms = ((await res.json()).rooms ?? []).filter((r) => r.name !== chat.room).slice(0, 20);
    const counts = await Promise.all(rooms.map((r) => unread(r).catch(() => null)));
    options.replaceChildren(...rooms.map((r, i) => Object.assign(document.createElement('option'), {
      value: r.name,
      label: `${r.with === undefined ? `#${r.name}` : `@${r.with}`}${counts[i] ? ` · ${counts[i] >= 99 ? '99+' : counts[i]} new` : ''}${r.here ? ` · ${r.here} here` : ''}`,
    })));
    options.dataset.listed = String(rooms.length);
  };
  input.addEventListener('focus', listRooms);
})();
