import { createLogReader } from '../../workers/shared-log.ts';

declare const self: Worker;
self.onmessage = async (e) => {
  const { buffer, sizes, count } = e.data;
  const reader = createLogReader(buffer, sizes);
  const got: string[] = [];
  for (let seq = 0; got.length < count; ) {
    await reader.waitFor(seq);
    for (; seq < reader.seq; seq++) got.push(new TextDecoder().decode(reader.read(seq)!));
  }
  self.postMessage(got);
};
