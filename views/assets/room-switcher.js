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
  document.getElementById('recent-rooms').replaceChildren(...recent.map((r) => Object.assign(document.createElement('option'), { value: r })));
})();
