// A port that answered TLS but could not be assessed (issue 14, kind 5: a listener that takes only
// pre-shared keys, a handshake refused for another reason) is "not rated", with the reason,
// wherever a score is shown: the risk rules, the CLI table, the CSV, the PDF, the dashboard; and
// a TLS socket without a server certificate never carries the user's login.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { formatTable } from '../../cli/table';
import { brokerDetail, keepResult, tableRows } from '../../lib/dashboard';
import { trustProblem } from '../../lib/mqtt';
import { prepareReport, renderCsv, renderPdf } from '../../lib/report';
import { classifyResult } from '../../lib/risk';
import type { ScanResult, TlsInfo } from '../../lib/types';
import { result, tls as tlsInfo } from '../support/sample-results';
import { requireTool } from '../support/tools';

const untested = { outcome: 'not_tested' as const };
const PSK_TLS: TlsInfo = {
  protocol: 'TLSv1.2',
  cipher: 'DHE-PSK-AES256-GCM-SHA384',
  certificate: null,
  psk: { hint: 'meter-fleet', cipher: 'DHE-PSK-AES256-GCM-SHA384', protocol: 'TLSv1.2', only: true },
  notRated: 'TLS not rated: the listener takes only pre-shared keys',
  error: null,
};

/** A TLS port whose handshake failed: no MQTT login could be tried. */
function tlsFailed(t: TlsInfo | null, port = 8883): ScanResult {
  return result({
    port,
    transport: 'tls',
    classification: 'tls_or_ssl_error',
    mqtt: { versions: {}, brokerVersion: null },
    auth: { anonymous: untested, wrongCredentials: untested, givenCredentials: untested },
    evidence: ['tls MQTT 5.0 anonymous: TLS handshake failed: ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE sslv3 alert handshake failure (3 ms)'],
    tls: t,
  });
}

