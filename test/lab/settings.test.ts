// The lab's Node-RED settings: loopback by default, no telemetry or palette installs, and the
// launcher knows when the editor would be reachable from other machines.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isExposed, nodeRedSettings } from '../../lab/node-red-settings';
import { labConfig, LabConfigError } from '../../lab/lab-config';

describe('lab settings', () => {
  it('listens on 127.0.0.1 unless told otherwise', () => {
    const config = labConfig({});
    assert.equal(config.bind, '127.0.0.1');
    const s = nodeRedSettings(config, 'x'.repeat(64));
    assert.equal(s.uiHost, '127.0.0.1');
    assert.deepEqual(s.diagnostics, { enabled: false, ui: false });
    assert.equal((s.externalModules as { palette: { allowInstall: boolean } }).palette.allowInstall, false);
  });

  const table: Array<[string, boolean]> = [
    ['127.0.0.1', false], ['127.0.0.2', false], ['::1', false], ['localhost', false],
    ['0.0.0.0', true], ['::', true], ['10.1.2.3', true], ['192.0.2.7', true],
  ];
  for (const [bind, exposed] of table) {
    it(`binding to ${bind} is ${exposed ? '' : 'not '}exposed (the launcher warns when it is)`, () => assert.equal(isExposed(bind), exposed));
  }

  it('the launcher with a bad setting prints one line that names it, no stack trace, and exits 2 (issue 18)', function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'mqttsec-badenv-'));
    try {
      const run = spawnSync(process.execPath, [join(__dirname, '../../dist/lab/start.js')], {
        env: { ...process.env, MQTTSEC_USERDIR: dir, MQTTSEC_UI_PORT: 'abc' }, encoding: 'utf8', timeout: 20_000,
      });
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stderr.trim(), 'npm start: MQTTSEC_UI_PORT="abc": must be a port number 1-65535');
      assert.equal(run.stdout, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad ports name the variable', () => {
    assert.throws(() => labConfig({ MQTTSEC_UI_PORT: 'eighty' }), (e: Error) => e instanceof LabConfigError && /MQTTSEC_UI_PORT="eighty"/.test(e.message));
    assert.throws(() => labConfig({ LAB_SECURE_PORT: '70000' }), /LAB_SECURE_PORT="70000": must be a port number 1-65535/);
    assert.throws(() => labConfig({ LAB_SECURE_PORT: '1883' }), /LAB_WSS_PORT must be 5 different ports \(got 1880, 1883, 1883, 9001, 8884\)/);
    assert.throws(() => labConfig({ LAB_WS_PORT: 'ws' }), /LAB_WS_PORT="ws": must be a port number 1-65535/);
    assert.throws(() => labConfig({ LAB_WSS_PORT: '9001' }), /must be 5 different ports/);
    assert.deepEqual([labConfig({}).websocketPort, labConfig({}).secureWebsocketPort], [9001, 8884]);
  });
});
