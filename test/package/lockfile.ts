// A package-lock.json for a temporary project, cut out of the repository's own lockfile, so that
// `npm ci --offline` installs it from the npm cache that the repository's `npm ci` filled: the
// same versions with the same integrity, so exactly the tarballs that install cached, and when
// the lockfile has no "resolved" URLs (npm's omit-lockfile-registry-resolved) the metadata npm
// fetched to find them, cached as well. A plain `npm install --offline` would resolve version
// ranges afresh and could pick a version the cache does not hold.
// The temporary tree is a subset of the repository's tree, so its layout is the repository's.

/** One entry of a lockfile (v2/v3) `packages` map; only the fields used here are typed. */
export interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optional?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  inBundle?: boolean;
  [key: string]: unknown;
}

export interface Lockfile {
  name?: string;
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
  [key: string]: unknown;
}

/** The folder an entry's dependencies are looked up from next, '' for the project root. */
function parentOf(path: string): string {
  const at = path.lastIndexOf('/node_modules/');
  return at < 0 ? '' : path.slice(0, at);
}

/** Where Node (and npm) finds `name` for the package at `from`: the nearest node_modules up. */
function locate(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let dir: string | null = from; dir !== null; dir = dir === '' ? null : parentOf(dir)) {
    const path = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[path]) return path;
  }
  return undefined;
}

/** Outgoing edges of an entry: name and whether the edge is optional. Optional peers are not
 *  installed by npm unless something else needs them, so they are left out. */
function edges(entry: LockEntry): Array<{ name: string; optional: boolean }> {
  const out = [
    ...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
  ];
  for (const name of Object.keys(entry.peerDependencies ?? {})) {
    if (!entry.peerDependenciesMeta?.[name]?.optional) out.push({ name, optional: false });
  }
  return out;
}

/**
 * The lockfile of a project whose root depends on `rootDeps` (name -> spec as in its
 * package.json), with `extra` entries (e.g. a local tarball) added as given. Every other package
 * comes from `source` with its resolved/integrity, at the same path. Throws, naming the package,
 * when a required dependency is not in `source`.
 */
export function subsetLockfile(source: Lockfile, rootName: string, rootDeps: Record<string, string>, extra: Record<string, LockEntry> = {}): Lockfile {
  const all: Record<string, LockEntry> = { ...source.packages, ...extra };
  const root: LockEntry = { name: rootName, dependencies: rootDeps };
  // Walk twice: every package reachable, then those reachable without an optional edge.
  const reach = (followOptional: boolean): Set<string> => {
    const seen = new Set<string>();
    const queue: Array<[string, LockEntry]> = [['', root]];
    while (queue.length) {
      const [from, entry] = queue.shift()!;
      for (const edge of edges(entry)) {
        if (edge.optional && !followOptional) continue;
        const path = locate(all, from, edge.name);
        if (!path) {
          if (edge.optional) continue; // e.g. a platform-only package npm left out
          throw new Error(`${edge.name} (needed by ${from || rootName}) is not in the lockfile`);
        }
        if (seen.has(path)) continue;
        seen.add(path);
        queue.push([path, all[path]]);
      }
    }
    return seen;
  };
  const reachable = reach(true);
  const required = reach(false);
  const packages: Record<string, LockEntry> = { '': { name: rootName, dependencies: rootDeps } };
  for (const path of [...reachable].sort()) {
    const { dev: _dev, devOptional: _devOptional, optional: _optional, peer: _peer, ...entry } = all[path];
    packages[path] = required.has(path) ? entry : { ...entry, optional: true };
  }
  return { name: rootName, lockfileVersion: 3, requires: true, packages };
}
