#!/usr/bin/env python3
"""Trunk post-build hook: complete the Content-Security-Policy of the built index.html.

Trunk writes an inline <script type="module"> that loads the wasm (and, under `trunk serve`, an
inline live-reload script). Instead of allowing every inline script ('unsafe-inline'), this puts
the sha256 hash of each inline script into script-src, replacing __INLINE_SCRIPT_HASHES__. Under
`trunk serve` (debug profile) it allows inline scripts and the live-reload WebSocket on
loopback instead, since Trunk rewrites the live-reload script after this hook runs.
"""
import base64
import hashlib
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
