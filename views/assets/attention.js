/*
 * threadchat: what asks for your attention, served as /static/attention.js after app.js (it uses
 * window.threadchat and the `chat:message` event app.js dispatches on every message it shows).
 * - While the tab is in the background, live messages from others are counted in the title: "(3) #main · threadchat".
 * - "@yourname" (your current name, any case, a whole word) is marked in a message, and the message gets `mention`.
 * - Opt-in: a mention that arrives while in the background raises a desktop notification. Permission is asked
 *   for only when the reader clicks "Notify me of mentions", as browsers expect.
 * What people typed stays text: a mark is built with DOM methods around a piece of an existing text node.
 */
(() => {
  'use strict';
  const chat = window.threadchat;
  if (!chat) return;

  /** In the background: another tab in front, the window minimised, or another window focused. */
  const away = () => document.visibilityState === 'hidden' || !document.hasFocus();

  // ---- Unread count in the title
  const title = document.title;
  let unread = 0;
  function showUnread(count) {
    unread = count;
    document.title = unread ? `(${unread}) ${title}` : title;
  }
  const back = () => unread && !away() && showUnread(0);
  document.addEventListener('visibilitychange', back);
  window.addEventListener('focus', back);

  // ---- Mentions of your name
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  /**
   * "@alice" as a word of its own: not inside an address (bob@alice.com) and not the start of a longer name
   * (@alicex, @alice-bob, @alice.b); punctuation after it (@alice, @alice.) still counts.
   */
  const WORD = '[\\p{L}\\p{N}_]';
  const mentionOf = (name) => new RegExp(`(?<!${WORD})@${escape(name)}(?!${WORD}|[.\\-']${WORD})`, 'giu');

  /** Wraps each mention in the text (links and code are left whole) in a <mark>; whether there was one. */
  const markMentions = (text, pattern) => chat.wrapMatches(text, pattern, (mention) => {
    const mark = document.createElement('mark');
    mark.className = 'mention';
    mark.textContent = mention;
    return mark;
  });

  // ---- Desktop notifications for mentions (opt-in)
  const notifications = 'Notification' in window;
  const OPT_IN = 'threadchat.notify';
  const remembered = () => chat.local.get(OPT_IN) === 'on';
  const remember = (on) => chat.local.set(OPT_IN, on ? 'on' : 'off');
  let notify = notifications && Notification.permission === 'granted' && remembered();
  let shown = 0;

  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'notify';
  button.className = 'notify';
  function showButton() {
    button.hidden = !notifications || Notification.permission === 'denied';
    button.textContent = notify ? 'Notifying you of mentions' : 'Notify me of mentions';
    button.setAttribute('aria-pressed', String(notify));
    button.title = notify ? 'Click to stop desktop notifications' : 'A desktop notification when someone writes @you';
  }
  button.addEventListener('click', async () => {
    if (notify) notify = false;
    else notify = (await Notification.requestPermission()) === 'granted'; // asked here only: the reader clicked
    remember(notify);
    showButton();
  });
  showButton();
  document.querySelector('.people')?.append(button);

  function raise(li, text) {
    const note = new Notification(`${li.dataset.name} mentioned you in #${chat.room}`, {
      body: text.textContent,
      tag: `threadchat-${li.dataset.id}`,
    });
    // The page counts what the browser really showed (tests read it); a click brings the tab back.
    note.addEventListener('show', () => {
      li.dataset.notified = 'shown';
      document.documentElement.dataset.notified = String(++shown);
    });
    note.addEventListener('click', () => {
      window.focus();
      note.close();
    });
  }

  /** Every message shown (your own are neither counted nor marked: you wrote them). */
  function arrived(li, live, mine) {
    if (mine) return;
    const text = li.querySelector('.text');
    const name = chat.name();
    const mentioned = Boolean(text && name) && markMentions(text, mentionOf(name));
    li.classList.toggle('mention', mentioned);
    if (!live || !away()) return;
    showUnread(unread + 1);
    if (mentioned && notify && Notification.permission === 'granted') raise(li, text);
  }
  // The history in the page was shown before this script ran; what comes next arrives as chat:message.
  for (const li of chat.list.querySelectorAll('.msg')) arrived(li, false, li.classList.contains('mine'));
  chat.list.addEventListener('chat:message', (e) => arrived(e.target, e.detail.live, e.detail.mine));
  // An edited message's text is new (app.js): its mentions are marked again, and it counts as no new message.
  chat.list.addEventListener('chat:edited', (e) => {
    const li = e.target;
    const text = li.querySelector('.text');
    const name = chat.name();
    if (li.classList.contains('mine') || !text) return;
    li.classList.toggle('mention', Boolean(name) && markMentions(text, mentionOf(name)));
  });
})();
