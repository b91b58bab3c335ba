#!/usr/bin/env python3
"""Retrieval-quality benchmark: BEIR SciFact through `aikb search`.

Converts the SciFact corpus into a temporary aikb knowledge base (one article
note per abstract), indexes it with `aikb index`, runs the 300 test queries
(the query ids found in qrels-test.tsv) through
`aikb search --json --limit 100 -- <query text>` and prints nDCG@10,
Recall@100 and MRR@10.

Reference (Lucene-style BM25, see the data set's README.md):
nDCG@10 0.679, Recall@100 0.913, MRR@10 0.643.

Standard library only. The aikb binary is taken from $AIKB (default:
<repo>/target/release/aikb).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_DIR = SCRIPT_DIR.parent
DEFAULT_AIKB = REPO_DIR / "target" / "release" / "aikb"

REFERENCE = {"ndcg@10": 0.679, "recall@100": 0.913, "mrr@10": 0.643}


def find_data_dir() -> Path | None:
    """The first `shared/bench/scifact` folder found walking up from this script."""
    for parent in [SCRIPT_DIR, *SCRIPT_DIR.parents]:
        candidate = parent / "shared" / "bench" / "scifact"
        if (candidate / "corpus.jsonl").is_file():
            return candidate
    return None


def aikb_binary() -> str:
    return os.environ.get("AIKB") or str(DEFAULT_AIKB)


# ---------------------------------------------------------------- data loading


def load_corpus(data: Path) -> list[dict]:
    docs = []
    with open(data / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                docs.append({"id": str(row["_id"]), "title": row.get("title") or "", "text": row.get("text") or ""})
    return docs


def load_qrels(data: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(data / "qrels-test.tsv", encoding="utf-8") as fh:
        header = fh.readline()
        if not header.startswith("query-id"):
            raise SystemExit(f"unexpected qrels header: {header!r}")
        for line in fh:
            line = line.rstrip("\r\n")
            if not line:
                continue
            qid, did, score = line.split("\t")
            qrels.setdefault(qid, {})[did] = int(score)
    return qrels


def load_test_queries(data: Path, wanted: set[str]) -> dict[str, str]:
    """Query id -> text, for the test ids only. Only `_id` and `text` are used:
    the `metadata` field holds the relevance annotations and is dropped unread."""
    queries: dict[str, str] = {}
    with open(data / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            qid = str(row["_id"])
            if qid in wanted:
                queries[qid] = row["text"]
            del row  # never look at row["metadata"]
    missing = wanted - queries.keys()
    if missing:
        raise SystemExit(f"{len(missing)} test query ids have no text in queries.jsonl")
    return queries


# ---------------------------------------------------------------- knowledge base


def run_checked(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n")
        sys.stderr.write(proc.stdout[-4000:])
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(2)
    return proc


def build_kb(aikb: str, kb: Path, docs: list[dict]) -> None:
    run_checked([aikb, "init", str(kb)], "aikb init")
    articles = kb / "corpus" / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        # json.dumps gives a valid YAML double-quoted scalar.
        note = f"---\ntitle: {json.dumps(doc['title'])}\n---\n\n{doc['text']}\n"
        (articles / f"{doc['id']}.md").write_text(note, encoding="utf-8")


def doc_id_of(hit: dict) -> str | None:
    """SciFact doc id of a search hit: `articles/4983` -> `4983`."""
    note_id = hit.get("id")
    if not isinstance(note_id, str):
        path = hit.get("path")
        if not isinstance(path, str):
            return None
        note_id = path
    note_id = note_id.replace("\\", "/")
    if note_id.endswith(".md"):
        note_id = note_id[:-3]
    return note_id.rsplit("/", 1)[-1]


def search(aikb: str, kb: Path, limit: int, qid: str, text: str) -> tuple[str, list[str] | None, str, float]:
    """Returns (qid, ranked doc ids or None on failure, error text, seconds)."""
    cmd = [aikb, "--root", str(kb), "search", "--json", "--limit", str(limit), "--", text]
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        return qid, None, f"exit {proc.returncode}: {proc.stderr.strip()[:500]}", elapsed
    if proc.returncode == 1 and not proc.stdout.strip():
        return qid, [], "", elapsed  # no hits, no JSON printed
    try:
        out = json.loads(proc.stdout)
        hits = out.get("hits") or []
        hits = sorted(hits, key=lambda h: h.get("rank", 0)) if all("rank" in h for h in hits) else hits
        ranked: list[str] = []
        seen = set()
        for hit in hits:
            did = doc_id_of(hit)
            if did is not None and did not in seen:
                seen.add(did)
                ranked.append(did)
        return qid, ranked, "", elapsed
    except (json.JSONDecodeError, AttributeError, TypeError) as exc:
        return qid, None, f"bad JSON ({exc}): {proc.stdout[:200]!r}", elapsed


# ---------------------------------------------------------------- metrics


def ndcg_at(ranked: list[str], rels: dict[str, int], k: int) -> float:
    dcg = sum(rels.get(did, 0) / math.log2(i + 2) for i, did in enumerate(ranked[:k]))
    ideal = sorted((g for g in rels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: list[str], rels: dict[str, int], k: int) -> float:
    relevant = {d for d, g in rels.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def mrr_at(ranked: list[str], rels: dict[str, int], k: int) -> float:
    for i, did in enumerate(ranked[:k]):
        if rels.get(did, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="SciFact folder (default: shared/bench/scifact found walking up from this script)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="build the knowledge base in DIR (must not exist or be empty) and keep it")
    ap.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    ap.add_argument("--jobs", type=int, default=2, help="parallel searches (default 2)")
    ap.add_argument("--run", type=Path, metavar="FILE", help="also write the ranking as a TREC run file")
    args = ap.parse_args()

    aikb = aikb_binary()
    if not (os.path.isfile(aikb) and os.access(aikb, os.X_OK)) and shutil.which(aikb) is None:
        ap.error(f"aikb binary not found: {aikb} (build with `cargo build --release` or set AIKB)")
    data = args.data or find_data_dir()
    if data is None or not (data / "corpus.jsonl").is_file():
        ap.error("SciFact data not found; pass --data DIR")

    docs = load_corpus(data)
    qrels = load_qrels(data)
    queries = load_test_queries(data, set(qrels))
    log = (lambda msg: print(msg, file=sys.stderr)) if args.json else print

    tmp = None
    if args.keep:
        kb = args.keep.resolve()
        if kb.exists() and any(kb.iterdir()):
            ap.error(f"--keep {kb}: folder exists and is not empty")
        if kb.exists():
            kb.rmdir()  # let `aikb init` create it
    else:
        tmp = tempfile.mkdtemp(prefix="aikb-scifact-")
        kb = Path(tmp) / "kb"

    try:
        log(f"aikb: {aikb}\ndata: {data}\nknowledge base: {kb}")
        t0 = time.perf_counter()
        build_kb(aikb, kb, docs)
        t_write = time.perf_counter() - t0
        log(f"wrote {len(docs)} notes in {t_write:.1f}s")

        t0 = time.perf_counter()
        run_checked([aikb, "--root", str(kb), "index"], "aikb index")
        t_index = time.perf_counter() - t0
        log(f"indexed in {t_index:.1f}s")

        t0 = time.perf_counter()
        results: dict[str, list[str]] = {}
        errors: dict[str, str] = {}
        latencies: list[float] = []
        order = sorted(queries, key=lambda q: int(q) if q.isdigit() else q)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(search, aikb, kb, 100, qid, queries[qid]) for qid in order]
            for fut in concurrent.futures.as_completed(futures):
                qid, ranked, err, secs = fut.result()
                latencies.append(secs)
                if ranked is None:
                    errors[qid] = err
                else:
                    results[qid] = ranked
        t_search = time.perf_counter() - t0

        n = len(order)
        ndcg = sum(ndcg_at(results.get(q, []), qrels[q], 10) for q in order) / n
        recall = sum(recall_at(results.get(q, []), qrels[q], 100) for q in order) / n
        mrr = sum(mrr_at(results.get(q, []), qrels[q], 10) for q in order) / n
        no_hits = sum(1 for q in order if q in results and not results[q])
        latencies.sort()

        if args.run:
            with open(args.run, "w", encoding="utf-8") as fh:
                for q in order:
                    for i, did in enumerate(results.get(q, [])):
                        fh.write(f"{q} Q0 {did} {i + 1} {100 - i} aikb\n")

        metrics = {
            "ndcg@10": round(ndcg, 4),
            "recall@100": round(recall, 4),
            "mrr@10": round(mrr, 4),
            "queries": n,
            "failures": len(errors),
            "no_hits": no_hits,
            "documents": len(docs),
            "index_seconds": round(t_index, 2),
            "search_seconds": round(t_search, 2),
            "median_query_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
            "reference_bm25": REFERENCE,
        }
        for qid in sorted(errors)[:5]:
            print(f"query {qid} failed: {errors[qid]}", file=sys.stderr)

        if args.json:
            print(json.dumps(metrics, indent=2))
        else:
            print()
            print(f"{'metric':<12} {'aikb':>8} {'BM25 ref':>9}")
            for key in ("ndcg@10", "recall@100", "mrr@10"):
                print(f"{key:<12} {metrics[key]:>8.4f} {REFERENCE[key]:>9.3f}")
            print(f"queries: {n}  failures: {len(errors)}  queries with no hits: {no_hits}")
            print(f"index: {t_index:.1f}s  searches: {t_search:.1f}s with {args.jobs} workers "
                  f"(median {metrics['median_query_ms']} ms per query, process start included)")
            if args.keep:
                print(f"knowledge base kept in {kb}")
        return 1 if errors else 0
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
