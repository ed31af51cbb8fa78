#!/usr/bin/env python3
"""What a browser downloads to open one page of a `cargo leptos build --release --precompress
--split` site, brotli as the server sends it: the main script and WASM, the split loader, and the
page's own WASM with every shared chunk its entry in the split manifest lists.

  bundle.py PKG_DIR HASH_FILE [ROUTE_VIEW]   (ROUTE_VIEW of a lazy route, e.g. insights_route_view;
                                             none for a page in the main file)
Prints: total_bytes main_bytes page_bytes files
"""
import json, os, sys

pkg, hash_file = sys.argv[1], sys.argv[2]
route = sys.argv[3] if len(sys.argv) > 3 else None
hashes = {}
for line in open(hash_file):
    if ':' in line:
        kind, value = line.split(':', 1)
        hashes[kind.strip()] = value.strip()


def br(name):
    path = os.path.join(pkg, name + '.br')
    return os.path.getsize(path) if os.path.exists(path) else os.path.getsize(os.path.join(pkg, name))


main = br(f"clearance.{hashes['js']}.js") + br(f"clearance.{hashes['wasm']}.wasm")
files = 2
page = 0
manifest = {}
if 'manifest' in hashes:
    main += br(f"__wasm_split.{hashes['split']}.js")
    files += 1
    manifest = json.load(open(os.path.join(pkg, f"__wasm_split_manifest.{hashes['manifest']}.json")))
if route:
    entries = [k for k in manifest if route in k]
    if len(entries) != 1:
        sys.exit(f"no single split entry for {route} in the manifest ({len(entries)} found)")
    chunks = set(manifest[entries[0]])
    page = sum(br(c + '.wasm') for c in chunks)
    files += len(chunks)
print(main + page, main, page, files)
