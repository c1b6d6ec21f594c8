/** @jsxImportSource hono/jsx */
import { LIMITS } from '../lib/input.ts';

/**
 * Writing a message. The form posts without JavaScript too (a 303 back to the page); with it, htmx posts it and
 * appends the returned message. The name form is app.js's: it asks for a name once, then remembers it.
 */
export const Composer = ({ room, sendKey, me = null }: { room: string; sendKey: string; me?: string | null }) => (
  <footer class="composer">
    {/* typing.js: who else is typing, from the stream's `typing` events. */}
    <p id="typing" class="typing" aria-live="polite" hidden></p>
    <form id="name-form" class="name-form" hidden>
      <label for="name-input">What should people call you?</label>
      <div class="row">
        <input id="name-input" maxlength={LIMITS.name} autocomplete="nickname" enterkeyhint="done" placeholder="Your name" required />
        <button type="submit" class="primary">
          Start chatting
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
          <input name="name" placeholder="anonymous" maxlength={LIMITS.name} autocomplete="nickname" />
        </label>
      ) : null}
      <button type="button" id="me" class="me" title="Change your name" hidden></button>
      <div class="row">
        <label class="sr-only" for="text">
          Message
        </label>
        <textarea id="text" name="text" rows={1} placeholder={`Message #${room}`} maxlength={LIMITS.text} enterkeyhint="send" required></textarea>
        <button type="submit" class="primary send-button">
          Send
        </button>
      </div>
      <p id="form-error" class="form-error" role="alert" hidden></p>
      {/* slow-post.js: why a send is still waiting (over HTTP/1.1, too many windows hold the connections). */}
      <p id="slow-post" class="slow-post" role="status" hidden></p>
    </form>
  </footer>
);
