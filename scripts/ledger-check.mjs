// Checks a ledger directory on disk with the page's independent verifier (web/ledger.js):
// the checkpoint's signature, and an inclusion proof of every entry naming ASSET.
// Usage: node scripts/ledger-check.mjs DIR VKEY ASSET
// Prints the result as JSON; exits 1 (naming the problem) when the check fails.
import { readFile } from 'node:fs/promises';
import { checkAsset } from '../web/ledger.js';

const [dir, vkey, asset] = process.argv.slice(2);
if (!dir || !vkey || !asset) {
  console.error('usage: node scripts/ledger-check.mjs DIR VKEY ASSET');
  process.exit(2);
}
try {
  const key = vkey.includes('+') ? vkey : (await readFile(vkey, 'utf8')).trim();
  const r = await checkAsset(dir, key, asset, async (p) => new Uint8Array(await readFile(p)));
  console.log(JSON.stringify(r));
} catch (e) {
  console.error(`ledger-check: ${e.message}`);
  process.exit(1);
}
