#!/usr/bin/env bash
# Speed benchmark: aikb index/search on a generated corpus, against tantivy-cli and ripgrep.
#
#   bench/speed.sh CORPUS_DIR [RESULTS_DIR]
#
# CORPUS_DIR is a knowledge base made by bench/gen_corpus.py (taxonomy.yaml, corpus/, docs.jsonl,
# manifest.json). RESULTS_DIR (default bench/results/<corpus name>-<date>) gets the hyperfine JSON
# exports, /usr/bin/time -v logs and summary.txt.
#
# Environment:
#   AIKB      aikb binary            (default <repo>/target/release/aikb)
#   TANTIVY   tantivy-cli binary     (default /work/bench-tools/bin/tantivy; skipped if missing)
#   RUNS      hyperfine --runs       (default 5)
#   WARMUP    hyperfine --warmup     (default 1)
#   TANTIVY_THREADS  tantivy-cli index -t (default 2: what tantivy's IndexWriter picks on 2 cores)
#   SKIP      space-separated step letters to skip, e.g. "a e"
#
# Steps: (a) aikb index --rebuild  (b) aikb index, nothing changed  (c) aikb index after appending a
# word to one note  (d) aikb search --limit 10 for a few queries  (e) baselines: tantivy-cli index of
# docs.jsonl into a fresh index, tantivy-cli search/bench of the same queries, rg -il over corpus/;
# (f) peak RSS of the full index runs (GNU time -v).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
    sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit $(( $# < 1 ? 2 : 0 ))
fi

corpus=$(cd "$1" && pwd)
AIKB=${AIKB:-$repo/target/release/aikb}
TANTIVY=${TANTIVY:-/work/bench-tools/bin/tantivy}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
TANTIVY_THREADS=${TANTIVY_THREADS:-2}
SKIP=${SKIP:-}
results=${2:-$repo/bench/results/$(basename "$corpus")-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$results"
results=$(cd "$results" && pwd)

QUERIES=("decentralized gpu compute" "zero knowledge proof privacy" "filecoin storage retrieval")
# ripgrep equivalent of each query: files containing any of the words (the OR a BM25 query matches).
RG_ARGS=("-e decentralized -e gpu -e compute" "-e zero -e knowledge -e proof -e privacy" "-e filecoin -e storage -e retrieval")

die() { echo "speed.sh: $*" >&2; exit 2; }
skip() { [[ " $SKIP " == *" $1 "* ]]; }
q() { printf '%q' "$1"; }

[[ -x $AIKB ]] || die "aikb binary not found: $AIKB (cargo build --release, or set AIKB)"
[[ -d $corpus/corpus ]] || die "$corpus has no corpus/ folder (make one with bench/gen_corpus.py)"
command -v hyperfine >/dev/null || die "hyperfine not found"
if [[ ! -x /usr/bin/time ]]; then
    echo "installing GNU time (apt-get install time)" >&2
    { apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; }; } \
        || echo "warning: /usr/bin/time unavailable, no peak-memory figures" >&2
fi
have_tantivy=0
if [[ -x $TANTIVY ]]; then have_tantivy=1; else echo "warning: tantivy-cli not found at $TANTIVY: baseline skipped" >&2; fi
have_rg=0
if command -v rg >/dev/null; then have_rg=1; else echo "warning: rg not found: baseline skipped" >&2; fi

notes=$(find "$corpus/corpus" -name '*.md' | wc -l)
hf=(hyperfine --warmup "$WARMUP" --runs "$RUNS" --style basic)
A="$(q "$AIKB") --root $(q "$corpus")"

{
    echo "corpus: $corpus ($notes notes, $(du -sh "$corpus/corpus" | cut -f1))"
    echo "aikb: $AIKB"; "$AIKB" --version 2>/dev/null || true
    echo "tantivy-cli: $TANTIVY"; [[ $have_tantivy == 1 ]] && "$TANTIVY" --version 2>/dev/null || true
    echo "hyperfine: $(hyperfine --version)   rg: $(rg --version 2>/dev/null | head -1)"
    echo "machine: $(nproc) cores, $(uname -sr), $(date -u +%FT%TZ)"
    echo "runs: $RUNS, warmup: $WARMUP"
} | tee "$results/env.txt"

# ---------------------------------------------------------------- aikb index
if ! skip a; then
    echo; echo "== (a) aikb index --rebuild"
    "${hf[@]}" -n "aikb index --rebuild" --export-json "$results/a-index-rebuild.json" "$A index --rebuild"
fi

if ! skip b; then
    echo; echo "== (b) aikb index, nothing changed"
    "$AIKB" --root "$corpus" index >/dev/null   # make sure the index is current
    "${hf[@]}" -n "aikb index (no change)" --export-json "$results/b-index-nochange.json" "$A index"
fi

if ! skip c; then
    echo; echo "== (c) aikb index after editing one note"
    note=""
    if [[ -f $corpus/manifest.json ]]; then
        note=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("edit_note") or "")' "$corpus/manifest.json")
    fi
    [[ -n $note && -f $corpus/$note ]] || note=$(cd "$corpus" && find corpus/articles -name '*.md' | sort | head -1)
    [[ -n $note ]] || die "no article note to edit"
    cp "$corpus/$note" "$results/edited-note.orig.md"
    restore() { cp "$results/edited-note.orig.md" "$corpus/$note" && "$AIKB" --root "$corpus" index >/dev/null 2>&1 || true; }
    trap restore EXIT
    "$AIKB" --root "$corpus" index >/dev/null
    echo "editing $note (appending a word before each run; restored at the end)"
    "${hf[@]}" -n "aikb index (1 note edited)" --export-json "$results/c-index-one-edit.json" \
        --prepare "echo ' benchmarkedit' >> $(q "$corpus/$note")" "$A index"
    restore
    trap - EXIT
fi

# ---------------------------------------------------------------- aikb search
if ! skip d; then
    echo; echo "== (d) aikb search --limit 10"
    "$AIKB" --root "$corpus" index >/dev/null
    cmds=()
    for query in "${QUERIES[@]}"; do
        set +e
        hits=$("$AIKB" --root "$corpus" search --json --limit 10 -- "$query" \
            | python3 -c 'import json,sys; print(json.load(sys.stdin).get("total_hits"))' 2>/dev/null)
        rc=${PIPESTATUS[0]}
        set -e
        echo "query \"$query\": exit $rc, total_hits ${hits:-?}"
        [[ $rc -le 1 ]] || die "aikb search failed for \"$query\""
        cmds+=(-n "aikb search: $query" "$A search --limit 10 $(q "$query")")
    done
    # -i: exit code 1 means "no hits", which is not a failure here.
    # -N: no intermediate shell, so short commands are not skewed by shell start-up correction.
    "${hf[@]}" -N -i --export-json "$results/d-search.json" "${cmds[@]}"
fi

# ---------------------------------------------------------------- baselines
if ! skip e; then
    echo; echo "== (e) baselines"
    if [[ $have_tantivy == 1 ]]; then
        [[ -f $corpus/docs.jsonl ]] || die "$corpus/docs.jsonl missing (made by gen_corpus.py)"
        tdir="$results/tantivy-index"
        # The meta.json `tantivy new -i DIR` writes when answering its prompts with:
        #   id: text, stored, not fast, indexed, not tokenized (raw)
        #   title, body: text, not stored, not fast, indexed, tokenized, freqs + positions (en_stem)
        cat > "$results/tantivy-meta.json" <<'EOF'
{
  "index_settings": {"docstore_compression": "lz4", "docstore_blocksize": 16384},
  "segments": [],
  "schema": [
    {"name": "id", "type": "text", "options": {"indexing": {"record": "basic", "fieldnorms": true, "tokenizer": "raw"}, "stored": true, "fast": false}},
    {"name": "title", "type": "text", "options": {"indexing": {"record": "position", "fieldnorms": true, "tokenizer": "en_stem"}, "stored": false, "fast": false}},
    {"name": "body", "type": "text", "options": {"indexing": {"record": "position", "fieldnorms": true, "tokenizer": "en_stem"}, "stored": false, "fast": false}}
  ],
  "opstamp": 0
}
EOF
        fresh="rm -rf $(q "$tdir") && mkdir -p $(q "$tdir") && cp $(q "$results/tantivy-meta.json") $(q "$tdir/meta.json")"
        T_INDEX="$(q "$TANTIVY") index -i $(q "$tdir") -f $(q "$corpus/docs.jsonl") -t $TANTIVY_THREADS"
        "${hf[@]}" -n "tantivy-cli index (fresh)" --export-json "$results/e-tantivy-index.json" \
            --prepare "$fresh" "$T_INDEX"
        "$TANTIVY" inspect -i "$tdir" > "$results/tantivy-inspect.txt" 2>&1 || true

        # `tantivy search` prints every matching document (stored id) in doc order, no top-k;
        # `tantivy bench` runs the query with TopDocs(10)+Count, then again fetching the 10 docs.
        cmds=()
        printf '%s\n' "${QUERIES[@]}" > "$results/queries.txt"
        for i in "${!QUERIES[@]}"; do
            query=${QUERIES[$i]}
            printf '%s\n' "$query" > "$results/query-$i.txt"
            n=$("$TANTIVY" search -i "$tdir" -q "$query" | wc -l)
            echo "tantivy-cli query \"$query\": $n matching docs"
            cmds+=(-n "tantivy-cli search (all hits): $query" "$(q "$TANTIVY") search -i $(q "$tdir") -q $(q "$query")")
            cmds+=(-n "tantivy-cli bench (top 10): $query" "$(q "$TANTIVY") bench -i $(q "$tdir") -q $(q "$results/query-$i.txt") -n 1")
        done
        "${hf[@]}" -N --export-json "$results/e-tantivy-search.json" "${cmds[@]}"
        "$TANTIVY" bench -i "$tdir" -q "$results/queries.txt" -n 5 > "$results/tantivy-bench-inprocess.txt" 2>&1 || true
    fi
    if [[ $have_rg == 1 ]]; then
        cmds=()
        for i in "${!QUERIES[@]}"; do
            n=$(eval "rg -il ${RG_ARGS[$i]} $(q "$corpus/corpus/")" | wc -l)
            echo "rg -il ${RG_ARGS[$i]} corpus/: $n files"
            cmds+=(-n "rg -il: ${QUERIES[$i]}" "rg -il ${RG_ARGS[$i]} $(q "$corpus/corpus/")")
        done
        "${hf[@]}" -N --export-json "$results/e-rg.json" "${cmds[@]}"
    fi
fi

# ---------------------------------------------------------------- peak memory
if ! skip f && [[ -x /usr/bin/time ]]; then
    echo; echo "== (f) peak memory (GNU time -v)"
    /usr/bin/time -v -o "$results/f-time-aikb-index.txt" "$AIKB" --root "$corpus" index --rebuild >/dev/null
    set +e
    /usr/bin/time -v -o "$results/f-time-aikb-search.txt" "$AIKB" --root "$corpus" search --limit 10 -- "${QUERIES[0]}" >/dev/null
    set -e
    if [[ $have_tantivy == 1 ]]; then
        bash -c "$fresh"
        /usr/bin/time -v -o "$results/f-time-tantivy-index.txt" "$TANTIVY" index -i "$tdir" -f "$corpus/docs.jsonl" -t "$TANTIVY_THREADS" >/dev/null
    fi
fi

# ---------------------------------------------------------------- summary
{
    printf 'index size on disk: aikb %s' "$(du -sh "$corpus/.aikb/index" 2>/dev/null | cut -f1 || echo '?')"
    [[ -d $results/tantivy-index ]] && printf ', tantivy-cli %s' "$(du -sh "$results/tantivy-index" | cut -f1)"
    echo
} > "$results/sizes.txt"

python3 - "$results" "$notes" <<'PY' | tee "$results/summary.txt"
import glob, json, os, re, sys
res, notes = sys.argv[1], int(sys.argv[2])
print()
print(open(os.path.join(res, "env.txt")).read().rstrip())
print()
fmt = "{:<62} {:>10} {:>10} {:>10} {:>10}"
print(fmt.format("benchmark", "median", "mean", "stddev", "min"))
print("-" * 106)
def ms(x):
    return f"{x * 1000:.1f} ms" if x < 10 else f"{x:.2f} s"
rows = {}
for path in sorted(glob.glob(os.path.join(res, "*.json"))):
    if os.path.basename(path).startswith("tantivy-meta"):
        continue
    for r in json.load(open(path)).get("results", []):
        rows[r["command"]] = r
        print(fmt.format(r["command"][:62], ms(r["median"]), ms(r["mean"]), ms(r.get("stddev") or 0), ms(r["min"])))
for name in ("aikb index --rebuild", "tantivy-cli index (fresh)"):
    if name in rows:
        print(f"{name}: {notes / rows[name]['median']:.0f} notes/s (median)")
print()
for label, fname in (("aikb index --rebuild", "f-time-aikb-index.txt"),
                     ("aikb search", "f-time-aikb-search.txt"),
                     ("tantivy-cli index", "f-time-tantivy-index.txt")):
    p = os.path.join(res, fname)
    if os.path.exists(p):
        t = open(p).read()
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", t)
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", t)
        cpu = re.search(r"Percent of CPU this job got: (\S+)", t)
        print(f"peak RSS {label}: {int(rss.group(1)) / 1024:.0f} MiB"
              f" (wall {wall.group(1) if wall else '?'}, CPU {cpu.group(1) if cpu else '?'})" if rss else f"{label}: ?")
print(open(os.path.join(res, "sizes.txt")).read().rstrip())
p = os.path.join(res, "tantivy-bench-inprocess.txt")
if os.path.exists(p):
    lines = [l for l in open(p).read().split("FETCH STORE")[0].splitlines() if l.count("\t") == 2 and not l.startswith("query\t")]
    times = {}
    for l in lines:
        qtxt, hits, us = l.split("\t")
        times.setdefault(qtxt, []).append(int(us))
    for qtxt, ts in times.items():
        ts.sort()
        print(f"tantivy-cli in-process top-10 search \"{qtxt}\": median {ts[len(ts) // 2]} us")
print(f"\nresults: {res}")
PY
