/*
 * Sending, for the room page, served as /static/sending.js after app.js. Enter sends, Shift+Enter is a new line;
 * the box clears at once and refills if the post fails, with the reason under it. A sent message's id is kept
 * (app.js's rememberMine) so the page tells your messages apart after a reload.
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
  const showError = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };
  form.addEventListener('htmx:config:request', (e) => {
    e.detail.ctx.request.headers['X-Client-Id'] = chat.clientId; // the body is already collected
    sending = box.value;
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
    showError(ctx.response.status === 429 ? `Slow down: try again in ${wait || 'a few'} s.` : `Not sent: ${reason || `error ${ctx.response.status}`}.`);
  });
  form.addEventListener('htmx:before:swap', (e) => e.detail.ctx.response.status >= 300 && e.preventDefault());
  form.addEventListener('htmx:error', () => {
    refill();
    showError('Not sent: the server cannot be reached. Your message is still here.');
  });
})();
