// MQTT over WebSockets, the pure parts: the paths a user may give (--ws-paths, the probe node's
// field), the broker's address and transport label every output shows, the fixes the risk rules
// give for a plain WebSocket listener, and the CSV, dashboard and PDF wording of ws and wss.
// The probe and listener over real WebSockets: test/brokers/websocket-brokers.test.ts (RabbitMQ),
// test/brokers/harness.test.ts (Mosquitto), test/pipeline/cli-vs-flow.test.ts (aedes),
// test/hostile/websocket-hostile.test.ts (broken servers).
import { strict as assert } from 'node:assert';
import { brokerUrl, transportLabel } from '../../lib/common';
import { DEFAULT_WEBSOCKET_PATHS, isWebSocketPath, MAX_WEBSOCKET_PATHS, parseWebSocketPaths } from '../../lib/mqtt';
import { classifyResult } from '../../lib/risk';
import { CSV_COLUMNS, prepareReport, renderCsv, renderPdf } from '../../lib/report';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireTool } from '../support/tools';
import { brokerDetail, keepResult, transportText } from '../../lib/dashboard';
import { anonymousPlain, result } from '../support/sample-results';

describe('websocket: paths to try (parseWebSocketPaths)', () => {
  const good: Array<[Parameters<typeof parseWebSocketPaths>[0], string[]]> = [
    [undefined, [...DEFAULT_WEBSOCKET_PATHS]],
    [null, [...DEFAULT_WEBSOCKET_PATHS]],
    ['', [...DEFAULT_WEBSOCKET_PATHS]],
    [' , ', [...DEFAULT_WEBSOCKET_PATHS]],
    ['/ws', ['/ws']],
    ['/mqtt, /ws\n/mqtt', ['/mqtt', '/ws']],
    [['/', '/mqtt-ws'], ['/', '/mqtt-ws']],
    ['/api/v1/mqtt?token=public', ['/api/v1/mqtt?token=public']],
    ['/%7Emqtt', ['/%7Emqtt']],
  ];
  for (const [spec, paths] of good) {
    it(`${JSON.stringify(spec)} -> ${paths.join(',')}`, () => assert.deepEqual(parseWebSocketPaths(spec), paths));
  }
  const bad: Array<[Parameters<typeof parseWebSocketPaths>[0], RegExp]> = [
    ['mqtt', /WebSocket path "mqtt": must start with "\/"/],
    ['/mqtt#frag', /"\/mqtt#frag": only the characters of a URL path/],
    ['/a"b', /only the characters of a URL path/],
    ['/\u0000', /only the characters of a URL path/],
    ['/é', /only the characters of a URL path/],
    [`/${'x'.repeat(300)}`, /longer than 256 characters/],
    [Array.from({ length: MAX_WEBSOCKET_PATHS + 1 }, (_, i) => `/p${i}`), /17 WebSocket paths: at most 16/],
    [[42 as unknown as string], /WebSocket path 42: must be a string/],
  ];
  for (const [spec, message] of bad) {
    it(`refuses ${JSON.stringify(spec).slice(0, 40)}, naming it`, () => assert.throws(() => parseWebSocketPaths(spec), message));
  }
  it('isWebSocketPath checks a path from outside (a node message) the same way', () => {
    assert.equal(isWebSocketPath('/mqtt'), true);
    for (const p of ['mqtt', '/a b', '/x\r\nHost: evil', 42, null, undefined, `/${'x'.repeat(300)}`]) assert.equal(isWebSocketPath(p), false, String(p));
  });
});

