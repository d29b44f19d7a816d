// Issue 18, editor text: what the editor inserts as text (data-i18n without "[html]", labels,
// placeholders) is shown as written, so a locale string must hold no HTML entity or tag there
// ("mqttsec/canary/&lt;random&gt;" showed the entity); and every node, the credentials config
// node too, has a readable palette label instead of its type name.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const NODES = join(__dirname, '../../nodes');
/** An entity, or an HTML tag the catalogs use elsewhere ("<user dir>" is words in brackets, shown as is). */
const MARKUP = /&[a-z]+;|&#\d+;|<\/?(?:a|b|i|em|strong|code|span|div|p|br|ul|ol|li)\b[^>]*>/i;
const LOCALES = join(NODES, 'locales/en-US');

function lookup(catalog: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog);
}

describe('editor text', () => {
  const htmlFiles = readdirSync(NODES).filter((f) => f.endsWith('.html'));

  it('strings the editor inserts as text hold no HTML entity or tag', () => {
    let checked = 0;
    for (const file of htmlFiles) {
      const type = file.replace(/\.html$/, '');
      const catalog = JSON.parse(readFileSync(join(LOCALES, `${type}.json`), 'utf8')) as Record<string, unknown>;
      const html = readFileSync(join(NODES, file), 'utf8');
      for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) {
        for (const part of m[1].split(';')) {
          if (part.startsWith('[html]')) continue;
          const key = part.replace(/^\[[a-z]+\]/, '');
          if (key.includes(':')) continue; // Node-RED's own catalog (node-red:common.label.name)
          const value = lookup(catalog, key);
          assert.equal(typeof value, 'string', `${file}: ${key} is in the catalog`);
          assert.ok(!MARKUP.test(value as string), `${file}: ${key} is shown as text, but holds markup: ${value}`);
          checked++;
        }
      }
      for (const m of html.matchAll(/this\._\('([^']+)'\)/g)) {
        const value = lookup(catalog, m[1]);
        assert.equal(typeof value, 'string', `${file}: ${m[1]} is in the catalog`);
        assert.ok(!MARKUP.test(value as string), `${file}: ${m[1]} holds markup: ${value}`);
      }
    }
    assert.ok(checked > 50, `${checked} strings checked`);
  });

  it('every node has a palette label, the credentials config node too', () => {
    for (const file of htmlFiles) {
      const html = readFileSync(join(NODES, file), 'utf8');
      assert.match(html, /paletteLabel: function \(\) \{ return this\._\('[a-z-]+\.paletteLabel'\); \}/, file);
    }
  });
});
