// At least 50 malformed or dangerous inputs through the CLI and the target expander node: each gets
// a clear error naming the bad part, nothing crashes and nothing is scanned.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { BAD_CLI_OPTIONS, BAD_PORTS, BAD_TARGETS, BAD_TYPES, type BadInput } from '../support/bad-inputs';
import { collect, helper, load, NODES } from '../nodes/node-red';

const CLI = resolve(__dirname, '../../dist/cli/index.js');
const matches = (text: string, want: string | RegExp) => (typeof want === 'string' ? text.includes(want) : want.test(text));

function cliArgs(row: BadInput): string[] {
  // --opt=value, so that values starting with '-' reach our own checks.
  return [
    `--target=${typeof row.targets === 'string' ? row.targets : '127.0.0.1'}`,
    ...(typeof row.ports === 'string' ? [`--ports=${row.ports}`] : []),
    ...(row.cli ?? []),
  ];
}

describe('bad input: the CLI', () => {
  // argv cannot carry a NUL byte, so that case is the node's and the API's only.
  const rows = [...BAD_TARGETS, ...BAD_PORTS, ...BAD_CLI_OPTIONS].filter((r) => !String(r.targets ?? '').includes('\u0000'));
  it(`has at least 50 cases (${rows.length + BAD_TYPES.length} with the JSON ones)`, () => assert.ok(rows.length + BAD_TYPES.length >= 50));
  for (const row of rows) {
    it(`${row.name}: exit 2, names the bad part, scans nothing`, () => {
      const r = spawnSync(process.execPath, [CLI, ...cliArgs(row)], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
      assert.ok(matches(r.stderr, row.names), `stderr: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.length < 2000, 'the message stays short, even for a 10 kB input');
    });
  }
});

describe('bad input: the target expander node', () => {
  afterEach(() => helper.unload());
  const flow = () => [
    { id: 'flow1', type: 'tab', label: 'bad input' },
    { id: 'exp', type: 'mqttsec-target-expander', z: 'flow1', targets: '127.0.0.1', ports: '', maxTargets: 65536, batchSize: 256, allowPublic: false, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'flow1' },
    { id: 'catcher', type: 'catch', z: 'flow1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'flow1' },
  ];
  for (const row of [...BAD_TARGETS, ...BAD_PORTS, ...BAD_TYPES]) {
    it(`${row.name}: an error naming the bad part reaches Catch, no batch leaves`, async () => {
      await load([NODES.expander, NODES.catch], flow());
      let batches = 0;
      helper.getNode('out').on('input', () => batches++);
      const caught = collect('caught', (m) => m.length === 1, 5000);
      const payload = { ...(row.targets !== undefined ? { targets: row.targets } : {}), ...(row.ports !== undefined ? { ports: row.ports } : {}) };
      helper.getNode('exp').receive({ payload });
      const [msg] = await caught;
      const message = (msg.error as { message: string }).message;
      assert.ok(matches(message, row.names), `message: ${message}`);
      assert.equal(batches, 0);
    });
  }
});
