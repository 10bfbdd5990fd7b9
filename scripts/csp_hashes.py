#!/usr/bin/env python3
"""Trunk post-build hook: complete the Content-Security-Policy of the built index.html.

Trunk writes an inline <script type="module"> that loads the wasm (and, under `trunk serve`, an
inline live-reload script). Instead of allowing every inline script ('unsafe-inline'), this puts
the sha256 hash of each inline script into script-src, replacing __INLINE_SCRIPT_HASHES__. Under
`trunk serve` (debug profile) it allows inline scripts and the live-reload WebSocket on
loopback instead, since Trunk rewrites the live-reload script after this hook runs.

It then copies the finished index.html to 404.html: static hosts (GitHub Pages, GitLab Pages,
Netlify, Cloudflare Pages, S3 with an error document) answer a path with no file by serving
404.html, so a reload of a client-side route (/encounter/<id>, /history, ...) loads the app, and
the app's router shows the page (or its own "Page not found"). Both steps live in this one hook
because Trunk runs the hooks of one stage concurrently. Last, it publishes the case authoring
guide (docs/case-authoring.md) as case-authoring.txt, which the library links to, and fills in
the service worker's precache list and version (see assets/sw.js).
"""
import base64
import hashlib
import json
import os
import re
import sys


def main() -> int:
    staging = os.environ.get("TRUNK_STAGING_DIR")
    if not staging:
        print("csp_hashes.py: TRUNK_STAGING_DIR is not set (run me as a Trunk hook)", file=sys.stderr)
        return 1
    path = os.path.join(staging, "index.html")
    with open(path, encoding="utf-8") as f:
        html = f.read()
    if "__INLINE_SCRIPT_HASHES__" not in html:
        print(f"csp_hashes.py: no __INLINE_SCRIPT_HASHES__ placeholder in {path}", file=sys.stderr)
        return 1
    hashes = []
    for m in re.finditer(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", html, re.S):
        if re.search(r"\bsrc\s*=", m.group("attrs")):
            continue
        digest = hashlib.sha256(m.group("body").encode("utf-8")).digest()
        hashes.append("'sha256-" + base64.b64encode(digest).decode("ascii") + "'")
    if not hashes:
        print("csp_hashes.py: found no inline script to hash", file=sys.stderr)
        return 1
    dev = os.environ.get("TRUNK_PROFILE") == "debug"
    # `trunk serve` rewrites its live-reload script when it serves the page, after this hook,
    # so its hash cannot be known here: development builds allow inline scripts. Release
    # builds (what tests and users get) carry the exact hashes.
    sources = "'unsafe-inline'" if dev else " ".join(sorted(set(hashes)))
    html = html.replace("__INLINE_SCRIPT_HASHES__", sources)
    html = html.replace("__DEV_CONNECT__", " ws://127.0.0.1:* ws://localhost:*" if dev else "")
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)
    # The fallback page for client-side routes (see the docstring). Asset URLs in index.html
    # are absolute (public_url "/"), so the copy works at any depth.
    with open(os.path.join(staging, "404.html"), "w", encoding="utf-8") as f:
        f.write(html)
    # The case authoring guide, linked from the library's import panel. As .txt, which every
    # host serves as text/plain (browsers would download a .md).
    source = os.environ.get("TRUNK_SOURCE_DIR", os.getcwd())
    guide = os.path.join(source, "docs", "case-authoring.md")
    with open(guide, encoding="utf-8") as f:
        text = f.read()
    with open(os.path.join(staging, "case-authoring.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    return service_worker(staging)


def service_worker(staging: str) -> int:
    """Fills in sw.js: the files to precache (every file of the build, and "/") and a version
    that changes whenever any of them does, so each release installs a new service worker."""
    path = os.path.join(staging, "sw.js")
    if not os.path.exists(path):
        print("csp_hashes.py: no sw.js in the build (index.html must copy assets/sw.js)", file=sys.stderr)
        return 1
    files = []
    for dirpath, _, names in os.walk(staging):
        for name in names:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, staging).replace(os.sep, "/")
            if rel in ("sw.js", "404.html"):
                continue
            files.append(rel)
    files.sort()
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode("utf-8"))
        with open(os.path.join(staging, rel), "rb") as f:
            digest.update(hashlib.sha256(f.read()).digest())
    with open(path, encoding="utf-8") as f:
        sw = f.read()
    for placeholder in ("__BEDSIDE_VERSION__", "__BEDSIDE_PRECACHE__"):
        if placeholder not in sw:
            print(f"csp_hashes.py: no {placeholder} placeholder in sw.js", file=sys.stderr)
            return 1
    precache = ["/"] + ["/" + rel for rel in files]
    sw = sw.replace("__BEDSIDE_VERSION__", digest.hexdigest()[:16])
    sw = sw.replace("__BEDSIDE_PRECACHE__", json.dumps(precache))
    with open(path, "w", encoding="utf-8") as f:
        f.write(sw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
