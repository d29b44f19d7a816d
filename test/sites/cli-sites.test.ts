// mqtt-scan agent | coordinate: bad input exits 2 before anything connects, and the message
// names the bad flag. (The commands at work: sites.test.ts.)
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve(__dirname, '../../dist/cli/index.js');

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BROKER = ['--broker', 'mqtts://127.0.0.1:1', '--user', 'north-1', '--password-env', 'SITES_TEST_PASSWORD'];
const ENV = { SITES_TEST_PASSWORD: 'not-a-real-one', SITES_TEST_LOGIN: 'x' };

describe('cli: mqtt-scan agent and coordinate refuse bad input, naming it', () => {
  const table: Array<[string[], RegExp]> = [
    [['agent', '--site', 'north', '--scope', '127.0.60.0/24'], /--broker is required/],
    [['agent', ...BROKER.slice(2), '--broker', 'mqtt://127.0.0.1:1', '--site', 'north', '--scope', '127.0.60.0/24'], /--broker: .*needs TLS \(mqtts:\/\/\)/],
    [['agent', '--broker', 'mqtts://u:p@127.0.0.1:1', '--user', 'a', '--password-env', 'SITES_TEST_PASSWORD', '--site', 'north', '--scope', '127.0.60.0/24'], /never in the URL/],
    [['agent', ...BROKER, '--scope', '127.0.60.0/24'], /--site is required/],
    [['agent', ...BROKER, '--site', 'north'], /--scope is required/],
    [['agent', ...BROKER, '--site', 'North', '--scope', '127.0.60.0/24'], /site: "North" is not a site name/],
    [['agent', ...BROKER, '--site', 'north', '--scope', '8.8.8.0/24'], /"8\.8\.8\.0\/24": .*allowPublic/],
    [['agent', ...BROKER, '--site', 'north', '--scope', 'broker.example'], /not a host name/],
    [['agent', ...BROKER, '--site', 'north', '--scope', '127.0.60.0/24', '--login', 'lab:scanner'], /--login "lab:scanner": expected NAME:USER:ENV_VAR/],
    [['agent', ...BROKER, '--site', 'north', '--scope', '127.0.60.0/24', '--login', 'lab:scanner:SITES_SURELY_UNSET'], /--login lab: environment variable SITES_SURELY_UNSET is not set/],
    [['agent', ...BROKER, '--site', 'north', '--scope', '127.0.60.0/24', '--concurrency', '0'], /--concurrency "0": must be a whole number from 1 to 16/],
    [['agent', '--broker', 'mqtts://127.0.0.1:1', '--user', 'a', '--site', 'north', '--scope', '127.0.60.0/24'], /give the password one way/],
    [['agent', '--broker', 'mqtts://127.0.0.1:1', '--user', 'a', '--password-env', 'SITES_SURELY_UNSET', '--site', 'north', '--scope', '127.0.60.0/24'], /--password-env SITES_SURELY_UNSET: that environment variable is not set/],
    [['agent', ...BROKER, '--site', 'north', '--scope', '127.0.60.0/24', '--ca', '/nonexistent/ca.pem'], /--ca "\/nonexistent\/ca\.pem": ENOENT/],
    [['coordinate', ...BROKER, '--target', '127.0.60.1'], /--site NAME=SPEC is required/],
    [['coordinate', ...BROKER, '--site', 'north', '--target', '127.0.60.1'], /--site "north": expected NAME=SPEC/],
    [['coordinate', ...BROKER, '--site', 'north=127.0.60.0/24', '--site', 'north=127.0.61.0/24', '--target', '127.0.60.1'], /--site north: given twice/],
    [['coordinate', ...BROKER, '--site', 'north=127.0.60.0/24'], /--target is required/],
    [['coordinate', ...BROKER, '--site', 'north=127.0.60.0/24', '--target', '127.0.60.1', '--lease', '0'], /--lease "0": must be a whole number from 1 to 3600/],
    [['coordinate', ...BROKER, '--site', 'north=127.0.60.0/24', '--target', '127.0.60.1', '--timeout', '5'], /--timeout "5"/],
    [['coordinate', ...BROKER, '--site', 'north=127.0.60.0/24', '--target', '127.0.60.1', '--transport', 'pigeon'], /--transport "pigeon"/],
    [['coordinate', ...BROKER, '--site', 'north=127.0.60.0/24', '--target', '127.0.60.1', '--bogus'], /Unknown option '--bogus'/],
    // Checked before anything connects (the broker here would refuse the connection).
    [['coordinate', ...BROKER, '--site', 'north=127.0.60.0/24', '--target', '127.0.60.0/33'], /"127\.0\.60\.0\/33": prefix must be 0-32/],
    [['coordinate', ...BROKER, '--site', 'north=127.0.60.0/24', '--target', 'broker.example'], /host names are not taken in a coordinated scan/],
    [['coordinate', ...BROKER, '--site', 'north=127.0.60.0/24', '--target', '127.0.60.1', '--credentials', 'a/b'], /credentialsName: "a\/b" is not a credentials name/],
  ];
  for (const [args, re] of table) {
    it(`mqtt-scan ${args.join(' ')}`, () => {
      const r = run(args, ENV);
      assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.ok(!r.stderr.includes(ENV.SITES_TEST_PASSWORD), 'the password is never printed');
    });
  }

  it('exits 1 with one clear line when the broker cannot be reached (nothing left reconnecting)', () => {
    const agent = run(['agent', ...BROKER, '--site', 'north', '--scope', '127.0.60.0/24'], ENV);
    assert.equal(agent.code, 1, agent.stderr);
    assert.match(agent.stderr, /mqtt-scan agent: cannot connect to the broker \(connect ECONNREFUSED 127\.0\.0\.1:1\)/);
    const coordinate = run(['coordinate', ...BROKER, '--site', 'north=127.0.60.0/24', '--target', '127.0.60.1'], ENV);
    assert.equal(coordinate.code, 1, coordinate.stderr);
    assert.match(coordinate.stderr, /mqtt-scan coordinate: cannot connect to the broker/);
  });

  it('prints help for both commands, and the main help names them', () => {
    for (const command of ['agent', 'coordinate']) {
      const r = run([command, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: mqtt-scan ${command} --broker mqtts://HOST:PORT`));
    }
    assert.match(run(['--help']).stdout, /mqtt-scan agent --help[\s\S]*mqtt-scan coordinate --help/);
  });
});
