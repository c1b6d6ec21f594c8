/** @jsxImportSource hono/jsx */
import type { ChatMessage } from '../store/types.ts';
import { Layout } from './layout.tsx';
import { MessageItem } from './message.tsx';

export interface RoomPageProps {
  room: string;
  messages: ChatMessage[];
}

/** A room: its recent history in the HTML (works without JavaScript), then live updates over SSE. */
export const RoomPage = ({ room, messages }: RoomPageProps) => {
  const lastId = messages.at(-1)?.id;
  const stream = `/rooms/${room}/events?format=html${lastId ? `&lastEventId=${lastId}` : '&history=0'}`;
  return (
    <Layout title={`#${room} · threadchat`}>
      <main class="room" data-room={room}>
        <header>
          <h1>#{room}</h1>
        </header>
        <ol id="messages" hx-sse:connect={stream} hx-target="#messages" hx-swap="beforeend">
          {messages.map((m) => (
            <MessageItem message={m} />
          ))}
        </ol>
        <form method="post" action={`/rooms/${room}/messages`} hx-post={`/rooms/${room}/messages`} hx-target="#messages" hx-swap="beforeend">
          <input name="name" placeholder="name" maxlength={32} />
          <textarea name="text" placeholder="Message" maxlength={4000} required></textarea>
          <button type="submit">Send</button>
        </form>
      </main>
    </Layout>
  );
};