describe('websocket: the broker as outputs show it', () => {
  const at = (transport: 'tcp' | 'tls' | 'ws' | 'wss' | null, host = '127.0.0.1', websocketPath?: string) => ({ host, port: 9001, transport, ...(websocketPath ? { websocketPath } : {}) });
  it('brokerUrl: mqtt://, mqtts://, ws://…/path, wss://…/path; IPv6 in brackets; null without a transport', () => {
    assert.equal(brokerUrl(at('tcp')), 'mqtt://127.0.0.1:9001');
    assert.equal(brokerUrl(at('tls')), 'mqtts://127.0.0.1:9001');
    assert.equal(brokerUrl(at('ws', '127.0.0.1', '/mqtt')), 'ws://127.0.0.1:9001/mqtt');
    assert.equal(brokerUrl(at('wss', '::1', '/ws')), 'wss://[::1]:9001/ws');
    assert.equal(brokerUrl(at(null)), null);
  });
  it('transportLabel: the transport with its WebSocket path', () => {
    assert.deepEqual([at('tcp'), at('tls'), at('ws', '127.0.0.1', '/mqtt'), at('wss', '127.0.0.1', '/'), at(null)].map(transportLabel), ['tcp', 'tls', 'ws /mqtt', 'wss /', '']);
  });

  const ws = () => classifyResult(anonymousPlain({ port: 9001, transport: 'ws', websocketPath: '/mqtt' }));
  it('a plain WebSocket broker: PLAINTEXT_TRANSPORT names the URL and gives the Mosquitto wss listener lines', () => {
    const f = ws().findings.find((x) => x.id === 'PLAINTEXT_TRANSPORT')!;
    assert.match(f.evidence, /unencrypted ws:\/\/127\.0\.0\.1:9001\/mqtt/);
    assert.match(f.recommendation, /^listener 8081\nprotocol websockets\ncafile /m);
    assert.match(f.recommendation, /listener 9001 127\.0\.0\.1\nprotocol websockets/);
    // On TCP the fix stays the TLS listener.
    const tcp = classifyResult(anonymousPlain()).findings.find((x) => x.id === 'PLAINTEXT_TRANSPORT')!;
    assert.match(tcp.recommendation, /^listener 8883$/m);
    assert.doesNotMatch(tcp.recommendation, /websockets/);
  });
  it('PLAINTEXT_CREDENTIALS on ws moves the login onto wss', () => {
    const r = classifyResult(result({ port: 9001, transport: 'ws', websocketPath: '/mqtt', classification: 'not_authorized', auth: { anonymous: { outcome: 'rejected', code: 5 }, wrongCredentials: { outcome: 'rejected', code: 5 } } }));
    const f = r.findings.find((x) => x.id === 'PLAINTEXT_CREDENTIALS')!;
    assert.match(f.recommendation, /WebSockets over TLS \(wss\)/);
  });
  it('a wss broker has no plain-text finding', () => {
    const r = classifyResult(anonymousPlain({ port: 8884, transport: 'wss', websocketPath: '/mqtt' }));
    assert.deepEqual(r.findings.filter((f) => f.id.startsWith('PLAINTEXT')), []);
  });

  it('CSV: transport ws/wss, security plaintext/TLS, broker_url with the path', () => {
    const input = prepareReport([ws(), classifyResult(anonymousPlain({ host: '127.0.0.2', port: 8884, transport: 'wss', websocketPath: '/ws' })), classifyResult(anonymousPlain({ host: '127.0.0.3' }))]);
    const lines = renderCsv(input).replace(/^\uFEFF/, '').trim().split('\r\n').map((l) => l.split(','));
    const col = (name: string) => lines[0].indexOf(`"${name}"`);
    const cells = (name: string) => lines.slice(1).map((l) => l[col(name)].replace(/"/g, ''));
    assert.ok(CSV_COLUMNS.some(([h]) => h === 'broker_url'));
    assert.deepEqual(cells('transport'), ['ws', 'wss', 'tcp']);
    assert.deepEqual(cells('security'), ['plaintext', 'TLS', 'plaintext']);
    assert.deepEqual(cells('broker_url'), ['ws://127.0.0.1:9001/mqtt', 'wss://127.0.0.2:8884/ws', 'mqtt://127.0.0.3:1883']);
  });

  it('PDF: the brokers table gives ws and wss with their path, the broker section the URL', async function () {
    requireTool(this, 'pdftotext');
    const input = prepareReport([ws(), classifyResult(anonymousPlain({ host: '127.0.0.2', port: 8884, transport: 'wss', websocketPath: '/ws' }))]);
    const file = join(mkdtempSync(join(tmpdir(), 'mqttsec-ws-pdf-')), 'ws.pdf');
    writeFileSync(file, await renderPdf(input));
    const text = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).stdout;
    rmSync(dirname(file), { recursive: true, force: true });
    assert.match(text, /127\.0\.0\.1:9001\s+ws \/mqtt\s/);
    assert.match(text, /127\.0\.0\.2:8884\s+wss \/ws\s/);
    assert.ok(text.includes('ws://127.0.0.1:9001/mqtt, encryption: none'));
    assert.ok(text.includes('wss://127.0.0.2:8884/ws'));
  });

  it('dashboard detail: the transport line with the URL', () => {
    assert.equal(brokerDetail(keepResult(ws())).transport, 'MQTT over WebSocket (plain): ws://127.0.0.1:9001/mqtt');
    assert.equal(transportText({ host: '::1', port: 8884, transport: 'wss', websocketPath: '/ws' }), 'MQTT over WebSocket over TLS: wss://[::1]:8884/ws');
    assert.equal(transportText({ host: '127.0.0.1', port: 8883, transport: 'tls' }), 'MQTT over TLS');
    assert.equal(transportText({ host: '127.0.0.1', port: 1, transport: null }), '—');
  });
});
