/** @jsxImportSource hono/jsx */
import { LIMITS } from '../lib/input.ts';

/**
 * Writing a message. The form posts without JavaScript too (a 303 back to the page, whose `?name=` fills the name
 * field again: `name`); with it, htmx posts it and appends the returned message. The name form is app.js's: it asks
 * for a name once, then remembers it; asked again (the ✎ button) it is a rename, under a label of its own, beside
 * the message box.
 */
export const Composer = ({ room, label = `#${room}`, sendKey, me = null, name = '' }: { room: string; label?: string; sendKey: string; me?: string | null; name?: string }) => (
  <footer class="composer">
    {/* typing.js: who else is typing, from the stream's `typing` events. */}
    <p id="typing" class="typing" aria-live="polite" hidden></p>
    <form id="name-form" class="name-form" hidden>
      {/* app.js: "Change your name" and "Rename" (with Cancel) when you have one. */}
      <label for="name-input" id="name-label" data-rename="Change your name">
        What should people call you?
      </label>
      <div class="row">
        <input id="name-input" maxlength={LIMITS.name} autocomplete="nickname" enterkeyhint="done" placeholder="Your name" required />
        <button type="submit" class="primary" id="name-submit" data-rename="Rename">
          Start chatting
        </button>
        <button type="button" class="secondary" id="name-cancel" hidden>
          Cancel
        </button>
      </div>
    </form>
    <form
      id="send"
      class="send"
      method="post"
      action={`/rooms/${room}/messages`}
      hx-post={`/rooms/${room}/messages`}
      hx-target="#messages"
      hx-swap="beforeend"
    >
      {/* Without JavaScript, this page's one key: the browser resends it with a resent form. sending.js sends a key per message instead. */}
      {sendKey && <input type="hidden" name="idempotency_key" value={sendKey} />}
      {/* Signed in, the name is the identity's: the server takes no other. */}
      {me === null ? (
        <label class="name-field">
          <span>Name</span>
          <input name="name" value={name.slice(0, LIMITS.name) || undefined} placeholder="anonymous" maxlength={LIMITS.name} autocomplete="nickname" />
        </label>
      ) : null}
      <button type="button" id="me" class="me" title="Change your name" hidden></button>
      <div class="row">
        <label class="sr-only" for="text">
          Message
        </label>
        <textarea id="text" name="text" rows={1} placeholder={`Message ${label}`} maxlength={LIMITS.text} enterkeyhint="send" required></textarea>
        <button type="submit" class="primary send-button">
          Send
        </button>
      </div>
      <p id="form-error" class="form-error" role="alert" hidden></p>
      {/* sending.js: a text longer than a message can be is not cut; Send posts what fits and keeps the rest. */}
      <p id="length-note" class="length-note" role="status" hidden></p>
      {/* slow-post.js: why a send is still waiting (over HTTP/1.1, too many windows hold the connections). */}
      <p id="slow-post" class="slow-post" role="status" hidden></p>
    </form>
  </footer>
);
