// Finds credentials that must never be committed under firmware/.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface SecretHit {
  file: string;
  line: number;
  why: string;
  text: string;
}

/** A value a committed file may assign to a credential: "your-...", "<...>" or empty. */
export const PLACEHOLDER = /^(?:your-[a-z0-9-]+|<[^<>]*>|)$/i;

const RULES: { why: string; re: RegExp; ok?: (m: RegExpExecArray) => boolean }[] = [
  { why: 'PEM private key', re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/g },
  // Real PEM material has base64 lines; the example only holds a "PASTE ..." placeholder.
  { why: 'PEM block with content', re: /-----BEGIN [A-Z0-9 ]+-----\r?\n[A-Za-z0-9+/=]{40,}\r?\n/g },
  {
    why: 'credential value',
    // NAME "value", NAME = "value", "name": "value", --name 'value' ... for password-like names.
    re: /\b[A-Za-z_]*(?:pass(?:word|wd|phrase)?|pwd|secret|token|psk)[A-Za-z_]*\b["']?\s*(?:[:=]\s*|\s+)["']([^"'\r\n]*)["']/gi,
    ok: (m) => PLACEHOLDER.test(m[1]),
  },
  { why: 'literal Wi-Fi credentials', re: /WiFi\.begin\(\s*"/g },
];

export function scanText(file: string, text: string): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const rule of RULES) {
    for (const m of text.matchAll(rule.re)) {
      if (rule.ok?.(m as RegExpExecArray)) continue;
      const line = text.slice(0, m.index).split('\n').length;
      hits.push({ file, line, why: rule.why, text: m[0].trim().slice(0, 80) });
    }
  }
  return hits;
}

/** Every file under root except secrets.h, which is git-ignored and holds the real values. */
export function scanTree(root: string, base = root): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'build') hits.push(...scanTree(path, base));
    } else if (entry.isFile() && entry.name !== 'secrets.h') {
      hits.push(...scanText(relative(base, path), readFileSync(path, 'utf8')));
    }
  }
  return hits;
}
