import { createLogReader } from '../../workers/shared-log.ts';

declare const self: Worker;
self.onmessage = (e) => {
  const { buffer, sizes, count } = e.data;
  const reader = createLogReader(buffer, sizes);
  const got: string[] = [];
  for (let seq = 0; got.length < count; ) {
    reader.waitSync(seq, 1000);
    for (; seq < reader.seq; seq++) got.push(new TextDecoder().decode(reader.read(seq)!));
  }
  self.postMessage(got);
};
