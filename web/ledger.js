// Checks, in the page, that a household's or pod's entries are in the community's published
// ledger, written from the public specifications alone (C2SP signed-note, tlog-checkpoint,
// tlog-tiles; RFC 6962 / RFC 9162 proofs), with the browser's WebCrypto (SHA-256, Ed25519):
// it shares no code with the twin that wrote the log.
//
//   import { checkAsset } from './ledger.js';
//   const r = await checkAsset('ledger/', vkey, 'homes-nf-a-1');
//   // r: { origin, size, root, entries, proven, latest } or an Error thrown naming the problem
//
// `fetchBytes` (default: fetch) can be replaced, e.g. to read files from disk in Node.

const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });

const b64decode = (s) => {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4) throw new Error(`not base64: ${s}`);
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
};
const b64encode = (bytes) => btoa(String.fromCharCode(...bytes));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
export const leafHash = (entry) => sha256(concat(new Uint8Array([0]), entry));
const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));

/** A verifier key `<name>+<hex id>+<base64(0x01 || key)>`, its id checked. */
export async function parseVkey(vkey) {
  const [name, hexId, ...rest] = vkey.trim().split('+');
  const material = b64decode(rest.join('+'));
  if (!name || !/^[0-9a-f]{8}$/.test(hexId) || material.length !== 33 || material[0] !== 1) {
    throw new Error('not an Ed25519 verifier key');
  }
  const id = (await sha256(concat(te.encode(name), new Uint8Array([10]), material))).slice(0, 4);
  if (b64encode(id) !== b64encode(Uint8Array.from(hexId.match(/../g), (h) => parseInt(h, 16)))) {
    throw new Error('the verifier key id does not match its key');
  }
  const key = await crypto.subtle.importKey('raw', material.slice(1), { name: 'Ed25519' }, false, ['verify']);
  return { name, id, key };
}

/** Verifies a signed note with the log's key and reads the checkpoint in it. */
export async function openCheckpoint(noteBytes, vkey) {
  const note = td.decode(noteBytes);
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('checkpoint: no signatures');
  const text = note.slice(0, split + 1);
  let verified = false;
  for (const line of note.slice(split + 2).split('\n').filter((l) => l)) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) throw new Error(`checkpoint: bad signature line ${JSON.stringify(line)}`);
    const sig = b64decode(m[2]);
    if (m[1] !== vkey.name || !equal(sig.slice(0, 4), vkey.id)) continue;
    if (sig.length !== 68 || !(await crypto.subtle.verify({ name: 'Ed25519' }, vkey.key, sig.slice(4), te.encode(text)))) {
      throw new Error('checkpoint: the log\'s signature does not verify');
    }
    verified = true;
  }
  if (!verified) throw new Error('checkpoint: not signed by the log\'s key');
  const [origin, size, root] = text.split('\n');
  if (!/^(0|[1-9][0-9]*)$/.test(size)) throw new Error('checkpoint: bad tree size');
  return { origin, size: Number(size), root: b64decode(root) };
}

/** `tile/<L>/<N>[.p/<W>]` (L = 'entries' for bundles), N in three-digit groups. */
export function tilePath(level, index, width) {
  let n = index, groups = [String(n % 1000).padStart(3, '0')];
  for (n = Math.floor(n / 1000); n > 0; n = Math.floor(n / 1000)) groups.unshift('x' + String(n % 1000).padStart(3, '0'));
  return `tile/${level}/${groups.join('/')}` + (width < 256 ? `.p/${width}` : '');
}

