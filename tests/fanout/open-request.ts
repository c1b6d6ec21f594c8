import type { OpenRequest } from '../../fanout/hub-api.ts';

/** What a route would ask the hub for, with test defaults (room main, 50 of history, json), `over` on top. */
export const openRequest = (over: Partial<OpenRequest>): OpenRequest => ({
  room: 'main', client: null, name: null, format: 'json', lastEventId: null, history: 50, retryMs: 1000, heartbeatMs: 600_000,
  slowMs: 10_000, fault: null, peer: 'test:1', address: '10.0.0.1', ...over,
});
