// The options table (lib/options) against every place that states a default or a bound: the lib
// constants, the CLI's parser and --help, the nodes' clamps, their editor HTML (defaults and
// <input> min/max), their help (nodes/locales/en-US), and the shipped flows.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OPTIONS, OPTION_LIST, formatDefault, type ScanOption } from '../../lib/options';
import { CLI_OPTIONS, parseCli, USAGE, UsageError } from '../../cli/args';
import { intIn, numberIn } from '../../nodes/shared/config';
import { DEFAULT_TIMEOUT_MS } from '../../lib/probe';
import { DEFAULT_SWEEP_CONCURRENCY, DEFAULT_SWEEP_TIMEOUT_MS } from '../../lib/sweep';
import { DEFAULT_PROBE_CONCURRENCY } from '../../lib/pipeline';
import { DEFAULT_TLS_TIMEOUT_MS } from '../../lib/tls';
import { SNIFF_DEFAULTS } from '../../lib/sniff';
import { DEFAULT_MAX_TARGETS } from '../../lib/targets';
import { API_DEFAULT_LISTEN_S, API_MAX_LISTEN_S, checkScanRequest } from '../../lib/dashboard';

const ROOT = resolve(__dirname, '../..');
const NODES_DIR = join(ROOT, 'nodes');
const LOCALES = join(NODES_DIR, 'locales/en-US');
const read = (path: string) => readFileSync(path, 'utf8');
const oneLine = (s: string) => s.replace(/\s+/g, ' ');

/** Every (node type, property, option) the table names. */
const NODE_PROPERTIES = OPTION_LIST.flatMap((o) => Object.entries(o.nodes).map(([node, property]) => ({ node, property, option: o })));
const NODE_TYPES = [...new Set(NODE_PROPERTIES.map((p) => p.node))];

/** The editor's `defaults: { ... }` of a node's HTML: property -> its `value`, as written. */
function editorDefaults(html: string): Map<string, string> {
  const start = html.indexOf('defaults: {');
  assert.ok(start >= 0, 'no "defaults: {" in the editor HTML');
  const out = new Map<string, string>();
  // One property per line: "      timeout: { value: 2000, required: true, ... },"
  for (const line of html.slice(start).split('\n').slice(1)) {
    if (/^\s*},?\s*$/.test(line)) break;
    const m = /^\s*([A-Za-z_$][\w$]*)\s*:\s*\{\s*value\s*:\s*([^,}]+)/.exec(line);
    if (m) out.set(m[1], m[2].trim());
  }
  return out;
}

