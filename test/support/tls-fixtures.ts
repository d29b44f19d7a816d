// For the TLS inspector's tests: certificate files for startMosquitto's `certs` option, and a
// Node TLS server for what mosquitto 2.0 cannot serve (TLS 1.0, a TLS 1.2-only listener).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { CertPair } from '../../lab/certs';
import type { Fixture } from './fixtures';
import type { MosquittoCertPaths } from './mosquitto';

export interface CertFiles extends MosquittoCertPaths {
  remove(): void;
}

/** Writes ca.crt, server.crt, server.key into a temp dir (mosquitto copies them; remove() after start). */
export function writeCertFiles(caPem: string, server: CertPair): CertFiles {
  const dir = mkdtempSync(join(tmpdir(), 'mqttsec-tls-'));
  const paths = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  writeFileSync(paths.ca, caPem);
  writeFileSync(paths.cert, server.certPem);
  writeFileSync(paths.key, server.keyPem, { mode: 0o600 });
  return { ...paths, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TlsServerFixture extends Fixture {
  /** TCP connections currently open. */
  connections(): number;
}

/** A TLS server on an ephemeral 127.0.0.1 port that completes handshakes and then only listens. */
export async function startTlsServer(options: tls.TlsOptions): Promise<TlsServerFixture> {
  const server = tls.createServer(options, (s) => s.on('error', () => undefined).resume());
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined); // clients hang up mid-handshake on purpose
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const port = (server.address() as { port: number }).port;
  return {
    host: '127.0.0.1',
    port,
    connections: () => sockets.size,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}
