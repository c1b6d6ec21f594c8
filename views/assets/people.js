/*
 * Who is here, for the room page, served as /static/people.js after app.js: the member list, how many people it
 * shows and how many readers without a name are watching, from the stream's `presence` events; and join, leave and
 * rename notices. A leave followed soon by a join of the same name is a reconnect, not news, and just after this
 * page's own reconnect (say the server restarted) joins are people reconnecting too: neither is shown.
 */
(() => {
  'use strict';
  const chat = window.threadchat;
  if (!chat) return;
  const members = document.getElementById('members');
  const count = document.getElementById('count');
  const watching = document.getElementById('watching');

  /** A name's colour bucket; must match hue() in views/message.tsx. */
  function hue(name) {
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
    return h % 12;
  }
  const initial = (name) => (Array.from(name)[0] ?? '?').toUpperCase();

  function person(name) {
    const li = document.createElement('li');
    li.className = `person hue-${hue(name)}`;
    li.dataset.name = name;
    li.classList.toggle('you', name === chat.name());
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

  const leaves = new Map();
  function announce(change) {
    if (change.name === chat.name()) return;
    const left = change.kind === 'join' && leaves.get(change.name);
    leaves.delete(change.name);
    if (left && Date.now() - left.at < 30_000) return left.li.remove();
    if (chat.reconnectedLately()) return;
    if (change.kind === 'leave') {
      if (leaves.size > 50) leaves.clear();
      leaves.set(change.name, { li: chat.notice(`${change.name} left`), at: Date.now() });
    } else {
      chat.notice(change.kind === 'join' ? `${change.name} joined` : `${change.from} is now ${change.name}`);
    }
  }

  chat.onStream('presence', (e) => {
    let presence;
    try { presence = JSON.parse(e.detail.data); } catch { return; }
    // The people listed, each name once; and the streams without a name, less this page's own before it has one.
    count.textContent = String(presence.members.length);
    const own = chat.name() && presence.members.includes(chat.name()) ? 0 : 1;
    const readers = Math.max(0, (Number(presence.watching) || 0) - own);
    watching.textContent = readers ? ` and ${readers} watching` : ''; // a space: the heading reads as one line
    watching.hidden = readers === 0;
    members.replaceChildren(...presence.members.map(person));
    for (const change of presence.changes ?? (presence.change ? [presence.change] : [])) announce(change);
  });
  // Your name, given before this script ran or changed later (app.js): mark you in the list.
  const markYou = () => {
    for (const p of members.children) p.classList.toggle('you', p.dataset.name === chat.name());
  };
  markYou();
  document.addEventListener('chat:name', markYou);
})();
