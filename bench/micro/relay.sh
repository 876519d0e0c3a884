#!/usr/bin/env bash
# Builds MCPCore in release mode and links bench/micro/relay.swift against it; prints ns/byte per document.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --target MCPCore >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/micro/gen.py "$work"
swiftc -O -I .build/release/Modules bench/micro/relay.swift .build/release/MCPCore.build/*.o -o "$work/relay"
"$work/relay" "$work"/document.json "$work"/compact.json "$work"/pretty.json "$work"/array.json "$work"/strings.json
