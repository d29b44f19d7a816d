// Malformed and dangerous scan requests, shared by the CLI, node and HTTP API tests: each must be
// refused with a message naming the bad part, and nothing may be scanned.
export interface BadInput {
  name: string;
  targets?: unknown;
  ports?: unknown;
  /** Extra CLI arguments (options that only the CLI has). */
  cli?: string[];
  /** What the error message must contain: the bad token or the option's name. */
  names: string | RegExp;
}

const long = 'a'.repeat(10_000);

export const BAD_TARGETS: BadInput[] = [
  { name: 'empty', targets: '', names: /target/i },
  { name: 'whitespace', targets: '   \t ', names: /target/i },
  { name: 'a bare /0', targets: '/0', names: '"/0"' },
  { name: 'the whole internet', targets: '0.0.0.0/0', names: '"0.0.0.0/0"' },
  { name: 'prefix /33', targets: '10.0.0.0/33', names: '"10.0.0.0/33": prefix must be 0-32' },
  { name: 'negative prefix', targets: '10.0.0.0/-1', names: '"10.0.0.0/-1"' },
  { name: 'word prefix', targets: '10.0.0.0/abc', names: '"10.0.0.0/abc"' },
  { name: 'octet 999', targets: '999.1.1.1', names: '"999.1.1.1"' },
  { name: 'octet 256', targets: '256.0.0.1', names: '"256.0.0.1"' },
  { name: 'three octets', targets: '1.2.3', names: '"1.2.3"' },
  { name: 'five octets', targets: '1.2.3.4.5', names: '"1.2.3.4.5"' },
  { name: 'leading zero', targets: '01.2.3.4', names: '"01.2.3.4"' },
  { name: 'reversed range', targets: '10.0.0.9-10.0.0.1', names: '"10.0.0.9-10.0.0.1"' },
  { name: 'reversed short range', targets: '10.0.0.5-2', names: '"10.0.0.5-2"' },
  { name: 'short range past 255', targets: '10.0.0.1-999', names: '"10.0.0.1-999"' },
  { name: 'non-contiguous mask', targets: '10.0.0.0/255.0.255.0', names: '"10.0.0.0/255.0.255.0"' },
  { name: 'IPv6 /64', targets: 'fd00::/64', names: '"fd00::/64"' },
  { name: 'IPv6 everything', targets: '::/0', names: '"::/0"' },
  { name: 'bad IPv6', targets: 'gggg::1', names: '"gggg::1"' },
  { name: 'public address', targets: '8.8.8.8', names: /"8\.8\.8\.8".*allow/i },
  { name: 'public network', targets: '1.1.1.0/24', names: /"1\.1\.1\.0\/24".*allow/i },
  { name: 'multicast', targets: '224.0.0.1', names: '"224.0.0.1"' },
  { name: 'broadcast', targets: '255.255.255.255', names: '"255.255.255.255"' },
  { name: 'shell separator', targets: '127.0.0.1;rm -rf /', names: '"127.0.0.1;rm' },
  { name: 'shell substitution', targets: '$(reboot)', names: '"$(reboot)"' },
  { name: 'backticks', targets: '`id`', names: '"`id`"' },
  { name: 'SQL injection', targets: "' OR 1=1 --", names: `"'"` },
  { name: 'shell and', targets: '127.0.0.1&&id', names: '"127.0.0.1&&id"' },
  { name: 'HTML', targets: '<script>alert(1)</script>', names: '"<script>alert(1)</script>"' },
  { name: 'path traversal', targets: '../../etc/passwd', names: '"../../etc/passwd"' },
  { name: 'fullwidth unicode', targets: 'ｌｏｃａｌｈｏｓｔ', names: '"ｌｏｃａｌｈｏｓｔ"' },
  { name: 'NUL byte', targets: '127.0.0.1\u0000', names: /127\.0\.0\.1/ },
  { name: '10 kB string', targets: long, names: '"aaaaaaaaaa' },
  { name: 'host:port', targets: '127.0.0.1:1883', names: '"127.0.0.1:1883"' },
  { name: 'exclusion only', targets: '!127.0.0.1', names: '"!127.0.0.1"' },
  { name: 'URL', targets: 'http://127.0.0.1', names: '"http://127.0.0.1"' },
  { name: 'two prefixes', targets: '127.0.0.1/24/8', names: '"127.0.0.1/24/8"' },
  { name: 'a dash', targets: '-', names: '"-"' },
  { name: 'too many targets', targets: '10.0.0.0/8', names: /"10\.0\.0\.0\/8".*maxTargets/ },
];

export const BAD_PORTS: BadInput[] = [
  { name: 'port 70000', ports: '70000', names: '"70000": port must be 1-65535' },
  { name: 'port 0', ports: '0', names: '"0"' },
  { name: 'negative port', ports: '-1', names: '"-1"' },
  { name: 'reversed port range', ports: '9-1', names: '"9-1"' },
  { name: 'word port', ports: 'abc', names: '"abc"' },
  { name: 'port list with junk', ports: '1883,,x', names: '"x"' },
  { name: 'range past 65535', ports: '1-70000', names: '"1-70000"' },
  { name: 'exponent', ports: '1e3', names: '"1e3"' },
  { name: 'fraction', ports: '1883.5', names: '"1883.5"' },
];

/** JSON of the wrong type, for the node and the HTTP API. */
export const BAD_TYPES: BadInput[] = [
  { name: 'targets as a number', targets: 123, names: '"targets"' },
  { name: 'targets as an object', targets: { a: 1 }, names: '"targets"' },
  { name: 'targets as numbers', targets: [1, 2], names: '"targets"' },
  { name: 'ports as an object', ports: { p: 1 }, names: '"ports"' },
  { name: 'ports as booleans', ports: [true], names: '"ports"' },
];

/** Options only the CLI takes. */
export const BAD_CLI_OPTIONS: BadInput[] = [
  { name: 'negative timeout', cli: ['--timeout=-5'], names: '--timeout "-5"' },
  { name: 'zero timeout', cli: ['--timeout', '0'], names: '--timeout "0"' },
  { name: 'word timeout', cli: ['--timeout', 'abc'], names: '--timeout "abc"' },
  { name: 'zero concurrency', cli: ['--concurrency', '0'], names: '--concurrency "0"' },
  { name: 'negative concurrency', cli: ['--concurrency=-1'], names: '--concurrency "-1"' },
  { name: 'negative listen', cli: ['--listen=-1'], names: '--listen "-1"' },
  { name: 'zero max targets', cli: ['--max-targets', '0'], names: '--max-targets "0"' },
  { name: 'unknown transport', cli: ['--transport', 'x'], names: '--transport "x"' },
  { name: 'MQTT 6', cli: ['--mqtt-version', '6'], names: '--mqtt-version "6"' },
  // Issue 18: a username and no way to give its password would log in with none.
  { name: 'a user without a password', cli: ['--user', 'admin'], names: '--user "admin" needs its password' },
  { name: 'two password sources', cli: ['--user', 'admin', '--password-stdin', '--no-password'], names: 'give the password one way' },
  // Issue 18: a report folder under a file is refused before the scan, not after it.
  { name: 'a report folder under a file', cli: ['--report', `${__dirname}/bad-inputs.ts/reports`], names: /--report ".*bad-inputs\.ts\/reports": cannot write reports there \(ENOTDIR\)/ },
];
