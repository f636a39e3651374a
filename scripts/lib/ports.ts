// Local TCP ports for the processes this toolkit starts on 127.0.0.1 (the rehearsal cluster, a local
// daprd, the app stand-in): the kernel picks a free one.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A port on 127.0.0.1 that was free a moment ago: bind port 0, read it, let it go. */
export function freeLocalPort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => done(port));
    });
  });
}
