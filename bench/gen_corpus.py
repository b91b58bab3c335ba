#!/usr/bin/env python3
"""Generate a synthetic aikb knowledge base for speed benchmarks.

    gen_corpus.py OUT_DIR [-n N] [--seed S]

OUT_DIR (must not exist, or be empty) gets:
  - taxonomy.yaml etc. from `aikb init OUT_DIR` ($AIKB, default
    <repo>/target/release/aikb); if that binary is missing, the repo's
    taxonomy.yaml is copied instead when there is one;
  - corpus/projects/<topic>/<slug>.md: project notes (front matter name,
    ticker, tags), about 10% of the notes;
  - corpus/articles/<year>/<month>/a<NNNNNN>.md: article notes (front matter
    title, tags);
  - docs.jsonl: the same documents, one {"id", "title", "body"} per line
    (for the tantivy-cli baseline), outside corpus/;
  - manifest.json: counts, seed, and `edit_note`, one article note that
    speed.sh edits.

Bodies are 80-150 words of Markdown (paragraphs, sometimes a heading, a bullet
list or bold text). Words come from a vocabulary of about 4,000 words drawn with
a Zipf-like distribution, mixed with crypto x AI terms by topic so that queries
such as "decentralized gpu compute" have hits. Output is deterministic for a
given N and seed (Python's `random.Random`, standard library only).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
import random

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_DIR = SCRIPT_DIR.parent
DEFAULT_AIKB = REPO_DIR / "target" / "release" / "aikb"

# Head of the general vocabulary, roughly by frequency (the Zipf head).
COMMON = """
the of and to a in is that for it as with was on be by this are or from at which an not have has but
can more also their its they will one new all been other into than some these such would about there
when most over only may used many each first time both how two between after where well use data work
system any very through while per under like what could those same make based network users value years
year should three because support without however different large people market future within cost
early set high across since open need help build way part real current public key often still example
around access small return provide order low find process available including point today several using
create number level own growth research design result approach three across team general focus run single
control power share list case end making report long side run control possible single local global
economic develop paper study team recent further change problem question information service services
platform platforms product products application applications developer developers company companies
project projects industry capital investment investors fund funding round price prices supply demand
risk risks trust security secure source sources content quality standard standards layer layers
resource resources cloud server servers cost costs revenue fees fee reward rewards incentive incentives
community communities ecosystem ecosystems participant participants operator operators node nodes
contributor contributors owner owners ownership governance vote votes voting proposal proposals
launch launched launches release released version update updates upgrade roadmap mainnet testnet
partner partners partnership integration integrations adoption usage volume volumes activity
performance efficient efficiency scale scaling scalable speed fast faster slow slower cheap cheaper
transparent transparency open openness closed central centralized concentration control controlled
bias biased fair fairness accountability accountable policy policies regulation regulatory legal law
framework frameworks tool tools library libraries interface api apis sdk stack stacks module modules
analysis analyst analysts view views argument arguments claim claims evidence figure figures chart
table section note notes summary overview detail details background context history trend trends
quarter month months week weeks day days billion million thousand percent share shares total average
"""

# Crypto x AI terms by topic (each list roughly by frequency inside the topic).
TOPICS = {
    "compute": """compute gpu gpus inference training cluster clusters marketplace provider providers
        workload workloads hardware capacity latency throughput datacenter datacenters render akash
        nvidia h100 a100 cuda scheduling rendering idle rental rent renting benchmark jobs job
        livepeer transcoding video accelerator accelerators""",
    "storage": """storage filecoin arweave ipfs permanent retrieval replication archive archival pinning
        bytes sector sectors deal deals persistence cid redundancy durability backup files file
        terabytes petabytes decentralized-storage""",
    "data": """dataset datasets scraping labeling grass masa crowdsourced bandwidth residential
        annotation annotators personal consent contribution contributors web crawl crawling corpus
        synthetic curation provenance-of-data licensing""",
    "agents": """agent agents autonomous fetch framework wallet wallets llm llms chatbot chatbots
        assistant assistants orchestration planner planning multi-agent singularitynet ocean asi
        tasks task coordination execution""",
    "networks": """bittensor subnet subnets miners miner validators validator near incentive
        permissionless consensus emission emissions yuma chain chains tao staked weights registration
        incubator user-owned sovereignty""",
    "provenance": """provenance deepfake deepfakes watermark watermarking authenticity origintrail trac
        numbers story ip licensing attestation attestations knowledge graph graphs verification
        timestamp misinformation media""",
    "privacy": """zero-knowledge zk zkml proof proofs fhe homomorphic encryption encrypted zama modulus
        verifiable privacy private confidential tee enclave enclaves cryptography cryptographic
        circuit circuits prover verifier""",
    "defi": """token tokens staking liquidity dex yield oracle oracles prediction allora trading
        treasury dao fund grayscale volatility returns portfolio holdings weights valuation market-cap
        forecasting forecast strategies strategy""",
    "identity": """worldcoin biometric iris orb humanity sybil bots bot identity verification uniqueness
        personhood proof-of-personhood credential credentials passport""",
}

GENERAL_DOMAIN = """decentralized decentralization blockchain crypto ai model models machine learning
    neural transformer ethereum solana smart contract contracts onchain offchain open-source
    foundation generative protocol protocols web3 network networks"""

HEADINGS = ["Overview", "Why it matters", "How it works", "Risks", "Open questions", "Token design",
            "Architecture", "Competition", "Team and funding", "Use cases", "Notes", "Takeaways"]


def words(text: str) -> list[str]:
    return text.split()


def make_pseudo_words(rng: random.Random, taken: set[str], count: int) -> list[str]:
    onsets = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
              "st", "tr", "pl", "gr", "ch", "sh", "br", "cl", "pr", "sp", "fl", "th"]
    vowels = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ea", "io", "ou", "ai", "ee"]
    codas = ["", "", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "rt", "nt"]
    endings = ["", "", "", "", "s", "ed", "ing", "ion", "er", "ity", "al", "ly"]
    out: list[str] = []
    while len(out) < count:
        syl = rng.choice((1, 1, 2, 2, 2, 3))
        w = "".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(syl))
        w += rng.choice(endings)
        if 3 <= len(w) <= 14 and w not in taken:
            taken.add(w)
            out.append(w)
    return out


class Sampler:
    """Zipf-Mandelbrot sampler over a ranked word list."""

    def __init__(self, items: list[str], s: float = 1.0, q: float = 2.7):
        self.items = items
        self.cum = list(itertools.accumulate(1.0 / (r + q) ** s for r in range(1, len(items) + 1)))
        self.total = self.cum[-1]

    def one(self, rng: random.Random) -> str:
        return self.items[bisect.bisect(self.cum, rng.random() * self.total)]


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        seen: set[str] = set()
        common: list[str] = []
        for w in words(COMMON):
            if w not in seen:
                seen.add(w)
                common.append(w)
        domain_all = words(GENERAL_DOMAIN) + [w for t in TOPICS.values() for w in words(t)]
        seen.update(domain_all)
        tail = make_pseudo_words(self.rng, seen, 4000 - len(common))
        self.general = Sampler(common + tail, s=1.05)
        self.topic_names = list(TOPICS)
        self.topics = {name: Sampler(words(t), s=0.9, q=1.5) for name, t in TOPICS.items()}
        self.domain = Sampler(words(GENERAL_DOMAIN), s=0.9, q=1.5)
        self.project_names: set[str] = set(seen)
        self.tickers: set[str] = set()

    # -- words and sentences
    def word(self, primary: str, secondary: str) -> str:
        r = self.rng.random()
        if r < 0.12:
            return self.topics[primary].one(self.rng)
        if r < 0.16:
            return self.topics[secondary].one(self.rng)
        if r < 0.21:
            return self.domain.one(self.rng)
        return self.general.one(self.rng)

    def sentence(self, n: int, primary: str, secondary: str, bold: bool = False) -> str:
        ws = [self.word(primary, secondary) for _ in range(n)]
        if bold and n > 3:
            i = self.rng.randrange(1, n)
            ws[i] = f"**{ws[i]}**"
        ws[0] = ws[0][:1].upper() + ws[0][1:]
        return " ".join(ws) + self.rng.choice((".", ".", ".", ".", "?", "!"))

    def body(self, primary: str, secondary: str, lead: str = "") -> tuple[str, str]:
        """Returns (markdown body, first few words for a title)."""
        rng = self.rng
        budget = rng.randint(80, 150)
        blocks: list[str] = []
        para: list[str] = []
        if lead:
            para.append(lead)
            budget -= len(lead.split())
        want_heading = rng.random() < 0.3
        want_list = rng.random() < 0.25
        while budget > 0:
            n = min(budget, rng.randint(6, 18))
            para.append(self.sentence(n, primary, secondary, bold=rng.random() < 0.08))
            budget -= n
            if budget > 25 and len(para) >= 3 and rng.random() < 0.35:
                blocks.append(" ".join(para))
                para = []
                if want_heading:
                    blocks.append("## " + rng.choice(HEADINGS))
                    want_heading = False
                elif want_list:
                    items = []
                    for _ in range(rng.randint(2, 4)):
                        k = rng.randint(3, 8)
                        items.append("- " + self.sentence(k, primary, secondary).rstrip(".?!"))
                        budget -= k
                    blocks.append("\n".join(items))
                    want_list = False
        if para:
            blocks.append(" ".join(para))
        return "\n\n".join(blocks) + "\n"

    def title(self, primary: str, secondary: str) -> str:
        n = self.rng.randint(4, 9)
        ws = []
        for i in range(n):
            r = self.rng.random()
            if r < 0.35:
                w = self.topics[primary].one(self.rng)
            elif r < 0.5:
                w = self.domain.one(self.rng)
            elif r < 0.6:
                w = self.topics[secondary].one(self.rng)
            else:
                w = self.general.one(self.rng)
            ws.append(w)
        ws[0] = ws[0][:1].upper() + ws[0][1:]
        return " ".join(ws)

    def tags(self, primary: str, secondary: str, k: int) -> list[str]:
        cands = [primary, secondary, self.topics[primary].one(self.rng), self.domain.one(self.rng)]
        out: list[str] = []
        for c in cands:
            if c not in out:
                out.append(c)
        return out[:k]

    def topic_pair(self) -> tuple[str, str]:
        primary = self.rng.choice(self.topic_names)
        secondary = self.rng.choice(self.topic_names)
        return primary, secondary

    def project_identity(self) -> tuple[str, str]:
        rng = self.rng
        while True:
            base = make_pseudo_words(rng, self.project_names, 1)[0]
            name = base.capitalize()
            if rng.random() < 0.4:
                name += " " + rng.choice(("Network", "Protocol", "AI", "Labs", "Chain", "Compute"))
            letters = [c for c in base.upper() if c.isalpha()]
            for length in (3, 4, 5):
                ticker = "".join(letters[:length])
                if len(ticker) == length and ticker not in self.tickers:
                    self.tickers.add(ticker)
                    return name, ticker
            # all prefixes taken: try another name


def yaml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def init_kb(out: Path, aikb: str, skip: bool) -> str:
    if skip:
        out.mkdir(parents=True, exist_ok=True)
        return "skipped (--no-init)"
    if os.path.isfile(aikb) and os.access(aikb, os.X_OK):
        if out.exists():
            out.rmdir()  # empty (checked by the caller); let `aikb init` create it
        proc = subprocess.run([aikb, "init", str(out)], stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"aikb init {out} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return f"aikb init ({aikb})"
    out.mkdir(parents=True, exist_ok=True)
    taxonomy = REPO_DIR / "taxonomy.yaml"
    if taxonomy.is_file():
        shutil.copyfile(taxonomy, out / "taxonomy.yaml")
        return f"copied {taxonomy} (aikb binary not found: {aikb})"
    print(f"warning: no aikb binary ({aikb}) and no {taxonomy}: OUT_DIR has no taxonomy.yaml", file=sys.stderr)
    return "none (no aikb binary, no taxonomy.yaml)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, metavar="OUT_DIR")
    ap.add_argument("-n", type=int, default=100_000, help="number of notes (default 100000)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument("--project-share", type=float, default=0.1, help="share of project notes (default 0.1)")
    ap.add_argument("--no-init", action="store_true", help="do not run `aikb init` (no taxonomy.yaml)")
    args = ap.parse_args()

    out: Path = args.out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        ap.error(f"{out} exists and is not an empty folder")
    started = time.perf_counter()
    how = init_kb(out, os.environ.get("AIKB") or str(DEFAULT_AIKB), args.no_init)

    gen = Generator(args.seed)
    rng = gen.rng
    corpus = out / "corpus"
    made_dirs: set[Path] = set()
    n_projects = n_articles = n_words = n_bytes = 0
    edit_note = None
    with open(out / "docs.jsonl", "w", encoding="utf-8") as jl:
        for i in range(args.n):
            primary, secondary = gen.topic_pair()
            if rng.random() < args.project_share:
                name, ticker = gen.project_identity()
                slug = name.lower().replace(" ", "-")
                rel = f"projects/{primary}/{slug}"
                tags = gen.tags(primary, secondary, rng.randint(2, 4))
                lead = f"{name} ({ticker}) is a project in {primary}."
                body = gen.body(primary, secondary, lead=lead)
                front = f"name: {yaml_str(name)}\nticker: {yaml_str(ticker)}\ntags: [{', '.join(tags)}]\n"
                title = name
                n_projects += 1
            else:
                year = 2019 + i % 7
                month = 1 + (i // 7) % 12
                rel = f"articles/{year}/{month:02d}/a{i:06d}"
                title = gen.title(primary, secondary)
                tags = gen.tags(primary, secondary, rng.randint(1, 3))
                body = gen.body(primary, secondary)
                front = f"title: {yaml_str(title)}\ntags: [{', '.join(tags)}]\n"
                n_articles += 1
                if edit_note is None:
                    edit_note = f"corpus/{rel}.md"
            text = f"---\n{front}---\n\n{body}"
            path = corpus / f"{rel}.md"
            if path.parent not in made_dirs:
                path.parent.mkdir(parents=True, exist_ok=True)
                made_dirs.add(path.parent)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            jl.write(json.dumps({"id": rel, "title": title, "body": body}) + "\n")
            n_words += len(body.split())
            n_bytes += len(text.encode("utf-8"))

    manifest = {
        "notes": args.n,
        "projects": n_projects,
        "articles": n_articles,
        "seed": args.seed,
        "body_words": n_words,
        "corpus_bytes": n_bytes,
        "edit_note": edit_note,
        "init": how,
        "generator": "bench/gen_corpus.py",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    secs = time.perf_counter() - started
    print(f"{out}: {args.n} notes ({n_projects} projects, {n_articles} articles), "
          f"{n_words} body words, {n_bytes / 1e6:.1f} MB, seed {args.seed}, {secs:.1f}s; taxonomy: {how}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
