# Writes the documents bench/micro/relay.swift measures: bench.py's document.json (json.dumps default separators),
# its compact twin, a pretty-printed twin, a top-level array, and a string-heavy document with escapes and UTF-8.
import json, random, sys, os
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
items = [{"id": f"ord-{i:05d}", "customer": f"acc-{i % 200:04d}", "status": ["open", "shipped", "invoiced"][i % 3],
          "total": round(100 + i * 3.7, 2), "currency": "EUR", "lines": i % 7 + 1} for i in range(900)]
doc = {"data": items, "count": len(items)}
open(f"{out}/document.json", "w").write(json.dumps(doc))
open(f"{out}/compact.json", "w").write(json.dumps(doc, separators=(",", ":")))
open(f"{out}/pretty.json", "w").write(json.dumps(doc, indent=2))
open(f"{out}/array.json", "w").write(json.dumps(items, separators=(",", ":")))
rnd = random.Random(7)
words = ["Müller", "naïve", "line\nbreak", "tab\there", "quote\"d", "back\\slash", "plain text that runs on for a while", "日本語", "emoji 😀"]
texts = [{"id": i, "note": " ".join(rnd.choice(words) for _ in range(12))} for i in range(600)]
open(f"{out}/strings.json", "w").write(json.dumps({"notes": texts}, ensure_ascii=False))
