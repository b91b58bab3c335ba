#!/usr/bin/env python3
"""Search quality on topical queries over the labelled development notes.

Builds a temporary aikb knowledge base from the shipped corpus and every
development set in tests/fixtures/dev*/ (their notes carry their labels as
`category:`/`subcategory:` in the front matter), runs short queries of the kind
analysts type (abbreviations, hyphens, two-word spellings), each naming one
subcategory, through `aikb search --json --limit 10`, and counts a hit as
relevant when its label is that subcategory. Prints precision at 10 and
nDCG@10 (binary gain) per query and their means.

A low figure is not always a ranking fault: "DePIN compute" also finds
non-AI DePIN notes, labelled `none`. Compare builds, not absolute values.
Held-out sets are never read.

Standard library only. The aikb binary is taken from $AIKB (default:
<repo>/target/release/aikb).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent

# Subcategory -> queries naming it.
QUERIES: dict[str, list[str]] = {
    "agents": ["AI agents", "autonomous agent framework", "agentic", "agent launchpad", "ai-agent tokens"],
    "model-networks": [
        "subnets",
        "decentralized model training",
        "inference network",
        "federated learning",
        "incentivized machine-learning network",
    ],
    "ai-chains": ["AI L1", "blockchain for AI", "AI chain"],
    "ai-finance": ["AI trading", "ML price feeds", "AI hedge fund", "AI-managed vaults"],
    "marketplaces": ["AI model marketplace", "marketplace for AI services"],
    "compute": ["rent idle GPUs", "decentralized GPU compute", "GPU marketplace", "GPUaaS", "DePIN compute", "render farm"],
    "storage": ["decentralized storage", "permanent storage", "IPFS pinning", "storage network"],
    "data": ["data scraping", "web-scraping bandwidth", "data labeling", "training data marketplace", "data DAO"],
    "provenance": ["deepfakes", "content provenance", "C2PA", "media authenticity", "AI watermark"],
    "personhood": ["proof of personhood", "sybil resistance", "unique human", "bot detection", "iris scan"],
    "verification": [
        "zkML",
        "zk ml",
        "zk-ML",
        "verifiable inference",
        "proof of inference",
        "opML",
        "zero knowledge machine learning",
    ],
    "privacy": ["FHE", "TEE", "private inference", "confidential computing"],
}


def build_kb(kb: Path) -> int:
    shutil.copy(REPO_DIR / "taxonomy.yaml", kb / "taxonomy.yaml")
    shutil.copytree(REPO_DIR / "corpus", kb / "corpus")
    notes = 0
    for dev in sorted((REPO_DIR / "tests" / "fixtures").glob("dev*")):
        src = dev / "corpus" / "projects"
        if src.is_dir():
            shutil.copytree(src, kb / "corpus" / "projects" / dev.name)
            notes += sum(1 for _ in src.glob("*.md"))
    return notes


def run(aikb: str, kb: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([aikb, "--root", str(kb), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", type=Path, metavar="DIR", help="build the knowledge base in DIR (must not exist) and keep it")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args()
    aikb = os.environ.get("AIKB") or str(REPO_DIR / "target" / "release" / "aikb")
    if not os.access(aikb, os.X_OK) and shutil.which(aikb) is None:
        ap.error(f"aikb binary not found: {aikb} (build with `cargo build --release` or set AIKB)")

    tmp = None
    if args.keep:
        kb = args.keep
        kb.mkdir(parents=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="aikb-topical-")
        kb = Path(tmp.name)
    try:
        notes = build_kb(kb)
        proc = run(aikb, kb, "index")
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            return 2
        ideal = sum(1 / math.log2(i + 2) for i in range(10))
        rows = []
        for sub, queries in QUERIES.items():
            for q in queries:
                proc = run(aikb, kb, "search", "--no-refresh", "--json", "--limit", "10", "--", q)
                hits = json.loads(proc.stdout)["hits"] if proc.returncode == 0 else []
                rel = [1 if h.get("subcategory") == sub else 0 for h in hits]
                ndcg = sum(r / math.log2(i + 2) for i, r in enumerate(rel)) / ideal
                rows.append({"query": q, "subcategory": sub, "p@10": sum(rel) / 10, "ndcg@10": ndcg})
    finally:
        if tmp:
            tmp.cleanup()
    mean_p = sum(r["p@10"] for r in rows) / len(rows)
    mean_n = sum(r["ndcg@10"] for r in rows) / len(rows)
    if args.json:
        print(json.dumps({"notes": notes, "queries": rows, "p@10": mean_p, "ndcg@10": mean_n}, indent=2))
    else:
        for r in rows:
            print(f"{r['p@10']:.1f}  {r['ndcg@10']:.3f}  {r['subcategory']:<15} {r['query']}")
        print(f"mean P@10 {mean_p:.3f}  nDCG@10 {mean_n:.3f}  ({len(rows)} queries, {notes} development notes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
