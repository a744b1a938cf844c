#!/usr/bin/env node
// Fetches the natural photographs listed in tooling/photos/manifest.json from Debian packages
// into data/photos/<package>/<file>, for synthetic manipulation data (@sparsevit/synth).
//
//   node tooling/scripts/fetch-photos.mjs [--dest data/photos] [--cache data/cache/photos]
//
// No root needed: `apt-get download` fetches the .deb into the cache folder and `dpkg-deb -x`
// unpacks it there. Idempotent: a photo already in place with the manifest's size is kept, and a
// package is only downloaded and unpacked when one of its photos is missing (a second run does no
// download and finishes in well under a second). The manifest is copied beside the photos, so
// `loadPhotoManifest('data/photos')` finds the splits.
//
// An entry with a `resource` names a file inside a Qt resource bundle (`path` is the `.rcc`):
// GCompris ships its photographs that way, and lib/qt-rcc.mjs reads them out.
//
// python3-skimage and opencv-doc images are reserved for independent evaluation: this script
// refuses them, so no training data can come from them.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listRcc } from './lib/qt-rcc.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RESERVED = new Set(['python3-skimage', 'opencv-doc']);

function parseArgs(argv) {
  const options = { dest: join(repo, 'data/photos'), cache: join(repo, 'data/cache/photos'), manifest: join(repo, 'tooling/photos/manifest.json') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      console.log('usage: node tooling/scripts/fetch-photos.mjs [--dest DIR] [--cache DIR] [--manifest FILE]');
      process.exit(0);
    }
    if (!['--dest', '--cache', '--manifest'].includes(flag) || value === undefined) {
      console.error(`fetch-photos: unknown or incomplete option ${flag}`);
      process.exit(2);
    }
    options[flag.slice(2)] = resolve(value);
    i++;
  }
  return options;
}

function run(command, args, cwd) {
  try {
    return execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    const stderr = String(error.stderr ?? '').trim();
    throw new Error(`${command} ${args.join(' ')} failed${stderr ? `:\n${stderr}` : ''}`);
  }
}

/** The cached .deb of `pkg`, downloading it when absent. */
function debOf(pkg, cache) {
  const debs = join(cache, 'debs');
  mkdirSync(debs, { recursive: true });
  const find = () => readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!find()) {
    console.log(`fetch-photos: apt-get download ${pkg}`);
    try {
      run('apt-get', ['download', pkg], debs);
    } catch (error) {
      throw new Error(`${error.message}\n(apt-get needs the package lists: run \`apt-get update\` once, as root, if they are empty)`);
    }
  }
  const deb = find();
  if (!deb) throw new Error(`apt-get download ${pkg} wrote no .deb into ${debs}`);
  return join(debs, deb);
}

/** The unpacked tree of `pkg` in the cache, unpacking it on first use. */
function unpacked(pkg, cache) {
  const root = join(cache, 'unpacked', pkg);
  const done = join(root, '.unpacked');
  if (!existsSync(done)) {
    const deb = debOf(pkg, cache);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    run('dpkg-deb', ['-x', deb, root]);
    writeFileSync(done, `${deb}\n`);
  }
  return root;
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const manifest = JSON.parse(readFileSync(options.manifest, 'utf8'));
  const photos = manifest.photos;
  for (const p of photos) {
    if (RESERVED.has(p.package)) throw new Error(`${p.package} is reserved for independent evaluation; remove ${p.file} from the manifest`);
    if (!/^[A-Za-z0-9._-]+$/.test(p.file) || !/^[a-z0-9.+-]+$/.test(p.package)) throw new Error(`bad manifest entry ${JSON.stringify(p)}`);
  }
  const present = (p) => {
    const target = join(options.dest, p.package, p.file);
    return existsSync(target) && (p.bytes === undefined || statSync(target).size === p.bytes);
  };
  const missing = photos.filter((p) => !present(p));
  const packages = [...new Set(missing.map((p) => p.package))];
  let copied = 0;
  const bundles = new Map();
  for (const pkg of packages) {
    const root = unpacked(pkg, options.cache);
    const version = manifest.packages?.[pkg]?.version;
    for (const p of missing.filter((m) => m.package === pkg)) {
      const source = join(root, p.path);
      const changed = (what) => new Error(`${pkg}${version ? ` (manifest: ${version})` : ''} has no ${what}; the package changed, update the manifest`);
      if (!existsSync(source)) throw changed(p.path);
      mkdirSync(join(options.dest, pkg), { recursive: true });
      if (p.resource !== undefined) {
        bundles.set(source, bundles.get(source) ?? listRcc(readFileSync(source)));
        const entry = bundles.get(source).find((f) => f.path === p.resource);
        if (!entry) throw changed(`${p.resource} in ${p.path}`);
        writeFileSync(join(options.dest, pkg, p.file), entry.data());
      } else {
        // copyFileSync follows the package's resolution symlinks (Plasma links every size to one file).
        copyFileSync(source, join(options.dest, pkg, p.file));
      }
      const size = statSync(join(options.dest, pkg, p.file)).size;
      if (p.bytes !== undefined && size !== p.bytes) {
        console.warn(`fetch-photos: ${pkg}/${p.file} is ${size} bytes, the manifest says ${p.bytes} (another package version?)`);
      }
      copied++;
    }
  }
  mkdirSync(options.dest, { recursive: true });
  copyFileSync(options.manifest, join(options.dest, 'manifest.json'));
  const counts = {};
  for (const p of photos) counts[p.split] = (counts[p.split] ?? 0) + 1;
  console.log(
    `fetch-photos: ${photos.length} photos in ${options.dest} (${copied} copied, ${photos.length - copied} already there); ` +
      Object.entries(counts).map(([s, n]) => `${s} ${n}`).join(', '),
  );
}

try {
  main();
} catch (error) {
  console.error(`fetch-photos: ${error.message}`);
  process.exit(1);
}
