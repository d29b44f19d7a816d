// The lab's HTTP server: every request and every websocket upgrade passes checkRequest
// (lab/request-guard.ts) before any listener sees it, and no request body may grow past its cap.
//
// Why the checks sit in emit() rather than in a 'request' handler: the dashboard's socket.io
// (engine.io) takes over the server's 'request' listeners for /ui/socket.io/ and answers those
// itself, and an 'upgrade' listener cannot stop the ones Node-RED and socket.io add after it.
// Overriding emit for these two events is the one place that every request passes.
//
// Why the body is counted in req.push: Node-RED's raw-body readers (http in nodes) read a body
// whole, with no limit; a chunked body has no Content-Length to refuse it by. The HTTP parser
// hands each piece of body to req.push, whoever reads the request and whenever: counting there
// neither changes the stream's mode nor depends on who consumes it.
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { checkRequest, type GuardPolicy, type GuardVerdict } from './request-guard';

/** How long a refused connection may still deliver (and have discarded) its body before it is
 *  closed: long enough for the client to read the refusal instead of a reset. */
const LINGER_MS = 1000;

/**
 * An http.Server whose 'request' and 'upgrade' events only fire for requests the policy lets in.
 * Refusals are JSON {error, message} with Connection: close. Response headers Access-Control-*
 * are dropped: the lab serves only its own pages, and Node-RED's admin API otherwise answers
 * every origin with "Access-Control-Allow-Origin: *" (@node-red/editor-api, not configurable).
 */
export class GuardedServer extends Server {
  constructor(
    private readonly policy: GuardPolicy,
    handler: (req: IncomingMessage, res: ServerResponse) => void,
  ) {
    super(handler);
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'request') {
      const [req, res] = args as [IncomingMessage, ServerResponse];
      const verdict = checkRequest(req, this.policy);
      if (!verdict.ok) {
        refuseRequest(req, res, verdict);
        return true;
      }
      dropCorsHeaders(res);
      forbidFraming(res);
      limitBody(req, res, verdict.bodyCap);
    } else if (event === 'upgrade') {
      const [req, socket] = args as [IncomingMessage, Duplex];
      const verdict = checkRequest(req, this.policy);
      if (!verdict.ok) {
        refuseUpgrade(socket, verdict);
        return true;
      }
    }
    return super.emit(event as string, ...args);
  }
}

function body(verdict: Extract<GuardVerdict, { ok: false }>): string {
  return JSON.stringify({ error: verdict.error, message: verdict.message });
}

function refuseRequest(req: IncomingMessage, res: ServerResponse, verdict: Extract<GuardVerdict, { ok: false }>): void {
  const text = body(verdict);
  res.writeHead(verdict.status, {
    ...(verdict.headers ?? {}),
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    Connection: 'close',
  });
  res.end(text);
  closeSoon(req);
}

function refuseUpgrade(socket: Duplex, verdict: Extract<GuardVerdict, { ok: false }>): void {
  const text = body(verdict);
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 413: 'Payload Too Large' }[verdict.status];
  const extra = Object.entries(verdict.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.on('error', () => undefined);
  socket.end(`HTTP/1.1 ${verdict.status} ${reason}\r\n${extra}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * After a refusal: the client may still be sending its body. Closing at once would make the
 * kernel answer that unread data with a reset, which can destroy the refusal before the client
 * reads it. So the response goes out with Connection: close, Node's close of the connection is
 * turned into a half-close (FIN after the response), the rest of the body is read and discarded,
 * and after LINGER_MS the connection is closed whatever the client still sends.
 */
function closeSoon(req: IncomingMessage): void {
  const socket = req.socket;
  socket.on('error', () => undefined);
  socket.destroySoon = function lingeringClose(this: typeof socket) {
    if (this.writable) this.end();
  };
  req.on('data', () => undefined); // discard (a no-op when the body is already being read)
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * No other site may show the lab's pages in a frame: a page that frames the editor (which has no
 * login on loopback) could trick the user into clicks that deploy code (clickjacking). The
 * guard lets cross-site navigations through, and a frame load is one. RFC 7034, CSP Level 2
 * frame-ancestors.
 */
function forbidFraming(res: ServerResponse): void {
  res.setHeader('X-Frame-Options', 'SAMEORIGIN');
  res.setHeader('Content-Security-Policy', "frame-ancestors 'self'");
}

function dropCorsHeaders(res: ServerResponse): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name: string, value: number | string | readonly string[]) => {
    if (/^access-control-/i.test(name)) return res;
    return setHeader(name, value);
  };
}

/**
 * Counts the body as the parser delivers it; past `cap` bytes answers 413 (unless a response was
 * already started), discards the rest and closes the connection. The 413 is written to the socket
 * itself, not through `res`: the app already has this request, and express answers an unread
 * request (a 404, say) only once its body ends; had `res` sent the 413, that late answer would
 * throw ERR_HTTP_HEADERS_SENT outside any handler and stop the lab. Through the socket, what the
 * app writes later goes to a closed connection and is dropped.
 */
function limitBody(req: IncomingMessage, res: ServerResponse, cap: number): void {
  let seen = 0;
  let refused = false;
  const push = req.push.bind(req);
  req.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (refused) return true;
    if (chunk === null) return push(chunk, encoding);
    seen += (chunk as Buffer).length;
    if (seen <= cap) return push(chunk, encoding);
    refused = true;
    const socket = req.socket;
    socket.on('error', () => undefined);
    if (res.headersSent) {
      socket.destroy();
      return true;
    }
    const text = JSON.stringify({ error: 'payload_too_large', message: `the body has more than ${cap} bytes; at most ${cap} are accepted here` });
    socket.end(`HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${text}`);
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
    return true;
  };
}
