/** @jsxImportSource hono/jsx */
import type { ChatMessage } from '../store/types.ts';

/** Seconds-free UTC clock time; the page's script rewrites it into the viewer's local time. */
export const clock = (ts: number) => new Date(ts).toISOString().slice(11, 16);

/** One chat message, the same markup in the page's history and in the SSE `html` stream. */
export const MessageItem = ({ message }: { message: ChatMessage }) => (
  <li class="msg" id={`m-${message.id}`} data-id={message.id} data-name={message.name}>
    <time datetime={new Date(message.ts).toISOString()}>{clock(message.ts)}</time>
    <b class="name">{message.name}</b>
    <span class="text">{message.text}</span>
  </li>
);

/** The markup of one message as a string (escaped by hono/jsx). */
export const renderMessage = (message: ChatMessage): string => String(<MessageItem message={message} />);
