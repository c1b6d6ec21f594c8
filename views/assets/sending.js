/*
 * Sending, for the room page, served as /static/sending.js after app.js. Enter sends, Shift+Enter is a new line;
 * the box clears at once and refills if the post fails, with the reason under it. A sent message's id is kept
 * (app.js's rememberMine) so the page tells your messages apart after a reload. Each message has an
 * Idempotency-Key; sent again (the same text, after a failure), it goes with the same key, so a message whose
 * answer was lost on the way back is not stored twice.
 */
(() => {
  'use strict';
  const chat = window.threadchat;
  if (!chat) return;
  const form = document.getElementById('send');
  const box = document.getElementById('text');
  const error = document.getElementById('form-error');

  box.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    if (box.value.trim()) form.requestSubmit();
  });
  if (!CSS.supports('field-sizing', 'content')) {
    box.addEventListener('input', () => {
      box.style.height = 'auto';
      box.style.height = `${box.scrollHeight + 2}px`;
    });
  }

  let sending = '';
  let unsent = null; // { text, key } of the last send that did not get its 201
  // crypto.randomUUID needs a secure context; a page served over plain http on a LAN address is not one.
  const newKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  const showError = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };
  form.addEventListener('htmx:config:request', (e) => {
    e.detail.ctx.request.headers['X-Client-Id'] = chat.clientId; // the body is already collected
    sending = box.value;
    if (unsent?.text !== sending) unsent = { text: sending, key: newKey() };
    e.detail.ctx.request.headers['Idempotency-Key'] = unsent.key;
    box.value = '';
    box.dispatchEvent(new Event('input'));
    showError('');
  });
  const refill = () => {
    if (!box.value) box.value = sending;
  };
  form.addEventListener('htmx:after:request', (e) => {
    const { ctx } = e.detail;
    if (ctx.response.status === 201) {
      unsent = null;
      const t = document.createElement('template');
      t.innerHTML = ctx.text; // inert: a template's content is not rendered or run
      const id = t.content.querySelector('[data-id]')?.dataset.id;
      if (id) chat.rememberMine(id);
      return;
    }
    refill();
    let reason = '';
    try { reason = JSON.parse(ctx.text).error; } catch { /* not JSON */ }
    const wait = ctx.response.headers.get('Retry-After');
    if (ctx.response.status === 429) showError(`Slow down: try again in ${wait || 'a few'} s.`);
    // The server could not store it, or could not say whether it did: sending again is safe (the same key).
    else if (ctx.response.status === 503) showError('Not confirmed: the server is busy or its store is away. Send again: it will not be posted twice.');
    else showError(`Not sent: ${reason || `error ${ctx.response.status}`}.`);
  });
  form.addEventListener('htmx:before:swap', (e) => e.detail.ctx.response.status >= 300 && e.preventDefault());
  form.addEventListener('htmx:error', () => {
    refill();
    showError('Not sent: the server cannot be reached. Your message is still here.');
  });
})();
