import net from 'node:net';

/**
 * A TCP proxy in front of one server (PostgreSQL, SMTP, Temporal), for fault tests and the chaos run:
 * `cut()` drops every open connection and resets new ones (the client sees ECONNRESET / a closed socket, as
 * when the server is down) until `restore()`; `dropAfterSmtpData()` arms a one-time SMTP fault.
 */
export interface TcpProxy {
  port: number;
  cut(): void;
  restore(): void;
  /**
   * SMTP only: the next message whose body the client finishes (`<CRLF>.<CRLF>` after `DATA`) reaches the
   * server, and then the connection is dropped before the server's `250` reaches the client — the server has
   * the message, the client believes it failed. Resolves when it has happened.
   */
  dropAfterSmtpData(): Promise<void>;
  stop(): Promise<void>;
}

const END_OF_DATA = '\r\n.\r\n';

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let down = false;
  let armed: (() => void) | undefined;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let inData = false;
    let tail = '';
    let dropOnReply: (() => void) | undefined;
    client.on('data', (chunk: Buffer) => {
      if (armed) {
        // Follow the SMTP dialogue just enough to see a message body end.
        const text = tail + chunk.toString('latin1');
        if (!inData && /(^|\r\n)DATA\r\n/i.test(text)) inData = true;
        if (inData && text.includes(END_OF_DATA)) {
          dropOnReply = armed;
          armed = undefined;
          inData = false;
        }
        tail = text.slice(-8);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (dropOnReply) {
        const done = dropOnReply;
        dropOnReply = undefined;
        client.resetAndDestroy();
        upstream.destroy();
        done();
        return;
      }
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      down = true;
      for (const s of open) s.resetAndDestroy();
    },
    restore() {
      down = false;
    },
    dropAfterSmtpData() {
      return new Promise<void>((resolve) => {
        armed = resolve;
      });
    },
    async stop() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `host:port` (a Temporal address) as the proxy's target. */
export function hostAndPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at) || '127.0.0.1', port: Number(address.slice(at + 1)) };
}
