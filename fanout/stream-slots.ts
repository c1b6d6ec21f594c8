import { HubFullError, type OpenRequest } from './hub-api.ts';
import type { RoomWords } from './shm/room-words.ts';
import type { createNumbering } from './shm/numbering.ts';

export interface SlotLimits {
  /** Most streams open at once. */
  maxStreams: number;
  /** Most streams open at once from one IP address. */
  maxStreamsPerIp?: number;
  /** Most streams at once whose Worker has not written its first bytes yet. */
  maxConnecting?: number;
}

/** What one open stream holds: its slot (its ready bit and its place in `occupants`), its room word, its client's number. */
export interface StreamSlot<T> {
  readonly index: number;
  readonly roomWord: number;
  /** The client's number in log entries, -1 without a client id. */
  readonly clientNo: number;
  /** The slot's stream is in place: the drain loop finds it by `index` from now on. */
  fill(occupant: T): void;
  /** Its Worker is starting the stream: it counts against maxConnecting until `started()`. */
  connecting(): void;
  /** Its Worker wrote its first bytes, or the stream ended: it no longer counts as connecting. */
  started(): void;
  /** Gives back all that reserve() took, once; later calls do nothing. */
  release(): void;
}

/**
 * The stream slots of one hub and everything counted per open stream: the slot numbers (reused, so the ready
 * bits stay few), the streams open in all and per address, the streams connecting, and the room words and client
 * numbers the streams hold. reserve() takes all of it or throws; release() gives all of it back.
 */
export function createStreamSlots<T>(limits: SlotLimits, rooms: RoomWords, clients: ReturnType<typeof createNumbering>) {
  /** By slot index: what the drain loop pumps when the slot's ready bit is set (undefined: nothing open there). */
  const occupants: (T | undefined)[] = [];
  const free: number[] = [];
  const perAddress = new Map<string, number>(); // open streams per IP; an address leaves the map at 0
  let open = 0;
  let connecting = 0;

  const countAddress = (address: string, delta: number) => {
    const n = (perAddress.get(address) ?? 0) + delta;
    if (n > 0) perAddress.set(address, n);
    else perAddress.delete(address);
  };

  return {
    occupants: occupants as readonly (T | undefined)[],
    /** Takes a slot for `request`, or throws HubFullError when a limit is reached. */
    reserve(request: OpenRequest): StreamSlot<T> {
      if (open >= limits.maxStreams) throw new HubFullError(`${open} streams are open, the most this server allows`);
      if ((perAddress.get(request.address) ?? 0) >= (limits.maxStreamsPerIp ?? Infinity)) {
        throw new HubFullError(`your address has ${limits.maxStreamsPerIp} streams open, the most allowed`);
      }
      if (connecting >= (limits.maxConnecting ?? Infinity)) {
        throw new HubFullError(`${connecting} streams are waiting for their thread to start`, 1);
      }
      const roomWord = rooms.acquire(request.room); // first: it is the one that can throw (no word left)
      const clientNo = request.client === null ? -1 : clients.acquire(request.client);
      const index = free.pop() ?? occupants.length;
      open++;
      countAddress(request.address, 1);
      occupants[index] = undefined;
      let isConnecting = false;
      let released = false;
      const started = () => {
        if (!isConnecting) return;
        isConnecting = false;
        connecting--;
      };
      return {
        index,
        roomWord,
        clientNo,
        fill: (occupant) => void (occupants[index] = occupant),
        connecting() {
          if (isConnecting || released) return;
          isConnecting = true;
          connecting++;
        },
        started,
        release() {
          if (released) return;
          released = true;
          started();
          occupants[index] = undefined;
          free.push(index);
          open--;
          countAddress(request.address, -1);
          rooms.release(request.room);
          if (request.client !== null) clients.release(request.client);
        },
      };
    },
    stats: () => ({ open, connecting }),
  };
}

export type StreamSlots<T> = ReturnType<typeof createStreamSlots<T>>;
