/*
 * Replies, for the room page, served as /static/replying.js after app.js: a message's reply button puts its id in
 * the form's `reply_to` and shows what the next message answers above the box ("Replying to ann: …", Escape or ×
 * to drop it); a send that went through drops it. The server keeps the quote with the reply (routes/messages.ts).
 */
(() => {
  'use strict';
  const chat = window.threadchat;
  if (!chat) return;
  const form = document.getElementById('send');
  const box = document.getElementById('text');
  // Disabled (not sent) while the message answers nothing.
  const field = Object.assign(document.createElement('input'), { type: 'hidden', name: 'reply_to', disabled: true });
  const bar = Object.assign(document.createElement('p'), { className: 'replying', hidden: true });
  const what = document.createElement('span');
  const drop = Object.assign(document.createElement('button'), { type: 'button', className: 'drop-reply', textContent: '×' });
  drop.setAttribute('aria-label', 'Do not reply');
  bar.append(what, drop);
  form.prepend(field);
  form.before(bar);

  const stop = () => {
    field.value = '';
    field.disabled = true;
    bar.hidden = true;
  };
  const replyTo = (li) => {
    field.value = li.dataset.id;
    field.disabled = false;
    const text = li.querySelector('.text')?.textContent ?? '';
    what.textContent = `Replying to ${li.dataset.name}: ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`;
    bar.hidden = false;
    box.focus();
  };
  chat.list.addEventListener('click', (e) => {
    const button = e.target.closest?.('.reply-button');
    const li = button?.closest('.msg');
    if (li?.dataset.id) replyTo(li);
  });
  // The keyboard: the list takes focus with Tab; Up and Down then go from message to message (their reply
  // buttons), Enter or Space answers the one focused, Left reaches its sender's name where it is a link (their
  // direct messages) and Right comes back, Escape goes back to the box.
  chat.list.addEventListener('keydown', (e) => {
    if (!['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Escape'].includes(e.key)) return;
    if (e.key === 'Escape') return box.focus();
    const here = document.activeElement?.closest?.('.msg');
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const target = here?.querySelector(e.key === 'ArrowLeft' ? '.person-link' : '.reply-button');
      if (target) {
        e.preventDefault();
        target.focus();
      }
      return;
    }
    const buttons = [...chat.list.querySelectorAll('.reply-button')];
    if (!buttons.length) return;
    const at = here ? buttons.indexOf(here.querySelector('.reply-button')) : -1;
    const next = at < 0 ? (e.key === 'ArrowUp' ? buttons.length - 1 : 0) : Math.min(buttons.length - 1, Math.max(0, at + (e.key === 'ArrowUp' ? -1 : 1)));
    e.preventDefault();
    buttons[next].focus();
    buttons[next].closest('.msg')?.scrollIntoView({ block: 'nearest' });
  });
  drop.addEventListener('click', () => {
    stop();
    box.focus();
  });
  box.addEventListener('keydown', (e) => e.key === 'Escape' && !bar.hidden && stop());
  // The message went: what it answered is said; the next one answers nothing unless asked again.
  form.addEventListener('htmx:after:request', (e) => e.detail.ctx.response?.status === 201 && stop());
})();