/** Reads hashes of the tree of `size` leaves from its tiles, with a cache. */
class Tiles {
  constructor(base, size, fetchBytes) {
    Object.assign(this, { base, size, fetchBytes, cache: new Map(), memo: new Map() });
  }
  async tile(level, index) {
    const hashes = Math.floor(this.size / 256 ** level);
    const width = index < Math.floor(hashes / 256) ? 256 : hashes % 256;
    const path = tilePath(level, index, width);
    if (!this.cache.has(path)) {
      const bytes = await this.fetchBytes(this.base + path);
      if (bytes.length !== width * 32) throw new Error(`${path}: ${bytes.length} bytes for ${width} hashes`);
      this.cache.set(path, bytes);
    }
    return this.cache.get(path);
  }
  /** MTH of the perfect subtree of 2^height leaves starting at leaf index * 2^height. */
  async perfect(height, index) {
    const key = `${height}/${index}`;
    if (!this.memo.has(key)) this.memo.set(key, this.perfectUncached(height, index));
    return this.memo.get(key);
  }
  async perfectUncached(height, index) {
    const level = Math.floor(height / 8), span = 2 ** (height % 8), first = index * span;
    const t = await this.tile(level, Math.floor(first / 256));
    let row = [];
    for (let k = 0; k < span; k++) { const at = ((first % 256) + k) * 32; row.push(t.slice(at, at + 32)); }
    while (row.length > 1) {
      const up = [];
      for (let k = 0; k < row.length; k += 2) up.push(await nodeHash(row[k], row[k + 1]));
      row = up;
    }
    return row[0];
  }
  /** MTH(D[start:end]) for the ranges of RFC 6962's recursion. */
  async mth(start, end) {
    const n = end - start;
    if ((n & (n - 1)) === 0 && start % n === 0) return this.perfect(Math.log2(n), start / n);
    const k = 2 ** Math.floor(Math.log2(n - 1));
    return nodeHash(await this.mth(start, start + k), await this.mth(start + k, end));
  }
  /** RFC 6962 §2.1.1 PATH(m, D[start:end]), from the leaf up. */
  async path(m, start, end) {
    const n = end - start;
    if (n <= 1) return [];
    const k = 2 ** Math.floor(Math.log2(n - 1));
    return m < k
      ? [...(await this.path(m, start, start + k)), await this.mth(start + k, end)]
      : [...(await this.path(m - k, start + k, end)), await this.mth(start, start + k)];
  }
}

/** RFC 9162 §2.1.3.2: does `proof` lead from the leaf at `index` to `root`? */
export async function verifyInclusion(leaf, index, size, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** The entries of a bundle. */
function readBundle(bytes, path) {
  const out = [];
  for (let at = 0; at < bytes.length;) {
    if (at + 2 > bytes.length) throw new Error(`${path}: truncated`);
    const len = (bytes[at] << 8) | bytes[at + 1];
    if (at + 2 + len > bytes.length) throw new Error(`${path}: truncated`);
    out.push(bytes.slice(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

/** Does an entry (schema v1, docs/ledger.md) name the asset (a load: its households too)? */
function names(entry, asset) {
  const e = JSON.parse(td.decode(entry));
  return [e.consumer, e.asset, e.household].includes(asset)
    || (typeof e.household === 'string' && e.household.startsWith(asset + '/'))
    || (e.suppliers || []).some((s) => s.asset === asset)
    || (e.assets || []).includes(asset);
}

const defaultFetch = async (url) => {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
};

/**
 * Verifies the checkpoint at `base` with the verifier key `vkeyText`, finds the entries that
 * name `asset`, and proves each of them included in the signed tree from the tiles.
 */
export async function checkAsset(base, vkeyText, asset, fetchBytes = defaultFetch) {
  if (!base.endsWith('/')) base += '/';
  const vkey = await parseVkey(vkeyText);
  const cp = await openCheckpoint(await fetchBytes(base + 'checkpoint'), vkey);
  const tiles = new Tiles(base, cp.size, fetchBytes);
  let entries = 0, proven = 0, latest = null;
  for (let b = 0; b * 256 < cp.size; b++) {
    const width = Math.min(256, cp.size - b * 256);
    const path = tilePath('entries', b, width);
    const bundle = readBundle(await fetchBytes(base + path), path);
    if (bundle.length !== width) throw new Error(`${path}: ${bundle.length} entries, expected ${width}`);
    for (let k = 0; k < bundle.length; k++) {
      if (!names(bundle[k], asset)) continue;
      const index = b * 256 + k;
      entries++;
      const proof = await tiles.path(index, 0, cp.size);
      if (!(await verifyInclusion(await leafHash(bundle[k]), index, cp.size, proof, cp.root))) {
        throw new Error(`entry ${index} of ${asset} is not in the signed tree`);
      }
      proven++;
      latest = index;
    }
  }
  return { origin: cp.origin, size: cp.size, root: b64encode(cp.root), entries, proven, latest };
}