describe('not rated: a TLS port that could not be assessed', () => {
  it('the risk rules give a PSK-only listener no LOW/100 but "not rated" with the reason', () => {
    const r = classifyResult(tlsFailed(PSK_TLS));
    assert.equal(r.risk, null, 'risk must not be rated');
    assert.match(r.riskNotRated ?? '', /only pre-shared keys.*"meter-fleet"/);
    assert.equal(r.security_summary.risk_level, null);
  });

  it('any other refused handshake, and a demanded client certificate, are not rated either', () => {
    const refused = classifyResult(tlsFailed({ protocol: null, cipher: null, certificate: null, error: 'TLS handshake with 127.0.0.1:8883 failed: sslv3 alert handshake failure (ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE)' }));
    assert.equal(refused.risk, null);
    assert.match(refused.riskNotRated ?? '', /TLS handshake failed.*handshake failure/);
    // Without the TLS inspector (tls null): the probe's evidence names the failure.
    const probeOnly = classifyResult(tlsFailed(null));
    assert.equal(probeOnly.risk, null);
    assert.match(probeOnly.riskNotRated ?? '', /ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE/);
    const clientCert = classifyResult(tlsFailed(tlsInfo({ clientCertRequired: true })));
    assert.equal(clientCert.risk, null);
    assert.deepEqual(clientCert.findings.map((f) => f.id), ['CLIENT_CERT_REQUIRED'], 'the findings seen stay');
    assert.match(clientCert.riskNotRated ?? '', /client certificate/);
  });

  it('a proven finding still rates the port (a floor), and brokers that answered MQTT keep their rating', () => {
    const expired = classifyResult(tlsFailed(tlsInfo({ clientCertRequired: true }, { expired: true, daysLeft: -3, trusted: false, trustError: 'CERT_HAS_EXPIRED' })));
    assert.equal(expired.risk?.level, 'HIGH');
    assert.equal(expired.riskNotRated, undefined);
    const broker = classifyResult(result({ port: 8883, transport: 'tls', tls: tlsInfo() }));
    assert.equal(broker.risk?.level, 'LOW');
    assert.equal(broker.riskNotRated, undefined);
  });

  it('the CLI table shows "not rated", the PSK listener, and the reason below the table', () => {
    const text = formatTable([classifyResult(tlsFailed(PSK_TLS))]);
    const [header, , row] = text.split('\n');
    const cell = (name: string) => row.slice(header.indexOf(name)).split(/\s{2,}/)[0];
    assert.equal(cell('RISK'), 'not rated');
    assert.equal(cell('TLS'), 'TLSv1.2 PSK only');
    assert.match(text, /127\.0\.0\.1:8883 not rated: TLS listener takes only pre-shared keys/);
    assert.doesNotMatch(text, /LOW|100/);
  });

  it('the CSV says "not rated" with the reason, the TLS score as not rated, and the PSK hint', () => {
    const csv = renderCsv(prepareReport([tlsFailed(PSK_TLS)]));
    const [cols, cells] = csvRows(csv.replace(/^\uFEFF/, ''));
    const at = (name: string) => cells[cols.indexOf(name)];
    assert.equal(at('risk_level'), 'not rated');
    assert.equal(at('risk_score'), '');
    assert.match(at('risk_not_rated'), /only pre-shared keys/);
    assert.equal(at('tls_score'), 'not rated');
    assert.equal(at('tls_psk_hint'), 'meter-fleet');
  });

  it('the dashboard keeps the reason: table row "not rated" with why, detail NOT RATED with why and the TLS rows', () => {
    const kept = keepResult(classifyResult(tlsFailed(PSK_TLS)));
    const [row] = tableRows({ results: { [kept.ep]: kept } });
    assert.equal(row.risk, 'not rated');
    assert.match(row.topic, /not rated: TLS listener takes only pre-shared keys/);
    const d = brokerDetail(kept);
    assert.equal(d.level, 'NOT RATED');
    assert.equal(d.score, null);
    assert.match(d.notRated ?? '', /only pre-shared keys/);
    const rows = Object.fromEntries(d.tls);
    assert.match(rows['TLS score'], /^not rated: the listener takes only pre-shared keys/);
    assert.match(rows['Pre-shared keys'], /only pre-shared keys.*meter-fleet/);
  });

  it('the PDF gives the port a section with "not rated" and the reason, and never LOW', async function () {
    requireTool(this, 'pdftotext');
    const pdf = await renderPdf(prepareReport([tlsFailed(PSK_TLS)]));
    const out = join(__dirname, '../../test-output');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'not-rated.pdf'), pdf);
    const r = spawnSync('pdftotext', [join(out, 'not-rated.pdf'), '-'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // The report up to the appendices (whose scoring table lists "LOW 100" as the scale).
    const text = r.stdout.replace(/\s+/g, ' ').split('Rule catalogue Every check')[0];
    assert.match(text, /NOT RATED 1 TLS port answered but could not be assessed/, 'the cover');
    assert.match(text, /3\.1 127\.0\.0\.1:8883/, 'the port has a section of its own');
    assert.match(text, /Risk not rated: TLS listener takes only pre-shared keys/);
    assert.match(text, /Pre-shared keys only pre-shared keys \(TLS-PSK\); identity hint: meter-fleet/);
    assert.match(text, /TLS score TLS not rated/);
    assert.doesNotMatch(text, /\bLOW\b 100/);
  });
});

/** RFC 4180 rows (quoted cells with commas and doubled quotes). */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\n') row.push(cell.replace(/\r$/, '')), rows.push(row), (row = []), (cell = '');
    else cell += ch;
  }
  if (cell !== '' || row.length) row.push(cell), rows.push(row);
  return rows;
}

describe('not rated: a TLS socket without a server certificate never carries the login', () => {
  it('trustProblem names the missing certificate of a pre-shared-key handshake', async () => {
    const key = Buffer.alloc(32, 7);
    const server = tls.createServer({ ciphers: 'PSK', maxVersion: 'TLSv1.2', pskIdentityHint: 'h', pskCallback: () => key }, (s) => s.on('error', () => undefined));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    try {
      const port = (server.address() as { port: number }).port;
      const problem = await new Promise<string | null>((res, rej) => {
        const s = tls.connect({ host: '127.0.0.1', port, ciphers: 'PSK', maxVersion: 'TLSv1.2', rejectUnauthorized: false, pskCallback: () => ({ identity: 'x', psk: key }) });
        const timer = setTimeout(() => rej(new Error('no PSK handshake within 5 s')), 5000);
        s.once('secureConnect', () => {
          clearTimeout(timer);
          res(trustProblem(s));
          s.destroy();
        });
        s.once('error', (e) => {
          clearTimeout(timer);
          rej(e);
        });
      });
      assert.match(problem ?? 'null', /no server certificate/);
    } finally {
      await new Promise((res) => server.close(res));
    }
  });
});
