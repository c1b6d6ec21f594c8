/** @jsxImportSource hono/jsx */

/** The top bar: where you are, whether the page is live, and a way to another room. */
export const RoomBar = ({ room, label = `#${room}`, signOut = false }: { room: string; label?: string; signOut?: boolean }) => (
  <header class="bar">
    <a class="brand" href="/" title="threadchat: room #main">
      <span class="logo" aria-hidden="true"></span>
      <span class="brand-name">threadchat</span>
    </a>
    <h1 class="room-name">
      <span class="hash" aria-hidden="true">{label.slice(0, 1)}</span>
      {label.slice(1)}
    </h1>
    {/* app.js sets data-state (connecting, live, reconnecting); without JavaScript it stays hidden. */}
    <span id="status" class="status" data-state="static" role="status" aria-live="polite"></span>
    {/* Works without JavaScript: GET /rooms?room=NAME redirects to /rooms/NAME. */}
    <form class="switcher" method="get" action="/rooms" role="search">
      <label class="sr-only" for="room-input">
        Go to room
      </label>
      <input
        id="room-input"
        name="room"
        placeholder="Go to room…"
        maxlength={64}
        autocomplete="off"
        autocapitalize="none"
        spellcheck={false}
        enterkeyhint="go"
        list="recent-rooms"
        required
      />
      <datalist id="recent-rooms"></datalist>
      <button type="submit" class="go" aria-label="Go to room">
        →
      </button>
    </form>
    {/* Signed in with a session: a plain form post, so it works without JavaScript. */}
    {signOut ? (
      <form class="sign-out" method="post" action="/logout">
        <button type="submit" id="sign-out">Sign out</button>
      </form>
    ) : null}
  </header>
);
