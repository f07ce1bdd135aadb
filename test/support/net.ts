import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback port that nothing listens on (it was free a moment ago): a connection to it is refused. */
export async function freePortThatRefuses(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `server` on a free loopback port (never another interface) and returns the port. */
export async function listenOnLoopback(server: import('node:net').Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
