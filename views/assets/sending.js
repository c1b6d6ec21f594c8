/*
 * Sending, for the room page, served as /static/sending.js after app.js. Enter sends, Shift+Enter is a new line;
 * the box clears at once and refills if the post fails, with the reason under it. A sent message's id is kept
 * (app.js's rememberMine) so the page tells your messages apart after a reload. Each message has an
 * Idempotency-Key; sent again (the same text, after a failure), it goes with the same key, so a message whose
 * answer was lost on the way back is not stored twice. A text longer than a message can be (a long paste) is not
 * cut: the page says so, Send posts what fits (up to a space, where there is one) and the rest stays in the box for
 * the next. A send of spaces alone says why nothing went.
 */
(() => {
  'use strict';
  const chat = window.threadchat;
  if (!chat) return;
  const form = document.getElementById('send');
  const box = document.getElementById('text');
  const error = document.getElementById('form-error');
  const lengthNote = document.getElementById('length-note');
  /** A message's most characters (LIMITS.text): the box's maxlength, lifted so that a paste is never cut silently. */
  const LIMIT = box.maxLength > 0 ? box.maxLength : 4000;
  box.removeAttribute('maxlength');
  const ONLY_SPACES = 'Nothing to send: the message is only spaces.';
  const count = (n) => n.toLocaleString('en');

  box.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    if (box.value) form.requestSubmit();
  });

  /** What the note under the box says: how far over the limit the box is, or what became of the rest of a send. */
  function noteLength(sentPart) {
    const over = box.value.length > LIMIT;
    lengthNote.textContent = sentPart
      ? `Sent the first ${count(sentPart)} characters; the rest (${count(box.value.length)}) is still here, to send next.`
      : over ? `${count(box.value.length)} characters: a message holds ${count(LIMIT)}. Send posts the first part and keeps the rest here.` : '';
    lengthNote.hidden = !lengthNote.textContent;
  }
  box.addEventListener('input', (e) => {
    if (!e.isTrusted) return; // the page's own clearing and refilling (below)
    noteLength(0);
    if (error.textContent === ONLY_SPACES) showError('');
  });

  /** Where a long text is cut: after the last space within the limit (not too far back), else at the limit. */
  function cut(text) {
    const head = text.slice(0, LIMIT + 1);
    const space = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\n'));
    if (space > LIMIT * 0.8) return [text.slice(0, space), text.slice(space + 1), text[space]];
    const at = /[\ud800-\udbff]/.test(text[LIMIT - 1]) ? LIMIT - 1 : LIMIT; // not inside a surrogate pair
    return [text.slice(0, at), text.slice(at), ''];
  }
  /** The rest of a text cut at Send, put back in the box once the first part is on its way. */
  let rest = null;
  // Before htmx reads the form (a capture listener on the document runs first): a text of spaces alone goes
  // nowhere and says so; a text too long leaves only its first part in the box for htmx to send.
  document.addEventListener('submit', (e) => {
    if (e.target !== form) return;
    if (!box.value.trim()) {
      e.preventDefault();
      e.stopImmediatePropagation();
      showError(ONLY_SPACES);
      return box.focus();
    }
    rest = null;
    if (box.value.length <= LIMIT) return;
    const [first, after, between] = cut(box.value);
    box.value = first;
    rest = { after, between };
  }, true);
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
    box.value = rest?.after ?? '';
    box.dispatchEvent(new Event('input'));
    noteLength(rest ? sending.length : 0);
    showError('');
  });
  /** A send that failed: its text back in the box (before the rest of a long one, as it was). */
  const refill = () => {
    if (!box.value) box.value = sending;
    else if (rest && box.value === rest.after) box.value = sending + rest.between + rest.after;
    rest = null;
    noteLength(0);
  };
  form.addEventListener('htmx:after:request', (e) => {
    const { ctx } = e.detail;
    if (ctx.response.status === 201) {
      unsent = null;
      rest = null;
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