/** The attributes of `<input ... id="node-input-PROP" ...>`, and the text right after it. */
function editorInput(html: string, property: string): { attrs: Record<string, string>; after: string } | null {
  const m = new RegExp(`<input([^>]*\\bid="node-input-${property}"[^>]*)>([^<]*)`).exec(html);
  if (!m) return null;
  const attrs: Record<string, string> = {};
  for (const a of m[1].matchAll(/([\w-]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
  return { attrs, after: m[2].trim() };
}

/** The label a node's editor shows for a property (locales/en-US/<node>.json label.<prop>). */
function labelOf(node: string, property: string): string {
  const json = JSON.parse(read(join(LOCALES, `${node}.json`)));
  const label = json[node]?.label?.[property];
  assert.equal(typeof label, 'string', `${node}.json has no label.${property}`);
  return label;
}

describe('options: the table itself', () => {
  for (const [key, o] of Object.entries(OPTIONS) as Array<[string, ScanOption]>) {
    it(`${key}: named by its key, a default within its bounds, one line of help`, () => {
      assert.equal(o.name, key);
      assert.ok(o.min <= o.max, `${key}: min ${o.min} > max ${o.max}`);
      if (o.default === null) assert.ok(o.defaultText, `${key}: a computed default needs defaultText`);
      else {
        assert.ok(o.default >= o.min && o.default <= o.max, `${key}: default ${o.default} outside ${o.min}..${o.max}`);
        if (o.integer) assert.ok(Number.isInteger(o.default), `${key}: default ${o.default} is not whole`);
      }
      if (o.integer) assert.ok(Number.isInteger(o.min) && Number.isInteger(o.max), `${key}: bounds must be whole`);
      assert.ok(o.help.length > 0 && !o.help.includes('\n'), `${key}: help must be one line`);
      assert.equal(!!o.flag, !!o.flagValue, `${key}: a flag needs its value placeholder`);
      if (Object.keys(o.nodes).length > 0) assert.notEqual(o.default, null, `${key}: a node option needs a number default`);
    });
  }

  it('gives each flag and each node property to one option only', () => {
    const flags = CLI_OPTIONS.map((o) => o.flag);
    assert.equal(new Set(flags).size, flags.length, `flags: ${flags.join(', ')}`);
    const props = NODE_PROPERTIES.map((p) => `${p.node}.${p.property}`);
    assert.equal(new Set(props).size, props.length, `properties: ${props.join(', ')}`);
  });

  it('is what the lib constants say (they are aliases of it)', () => {
    assert.equal(DEFAULT_TIMEOUT_MS, OPTIONS.timeoutMs.default);
    assert.equal(DEFAULT_SWEEP_TIMEOUT_MS, OPTIONS.timeoutMs.default);
    assert.equal(DEFAULT_TLS_TIMEOUT_MS, OPTIONS.timeoutMs.default);
    assert.equal(DEFAULT_SWEEP_CONCURRENCY, OPTIONS.sweepConcurrency.default);
    assert.equal(DEFAULT_PROBE_CONCURRENCY, OPTIONS.probeConcurrency.default);
    assert.equal(DEFAULT_MAX_TARGETS, OPTIONS.maxTargets.default);
    assert.equal(SNIFF_DEFAULTS.listenMs, OPTIONS.listenSeconds.default * 1000);
    assert.equal(SNIFF_DEFAULTS.sampleChars, OPTIONS.sampleChars.default);
    assert.equal(SNIFF_DEFAULTS.maxTopics, OPTIONS.maxTopics.default);
    // The values the tests and the bench were written against.
    assert.deepEqual(
      [DEFAULT_TIMEOUT_MS, DEFAULT_SWEEP_CONCURRENCY, DEFAULT_PROBE_CONCURRENCY, OPTIONS.stageConcurrency.default, DEFAULT_MAX_TARGETS, SNIFF_DEFAULTS.listenMs],
      [2000, 1024, 64, null, 65536, 5000],
    );
  });
});

describe('options: the CLI', () => {
  const base = ['--target', '127.0.0.1'];
  const field: Record<string, (o: ReturnType<typeof parseCli>) => number | undefined> = {
    timeoutMs: (o) => o.timeoutMs,
    sweepConcurrency: (o) => o.concurrency,
    probeConcurrency: (o) => o.probeConcurrency,
    sweepThreads: (o) => o.threads,
    maxTargets: (o) => o.maxTargets,
    listenSeconds: (o) => (o.listenMs === undefined ? undefined : o.listenMs / 1000),
  };

  it('takes every table option that has a flag, and only those have a parser field here', () => {
    assert.deepEqual(CLI_OPTIONS.map((o) => o.name).sort(), Object.keys(field).sort());
  });

  for (const o of CLI_OPTIONS) {
    it(`${o.flag}: --help says its default and bounds; the bounds are accepted, one step beyond is refused naming both`, () => {
      const help = oneLine(USAGE);
      assert.ok(help.includes(`${o.flag} ${o.flagValue} `), `--help lacks ${o.flag}`);
      const entry = help.slice(help.indexOf(`${o.flag} ${o.flagValue} `)).split(/ --?[a-z]/)[0];
      assert.ok(entry.includes(`(default ${formatDefault(o)}; ${o.min} to ${o.max})`), `${o.flag} in --help: ${entry}`);
      assert.ok(entry.includes(o.help), `${o.flag} in --help lacks the table's help text: ${entry}`);

      for (const ok of [o.min, o.max, ...(o.default === null ? [] : [o.default])]) {
        assert.equal(field[o.name](parseCli([...base, `${o.flag}=${ok}`])), ok, `${o.flag}=${ok}`);
      }
      const step = o.integer ? 1 : 0.5;
      for (const bad of [o.min - step, o.max + step, 'abc', '1e3']) {
        assert.throws(() => parseCli([...base, `${o.flag}=${bad}`]), (err: Error) => {
          assert.ok(err instanceof UsageError, `${o.flag}=${bad}: ${err}`);
          assert.ok(err.message.startsWith(`${o.flag} "${bad}": must be `), err.message);
          assert.ok(err.message.includes(`from ${o.min} to ${o.max}`), err.message);
          return true;
        });
      }
      if (o.integer) assert.throws(() => parseCli([...base, `${o.flag}=${o.min}.5`]), UsageError);
    });
  }

  it('an option not given stays undefined: the library applies the same default', () => {
    const parsed = parseCli(base);
    for (const o of CLI_OPTIONS) assert.equal(field[o.name](parsed), undefined, o.name);
  });
});

describe('options: the nodes', () => {
  it('intIn / numberIn take a table entry: clamp to its bounds, its default when empty or not a number', () => {
    const t = OPTIONS.timeoutMs;
    assert.equal(intIn('', t), t.default);
    assert.equal(intIn(undefined, t), t.default);
    assert.equal(intIn('soon', t), t.default);
    assert.equal(intIn(1, t), t.min);
    assert.equal(intIn('99999999', t), t.max);
    assert.equal(intIn('1500.7', t), 1500);
    const l = OPTIONS.listenSeconds;
    assert.equal(numberIn('2.5', l), 2.5);
    assert.equal(numberIn(-1, l), l.min);
    assert.equal(numberIn(601, l), l.max);
    assert.equal(numberIn(null, l), l.default);
    // The four-argument form is still there for code not yet on the table.
    assert.equal(intIn('7', 1, 2, 5), 5);
  });

  it('every number <input> of the editors is an option of the table', () => {
    const known = new Set(NODE_PROPERTIES.map((p) => `${p.node}.${p.property}`));
    const found: string[] = [];
    for (const file of readdirSync(NODES_DIR).filter((f) => /^mqttsec-.*\.html$/.test(f))) {
      const node = file.replace(/\.html$/, '');
      for (const m of read(join(NODES_DIR, file)).matchAll(/<input[^>]*type="number"[^>]*id="node-input-(\w+)"/g)) found.push(`${node}.${m[1]}`);
    }
    assert.ok(found.length >= NODE_PROPERTIES.length, `number inputs: ${found.join(', ')}`);
    for (const f of found) assert.ok(known.has(f), `${f}: a number setting the options table does not know`);
  });

  for (const { node, property, option } of NODE_PROPERTIES) {
    it(`${node}.${property} (${option.name}): the editor's default and min/max are the table's`, () => {
      const html = read(join(NODES_DIR, `${node}.html`));
      const value = editorDefaults(html).get(property);
      assert.ok(value !== undefined, `${node}.html: defaults has no ${property}`);
      assert.equal(Number(value), option.default, `${node}.html: defaults.${property}.value is ${value}, the table says ${option.default}`);
      const input = editorInput(html, property);
      assert.ok(input, `${node}.html: no <input id="node-input-${property}">`);
      assert.equal(input.attrs.type, 'number');
      for (const bound of ['min', 'max'] as const) {
        if (input.attrs[bound] !== undefined) assert.equal(Number(input.attrs[bound]), option[bound], `${node}.html: ${property} ${bound}="${input.attrs[bound]}", the table says ${option[bound]}`);
      }
      if (!option.integer) assert.equal(input.attrs.step, 'any', `${node}.html: ${property} takes fractions: step="any"`);
      if (option.unit === 'ms' || option.unit === 's') assert.equal(input.after, option.unit, `${node}.html: the unit after the ${property} input`);
    });
  }

  for (const node of NODE_TYPES) {
    it(`${node}: its help states each setting's default and bounds as the table does, and no other default`, () => {
      const help = oneLine(read(join(LOCALES, `${node}.html`)));
      const mine = NODE_PROPERTIES.filter((p) => p.node === node);
      const byLabel = new Map(mine.map((p) => [labelOf(node, p.property), p.option]));
      // "<i>Timeout</i> 2000 ms (50 to 600000)"
      const stated = new Map<string, { value: number; unit?: string; min: number; max: number }>();
      for (const m of help.matchAll(/<i>([^<]+)<\/i> (\d+(?:\.\d+)?)(?: (ms|s))? \((\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)\)/g)) {
        stated.set(m[1], { value: Number(m[2]), unit: m[3], min: Number(m[4]), max: Number(m[5]) });
      }
      for (const [label, o] of byLabel) {
        const s = stated.get(label);
        assert.ok(s, `${node} help: no "<i>${label}</i> ${o.default} (${o.min} to ${o.max})"`);
        assert.deepEqual(s, { value: o.default, unit: o.unit === 'ms' || o.unit === 's' ? o.unit : undefined, min: o.min, max: o.max }, `${node} help on ${label}`);
      }
      for (const label of stated.keys()) assert.ok(byLabel.has(label), `${node} help states bounds for "${label}", which is no option of this node`);
      // Free text: "default 3000", "3000 ms by default", "defaults to 3000": each must be the
      // default of the option named (in <i>...</i>) just before it, in the same sentence.
      const claims = [
        ...help.matchAll(/\bdefaults?\b(?: is| to| of)?:? (\d[\d,]*(?:\.\d+)?)/gi),
        ...help.matchAll(/(\d[\d,]*(?:\.\d+)?)(?: ?(?:ms|s|seconds|milliseconds|characters))? by default/gi),
      ];
      for (const c of claims) {
        const before = help.slice(0, c.index).split(/[.;]\s/).pop() ?? '';
        const label = [...before.matchAll(/<i>([^<]+)<\/i>/g)].pop()?.[1];
        const o = label === undefined ? undefined : byLabel.get(label);
        assert.ok(o, `${node} help states a default ("${c[0]}") that names no setting of the table`);
        assert.equal(Number(c[1].replace(/,/g, '')), o.default, `${node} help: "${c[0]}" for ${label}, the table says ${o.default}`);
      }
    });
  }
});

describe('options: the shipped flows and examples', () => {
  const files = [...readdirSync(join(ROOT, 'flows')).map((f) => join('flows', f)), ...readdirSync(join(ROOT, 'examples')).map((f) => join('examples', f))].filter((f) => f.endsWith('.json'));

  it('set every table option of their nodes within the table\'s bounds (so no clamp changes them)', () => {
    let checked = 0;
    for (const file of files) {
      const flow = JSON.parse(read(join(ROOT, file))) as Array<Record<string, unknown>>;
      for (const n of flow) {
        for (const { node, property, option } of NODE_PROPERTIES) {
          if (n.type !== node || n[property] === undefined || n[property] === '') continue;
          const v = Number(n[property]);
          assert.ok(v >= option.min && v <= option.max && (!option.integer || Number.isInteger(v)), `${file}: ${node} ${n.id} ${property}=${n[property]} outside ${option.min}..${option.max}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 10, `only ${checked} settings found`);
  });

  it('the HTTP API: listen_duration defaults to the table\'s listen time, within its bounds', () => {
    // The API's request checks are lib/dashboard/api.ts (run by the flow's dashboard view nodes).
    const o = OPTIONS.listenSeconds;
    assert.equal(API_DEFAULT_LISTEN_S, o.default);
    // The API allows less (its answer waits for the scan), never more.
    assert.ok(API_MAX_LISTEN_S <= o.max && API_MAX_LISTEN_S > o.min, `listen_duration up to ${API_MAX_LISTEN_S} outside ${o.min}..${o.max}`);
    const ok = checkScanRequest({ target: '127.0.0.1' }, '1883');
    assert.ok(!('ok' in ok && ok.ok === false), JSON.stringify(ok));
    assert.equal((ok as { request: { listen_duration: number } }).request.listen_duration, o.default);
    const over = checkScanRequest({ target: '127.0.0.1', listen_duration: API_MAX_LISTEN_S + 1 }, '1883') as { ok: boolean; body: { field?: string } };
    assert.equal(over.ok, false);
    assert.equal(over.body.field, 'listen_duration');
  });
});
