/*
 * The room switcher, for the room page, served as /static/room-switcher.js after app.js: `My Room` goes to
 * /rooms/my-room (the same rule as GET /rooms?room= on the server), and the rooms visited lately are offered.
 */
(() => {
  'use strict';
  const chat = window.threadchat;
  if (!chat) return;
  const input = document.getElementById('room-input');
  const slug = (typed) => {
    const s = typed.trim().toLowerCase().replace(/^#+/, '').replace(/\s+/g, '-').replace(/[^a-z0-9_-]/g, '').slice(0, 64);
    return s || null;
  };
  document.querySelector('.switcher').addEventListener('submit', (e) => {
    e.preventDefault();
    const target = slug(input.value);
    if (target) location.assign(`/rooms/${target}`);
    else {
      input.setCustomValidity('Use letters, digits, - and _');
      input.reportValidity();
    }
  });
  input.addEventListener('input', () => input.setCustomValidity(''));
  const recent = (chat.local.get('threadchat.rooms') || '').split(',').filter((r) => /^[a-z0-9_-]{1,64}$/.test(r) && r !== chat.room);
  chat.local.set('threadchat.rooms', [chat.room, ...recent].slice(0, 8).join(','));
  document.getElementById('recent-rooms').replaceChildren(...recent.map((r) => Object.assign(document.createElement('option'), { value: r })));
})();
