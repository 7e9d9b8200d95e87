#!/usr/bin/env python3
"""Writes a ti-bundle following docs/bundle-format.md only (no project code): proves the format is reproducible.

Usage: write_bundle.py DIR    (needs the `blake3` module from PyPI)
"""
import json
import os
import sys

import blake3


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def main(root):
    files = {"inventory.json": b'{"objects": []}\n', "records/01-data_attribute.ndjson": b"{}\n"}
    entries = []
    for path, data in sorted(files.items()):
        full = os.path.join(root, *path.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        entries.append({"path": path, "bytes": len(data), "blake3": blake3.blake3(data).hexdigest()})
    entries[1]["rows"] = 1
    content = {"format": "ti-bundle", "format_version": 1, "kind": "load", "parent": "p" * 64,
               "migration_id": "demo", "files": entries}
    provenance = {"created_at": "2026-11-29T00:00:00Z",
                  "producer": {"name": "write_bundle.py", "version": "1"}, "config_digest": "none"}
    bundle_id = blake3.blake3(canonical(content)).hexdigest()
    seal = blake3.blake3(canonical(dict(provenance, bundle_id=bundle_id))).hexdigest()
    manifest = dict(content, **provenance, bundle_id=bundle_id, seal=seal)
    with open(os.path.join(root, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
