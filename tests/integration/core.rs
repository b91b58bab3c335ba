//! The knowledge-base core: `search`, `index`, `check`, `init`, `completions`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::util::{Env, bin};

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // every field is decoded to pin the schema; not all are asserted
#[serde(deny_unknown_fields)]
struct SearchJson {
    query: String,
    total_hits: usize,
    near_spellings: Vec<String>,
    unknown_tags: Vec<UnknownTagJson>,
    nothing_to_search: bool,
    hits: Vec<HitJson>,
    facets: BTreeMap<String, BTreeMap<String, u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnknownTagJson {
    tag: String,
    similar: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // every field is decoded to pin the schema; not all are asserted
#[serde(deny_unknown_fields)]
struct HitJson {
    rank: usize,
    score: f32,
    id: String,
    path: String,
    kind: String,
    title: String,
    ticker: Option<String>,
    category: Option<String>,
    subcategory: Option<String>,
    date: Option<String>,
    snippet: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // every field is decoded to pin the schema; not all are asserted
#[serde(deny_unknown_fields)]
struct IndexJson {
    added: usize,
    changed: usize,
    removed: usize,
    skipped: usize,
    total: usize,
    rebuilt: bool,
    rebuild_reason: Option<String>,
    problems: Vec<serde_json::Value>,
}

fn search(env: &Env, args: &[&str]) -> SearchJson {
    let mut a = vec!["search", "--json"];
    a.extend_from_slice(args);
    env.cmd(a).json()
}

/// `search --json ARGS` that finds nothing (exit 1): its JSON and its stderr.
fn search_no_hits(env: &Env, args: &[&str]) -> (SearchJson, String) {
    let mut a = vec!["search", "--json"];
    a.extend_from_slice(args);
    let d = env.cmd(a).expect(1);
    let r = serde_json::from_str(&d.stdout).unwrap_or_else(|e| panic!("{e}\n{}", d.stdout));
    (r, d.stderr)
}

#[test]
fn tickers_and_names_rank_their_project_first() {
    let env = Env::shipped();
    for (q, id) in [
        ("FIL", "projects/filecoin"),
        ("filecoin", "projects/filecoin"),
        ("TAO", "projects/bittensor"),
        ("$WLD", "projects/worldcoin"),
        ("Fetch.ai", "projects/fetch-ai"),
        ("render network", "projects/render"),
        ("Worldcoin's orb", "projects/worldcoin"),
        ("Render\u{2019}s GPUs", "projects/render"),
    ] {
        let r = search(&env, &[q]);
        assert_eq!(
            r.hits[0].id,
            id,
            "query {q}: {:?}",
            r.hits.iter().map(|h| &h.id).collect::<Vec<_>>()
        );
    }
}

#[test]
fn json_shape_is_complete() {
    let env = Env::shipped();
    let r = search(&env, &["decentralized", "GPU", "compute", "--limit", "3"]);
    assert_eq!(r.query, "decentralized GPU compute");
    assert_eq!(r.hits.len(), 3);
    assert!(r.total_hits >= 3);
    assert_eq!(r.hits[0].rank, 1);
    assert!(r.hits[0].score >= r.hits[1].score);
    assert!(
        r.hits
            .iter()
            .all(|h| h.path.starts_with("corpus/") && h.path.ends_with(".md"))
    );
    assert!(
        r.hits
            .iter()
            .any(|h| h.kind == "project" && h.category.as_deref() == Some("resources"))
    );
    let akash = search(&env, &["akash"]).hits.into_iter().next().unwrap();
    assert_eq!(akash.title, "Akash");
    assert_eq!(akash.ticker.as_deref(), Some("AKT"));
    assert_eq!(akash.subcategory.as_deref(), Some("compute"));
    assert!(!akash.snippet.is_empty());
    let total: u64 = r.facets["category"].values().sum();
    assert!(total as usize <= r.total_hits);
}

#[test]
fn natural_language_and_punctuation_never_error() {
    let env = Env::shipped();
    for q in [
        "what is proof of personhood?",
        "Note: compute",
        "who's building zkML",
        "\"unbalanced quote",
        "AND OR NOT",
        "+",
        "-",
        "(((",
        "title:",
        "c++ && || !",
        "emoji 🚀 ünïcode",
        "https://example.com/x?y=1",
    ] {
        let d = env.cmd(["search", q]).run();
        assert!(
            d.code == 0 || d.code == 1,
            "query {q:?} exit {}: {}",
            d.code,
            d.stderr
        );
        // The only notes: a word no note holds is searched by near spellings, and a
        // query of operators alone has nothing to search.
        assert!(
            d.stderr.lines().all(|l| l.contains("rebuilt")
                || l.ends_with("searched near spellings")
                || l.contains("nothing to search for")),
            "{q:?}: {}",
            d.stderr
        );
    }
    let r = search(&env, &["what", "is", "proof", "of", "personhood?"]);
    assert_eq!(r.hits[0].id, "projects/worldcoin");
    // A possessive finds what the word finds.
    let ids =
        |q: &str| -> Vec<String> { search(&env, &[q]).hits.into_iter().map(|h| h.id).collect() };
    assert!(!ids("GPU's").is_empty());
    assert_eq!(ids("GPU's"), ids("GPU"));
    // Lower-case plurals the stemmer keeps find the singular, synonyms included.
    assert_eq!(ids("gpus"), ids("GPU"));
    assert_eq!(ids("renting gpus")[..2], ids("rent GPUs")[..2]);
    assert_eq!(ids("llms"), ids("LLMs"));
    assert!(!ids("llms").is_empty());
    // British spellings find what the American ones find, and the other way round.
    assert!(!ids("decentralized").is_empty());
    assert_eq!(ids("decentralised"), ids("decentralized"));
    assert_eq!(ids("tokenised"), ids("tokenized"));
    // A hyphenated word is found written solid, and the other way round.
    let solid = ids("opensource");
    assert!(!solid.is_empty());
    assert!(solid.iter().all(|id| ids("open-source").contains(id)));
    assert_eq!(ids("zk-ML")[0], "projects/modulus-labs");
    assert_eq!(ids("zkml"), ["projects/modulus-labs"]);
    // Words joined by punctuation: each part counts, the phrase ranks first.
    let top2 = |q: &str| -> Vec<String> {
        let mut v: Vec<String> = ids(q).into_iter().take(2).collect();
        v.sort();
        v
    };
    assert_eq!(top2("RNDR/AKT"), ["projects/akash", "projects/render"]);
    assert_eq!(
        top2("FET-AGIX"),
        ["projects/fetch-ai", "projects/singularitynet"]
    );
    assert_eq!(ids("near.org")[0], "projects/near");
    assert_eq!(ids("proof-of-personhood")[0], "projects/worldcoin");
    assert_eq!(ids("render-network")[0], "projects/render");
    // A part that is only a number or a letter is not searched alone, but the word
    // part still is: `gpu-2` and `GPU~2` (no note holds either) find the GPU notes,
    // and `H-100` holds no part to search.
    let gpu = ids("gpu");
    assert!(!gpu.is_empty());
    for q in ["gpu-2", "GPU~2", "gpu^2"] {
        let mut got = ids(q);
        got.sort();
        let mut want = gpu.clone();
        want.sort();
        assert_eq!(got, want, "{q}");
    }
    env.cmd(["search", "H-100"]).expect(1);
}

#[test]
fn a_query_with_nothing_to_search_says_so() {
    let env = Env::shipped();
    for q in [
        "the",
        "AND",
        "OR OR",
        "*",
        "the of and",
        "\"the\"",
        "tag:",
        "the ticker: ",
    ] {
        let (r, stderr) = search_no_hits(&env, &[q]);
        assert_eq!(r.total_hits, 0, "{q}");
        assert!(r.nothing_to_search, "{q}");
        assert!(
            stderr.contains(&format!(
                "nothing to search for in `{q}`: stop words, operators"
            )),
            "{q}: {stderr}"
        );
    }
    let d = env.cmd(["search", ""]).expect(1);
    assert!(d.stderr.contains("the query is empty"), "{}", d.stderr);
    // A stop word beside a real word, an exclusion alone or a filter alone searches.
    for args in [&["the gpu"][..], &["-gpu"], &["", "--kind", "project"]] {
        let r = search(&env, args);
        assert!(r.total_hits > 0, "{args:?}");
        assert!(!r.nothing_to_search, "{args:?}");
    }
    let d = env.cmd(["search", "gpu"]).expect(0);
    assert!(!d.stderr.contains("nothing to search"), "{}", d.stderr);
}

#[test]
fn a_pasted_document_as_query_is_cut_to_64_terms() {
    let env = Env::shipped();
    let many = "gpu ".repeat(20_000);
    let r = search(&env, &[many.as_str()]);
    assert_eq!(r.hits[0].id, search(&env, &["gpu"]).hits[0].id);
    let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
    let q = format!("filecoin {}", words.join(" "));
    let d = env.cmd(["search", &q]).run();
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(d.stdout.contains("Filecoin"), "{}", d.stdout);
    assert!(
        d.stderr
            .contains("more than 64 terms; the last 37 were not searched"),
        "{}",
        d.stderr
    ); // One huge joined word, a huge phrase, long prefixes: answered at once.
    let joined = vec!["gpu"; 20_000].join("-");
    assert_eq!(search(&env, &[joined.as_str()]).hits[0].id, r.hits[0].id);
    let parts: Vec<String> = (0..5_000).map(|i| format!("w{i}")).collect();
    env.cmd(["search", &parts.join("-")]).expect(1);
    let phrase = format!("\"{}\"", "gpu network ".repeat(5_000));
    env.cmd(["search", &phrase]).expect(1);
    let prefixes = format!("{}* ", "x".repeat(1_000)).repeat(60);
    env.cmd(["search", &prefixes]).expect(1);
}

#[test]
fn date_filters_keep_notes_dated_in_range() {
    let env = Env::shipped();
    for (name, date) in [
        ("old", Some("2023-05-02")),
        ("july", Some("2024-07")),
        ("late-july", Some("2024-07-20")),
        ("undated", None),
        ("odd", Some("last spring")),
    ] {
        let date = date.map(|d| format!("date: \"{d}\"\n")).unwrap_or_default();
        env.write(
            &format!("corpus/articles/{name}.md"),
            &format!("---\ntitle: GPU market {name}\n{date}---\nGPU market news.\n"),
        );
    }
    let ids = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["gpu", "market", "news", "--kind", "article"];
        a.extend_from_slice(args);
        let mut v: Vec<String> = search(&env, &a)
            .hits
            .into_iter()
            .map(|h| h.id.trim_start_matches("articles/").to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        ids(&["--since", "2024"]),
        ["grayscale-decentralized-ai-2024", "july", "late-july"]
    );
    assert_eq!(ids(&["--until", "2024-06"]), ["old"]);
    assert_eq!(ids(&["--since", "2024-07-15"]), ["late-july"]);
    assert_eq!(
        ids(&["--since", "2023", "--until", "2024-07"]),
        [
            "grayscale-decentralized-ai-2024",
            "july",
            "late-july",
            "old"
        ]
    );
    // Newest first, undated notes last.
    let order: Vec<String> = search(
        &env,
        &["gpu market news", "--kind", "article", "--sort", "date"],
    )
    .hits
    .into_iter()
    .map(|h| h.id.trim_start_matches("articles/").to_string())
    .collect();
    assert_eq!(order[0], "late-july");
    // Both dated 2024-07: the better match first.
    assert_eq!(order[1..3], ["july", "grayscale-decentralized-ai-2024"]);
    assert_eq!(order[3], "old");
    assert!(
        order[4..].iter().all(|id| id == "undated" || id == "odd"),
        "{order:?}"
    );
    // The date is in each hit.
    let r = search(&env, &["gpu market old", "--kind", "article"]);
    assert_eq!(r.hits[0].date.as_deref(), Some("2023-05-02"));
    let d = env.cmd(["search", "gpu", "--since", "May 2024"]).expect(2);
    assert!(
        d.stderr.contains("invalid date `May 2024` for --since"),
        "{}",
        d.stderr
    );
}

#[test]
fn a_tag_no_note_carries_names_the_tags_holding_it() {
    let env = Env::shipped();
    let d = env.cmd(["search", "tag:compute"]).expect(1);
    assert!(d.stdout.contains("0 hits"), "{}", d.stdout);
    assert!(
        d.stderr.contains(
            "no note is tagged `compute` (tags match exactly); tags holding that word: `gpu-compute`"
        ),
        "{}",
        d.stderr
    );
    // --tag as well, in the JSON; a tag some note carries is not reported.
    let (r, _) = search_no_hits(&env, &["--tag", "Data", "--tag", "gpu-compute", "akash"]);
    assert!(r.hits.is_empty());
    assert_eq!(r.unknown_tags.len(), 1);
    assert_eq!(r.unknown_tags[0].tag, "data");
    assert!(
        r.unknown_tags[0]
            .similar
            .iter()
            .all(|t| t.split('-').any(|w| w == "data")),
        "{:?}",
        r.unknown_tags[0].similar
    );
    assert!(!r.unknown_tags[0].similar.is_empty());
    assert!(search(&env, &["tag:gpu-compute"]).unknown_tags.is_empty());
    let d = env.cmd(["search", "tag:quokka-herding"]).expect(1);
    assert!(
        d.stderr.contains("no note is tagged `quokka-herding`\n"),
        "{}",
        d.stderr
    );
}

#[test]
fn a_word_written_solid_finds_the_two_words_the_notes_write() {
    let env = Env::shipped();
    // The notes write "deep fakes"; no note holds "deepfake".
    let ids = |q: &str| -> Vec<String> {
        let r = search(&env, &[q]);
        assert!(r.near_spellings.is_empty(), "{q}: {:?}", r.near_spellings);
        let mut v: Vec<String> = r.hits.into_iter().map(|h| h.id).collect();
        v.truncate(3);
        v.sort();
        v
    };
    let want = [
        "projects/numbers-protocol",
        "projects/origintrail",
        "projects/story-protocol",
    ];
    assert_eq!(ids("deep fakes"), want);
    assert_eq!(ids("deepfakes"), want);
    assert_eq!(ids("Deepfake"), want);
}

#[test]
fn two_words_the_notes_write_solid_rank_as_the_word_itself() {
    let env = Env::empty();
    for (p, body) in [
        (
            "zkml-a",
            "zkML: a proof that a model produced an output. The zkML prover runs off chain.",
        ),
        ("zkml-b", "A zkML coprocessor for onchain inference."),
        (
            "vote",
            "Zero-knowledge voting for DAOs. Zero knowledge, but not ML: no ML anywhere.",
        ),
        (
            "rollup",
            "A ZK rollup. ZK proofs batch transfers; nothing to do with ML or machine learning.",
        ),
    ] {
        env.write(
            &format!("corpus/articles/{p}.md"),
            &format!("---\ntitle: {p}\n---\n{body}\n"),
        );
    }
    // As in any real corpus, each word alone is commoner than the two together.
    for i in 1..=4 {
        env.write(
            &format!("corpus/articles/zk{i}.md"),
            &format!("---\ntitle: ZK {i}\n---\nA zero-knowledge (ZK) bridge number {i} for token transfers.\n"),
        );
        env.write(
            &format!("corpus/articles/ml{i}.md"),
            &format!("---\ntitle: ML {i}\n---\nAn ML (machine learning) model number {i} for weather forecasts.\n"),
        );
    }
    // `zk ml` is `zkML` written apart: the notes about it come first, above notes
    // that hold both words (or their synonyms) for other reasons.
    for q in ["zk ml", "ZK ML", "zkml", "zk-ML"] {
        let ids: Vec<String> = search(&env, &[q]).hits.into_iter().map(|h| h.id).collect();
        let mut top: Vec<&str> = ids.iter().take(2).map(String::as_str).collect();
        top.sort();
        assert_eq!(top, ["articles/zkml-a", "articles/zkml-b"], "{q}: {ids:?}");
    }
}

#[test]
fn two_words_find_the_word_the_notes_write_solid() {
    let env = Env::empty();
    env.write(
        "corpus/articles/solid.md",
        "---\ntitle: Solid\n---\nA curated dataset of labelled images, one dataset per task.\n",
    );
    env.write(
        "corpus/articles/other.md",
        "---\ntitle: Other\n---\nThe data we set aside, and a second note on data.\n",
    );
    // The note that only writes "dataset" is found by "data set", after the note
    // that holds both words.
    let ids: Vec<String> = search(&env, &["data set"])
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(ids, ["articles/other", "articles/solid"]);
    // Not when the notes write the pair apart more often than solid.
    env.write(
        "corpus/articles/apart.md",
        "---\ntitle: Apart\n---\nEach data set is checked; a data set per task.\n",
    );
    env.write(
        "corpus/articles/apart-2.md",
        "---\ntitle: Apart 2\n---\nOne data set.\n",
    );
    let ids: Vec<String> = search(&env, &["data set"])
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert!(!ids.contains(&"articles/solid".to_string()), "{ids:?}");
    // A single letter never joins: "crypto x AI" does not search `xai`.
    env.write(
        "corpus/articles/xai.md",
        "---\ntitle: Xai\n---\nXai is a gaming chain. Xai, xai, xai.\n",
    );
    env.write(
        "corpus/articles/map.md",
        "---\ntitle: Map\n---\nA crypto and AI market map.\n",
    );
    let ids: Vec<String> = search(&env, &["crypto x AI"])
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(ids, ["articles/map"]);
}

#[test]
fn misspelt_words_find_near_spellings() {
    let env = Env::shipped();
    for (q, id) in [
        ("bittensr", "projects/bittensor"),
        ("livepear", "projects/livepeer"),
        ("wordlcoin", "projects/worldcoin"),
        ("ocaen protocol", "projects/ocean-protocol"),
    ] {
        let r = search(&env, &[q]);
        assert_eq!(r.near_spellings.len(), 1, "{q}");
        assert_eq!(r.hits[0].id, id, "{q}");
    }
    let d = env.cmd(["search", "bittensr"]).expect(0);
    assert!(
        d.stderr
            .contains("no note holds `bittensr` as written; searched near spellings"),
        "{}",
        d.stderr
    );
    // Words that are in the notes are searched as written.
    assert!(search(&env, &["gpu"]).near_spellings.is_empty());
    // Filters still apply to near spellings.
    let r = search(&env, &["bittensr", "category:resources"]);
    assert!(
        r.hits
            .iter()
            .all(|h| h.category.as_deref() == Some("resources"))
    );
    // Short words (tickers) are not stretched: three letters match nothing, and
    // neither near spellings nor "nothing to search" are claimed.
    let (r, stderr) = search_no_hits(&env, &["xqz"]);
    assert!(
        r.near_spellings.is_empty() && !r.nothing_to_search,
        "{:?}",
        r.near_spellings
    );
    assert!(stderr.is_empty() || stderr.contains("rebuilt"), "{stderr}");
}

#[test]
fn a_qualifier_naming_no_label_is_reported() {
    let env = Env::shipped();
    let d = env.cmd(["search", "category:resource gpu"]).expect(1);
    assert!(
        d.stderr.contains("`category:resource` names no category")
            && d.stderr.contains("resources"),
        "{}",
        d.stderr
    );
    // A subcategory written as a category is named as such.
    let d = env.cmd(["search", "category:compute gpu"]).expect(1);
    assert!(
        d.stderr.contains("written `subcategory:compute`"),
        "{}",
        d.stderr
    );
    let d = env.cmd(["search", "subcategory:computer"]).expect(1);
    assert!(d.stderr.contains("names no subcategory"), "{}", d.stderr);
    // Known labels and prefixes of one are quiet.
    for q in [
        "category:resources gpu",
        "category:res* gpu",
        "kind:project gpu",
    ] {
        let d = env.cmd(["search", q]).expect(0);
        assert!(d.stderr.is_empty(), "{q}: {}", d.stderr);
    }
}

#[test]
fn power_syntax_and_filters() {
    let env = Env::shipped();
    let r = search(&env, &["\"proof of personhood\""]);
    assert!(r.hits.iter().any(|h| h.id == "projects/worldcoin"));
    let r = search(&env, &["storage", "-filecoin"]);
    assert!(r.hits.iter().all(|h| h.id != "projects/filecoin"));
    // A ticker filter as tickers are written in prose, with or without the sign.
    for q in ["ticker:fil", "ticker:$FIL", "ticker:$fi*", "Ticker: FIL"] {
        let r = search(&env, &[q]);
        assert_eq!(r.hits.len(), 1, "{q}");
        assert_eq!(r.hits[0].id, "projects/filecoin", "{q}");
    }
    for q in ["category:problems", "category: problems"] {
        let r = search(&env, &[q, "--limit", "50"]);
        assert!(r.hits.len() >= 3, "{q}");
        assert!(
            r.hits
                .iter()
                .all(|h| h.category.as_deref() == Some("problems")),
            "{q}"
        );
    }
    let r = search(&env, &["data", "--kind", "article"]);
    assert!(r.hits.iter().all(|h| h.kind == "article"));
    let r = search(&env, &["data", "--category", "resources", "--limit", "50"]);
    assert!(!r.hits.is_empty());
    assert!(
        r.hits
            .iter()
            .all(|h| h.category.as_deref() == Some("resources"))
    );
    assert_eq!(
        r.facets["category"].keys().collect::<Vec<_>>(),
        vec!["resources"]
    );
    // A subcategory id, or category/subcategory, filters by subcategory.
    for label in ["compute", "resources/compute", "Compute"] {
        let r = search(&env, &["network", "--category", label, "--limit", "50"]);
        let ids: Vec<&str> = r.hits.iter().map(|h| h.id.as_str()).collect();
        assert!(ids.contains(&"projects/akash"), "{label}: {ids:?}");
        assert!(
            r.hits
                .iter()
                .all(|h| h.subcategory.as_deref() == Some("compute")),
            "{label}: {ids:?}"
        );
    }
    let r = search(&env, &["publisher:grayscale"]);
    assert_eq!(r.hits[0].kind, "article");
    let r = search(&env, &["subnet*"]);
    assert!(r.hits.iter().any(|h| h.id == "projects/bittensor"));
}

#[test]
fn exit_codes_follow_ripgrep() {
    let env = Env::shipped();
    env.cmd(["search", "filecoin"]).expect(0);
    let d = env.cmd(["search", "qqqzzzxxyy"]).expect(1);
    assert!(d.stdout.contains("0 hits"));
    env.cmd(["search", "x", "--root", "/nonexistent/kb"])
        .expect(2);
    let d = env.cmd(["search", "x", "--limit", "0"]).expect(2);
    assert!(d.stderr.starts_with("aikb: "), "{}", d.stderr);
    env.cmd(["search"]).expect(2);
    // A misspelt --category is an error that names the valid ids, not "0 hits".
    let d = env
        .cmd(["search", "gpu", "--category", "resource"])
        .expect(2);
    assert!(
        d.stderr
            .contains("use one of infrastructure, resources, problems, none")
            && d.stderr.contains("resources/compute"),
        "{}",
        d.stderr
    );
    env.cmd(["search", "gpu", "--category", "problems/compute"])
        .expect(2);
    env.cmd(["search", "gpu", "--category", "Resources"])
        .expect(0);
}

#[test]
fn piped_output_is_plain_and_color_is_opt_in() {
    let env = Env::shipped();
    let d = env.cmd(["search", "filecoin"]).expect(0);
    assert!(!d.stdout.contains('\x1b'));
    let d = env
        .cmd(["search", "filecoin", "--color", "always"])
        .expect(0);
    assert!(d.stdout.contains("\x1b[1m"));
}

#[test]
fn search_no_refresh_uses_the_index_as_it_is() {
    let env = Env::shipped();
    // No index yet: it is built first, as for a plain search.
    let d = env.cmd(["search", "--no-refresh", "filecoin"]).expect(0);
    assert!(d.stdout.contains("Filecoin"), "{}", d.stdout);
    assert!(env.path(".aikb/index/meta.json").exists());
    // A note added afterwards is not seen until something refreshes the index.
    env.write(
        "corpus/articles/new-note.md",
        "---\ntitle: Quokka report\n---\nQuokkas run validators.\n",
    );
    env.cmd(["search", "--no-refresh", "quokka"]).expect(1);
    assert_eq!(search(&env, &["quokka"]).hits[0].id, "articles/new-note");
    assert_eq!(
        search(&env, &["--no-refresh", "quokka"]).hits[0].id,
        "articles/new-note"
    );
    // A note deleted since is still a hit, without a snippet, and stderr says why.
    std::fs::remove_file(env.path("corpus/projects/filecoin.md")).unwrap();
    let d = env.cmd(["search", "--no-refresh", "filecoin"]).expect(0);
    assert!(d.stdout.contains("Filecoin"), "{}", d.stdout);
    assert!(
        d.stderr.contains("corpus/projects/filecoin.md") && d.stderr.contains("run `aikb index`"),
        "{}",
        d.stderr
    );
    let d = env.cmd(["search", "filecoin"]).expect(0);
    assert!(
        !d.stdout.contains("corpus/projects/filecoin.md"),
        "{}",
        d.stdout
    );
    assert!(!d.stderr.contains("aikb index"), "{}", d.stderr);
    // Another taxonomy means other labels: the index is brought up to date first.
    let tax = env.read("taxonomy.yaml");
    env.write(
        "taxonomy.yaml",
        &tax.replacen("  - [onchain, on chain]\n", "", 1),
    );
    env.write(
        "corpus/articles/other-note.md",
        "---\ntitle: Numbat report\n---\nNumbats.\n",
    );
    assert_eq!(
        search(&env, &["--no-refresh", "numbat"]).hits[0].id,
        "articles/other-note"
    );
}

#[test]
fn index_says_why_it_rebuilt_once() {
    let env = Env::shipped();
    // The summary gives the reason; no separate notice repeats it on stderr.
    let d = env.cmd(["index"]).expect(0);
    assert_eq!(
        d.stdout.trim(),
        "21 added, 0 changed, 0 removed, 0 skipped; 21 notes indexed (rebuilt: index missing)"
    );
    assert!(!d.stderr.contains("rebuilt"), "{}", d.stderr);
    let d = env.cmd(["index", "--rebuild"]).expect(0);
    assert!(
        d.stdout.trim().ends_with("21 notes indexed (rebuilt)"),
        "{}",
        d.stdout
    );
    // Another command that finds the index unusable says so on stderr.
    std::fs::remove_file(env.path(".aikb/index/aikb-manifest.bin")).unwrap();
    let d = env.cmd(["search", "gpu"]).expect(0);
    assert!(
        d.stderr
            .contains("aikb: index manifest missing or corrupt; rebuilt the index (21 notes)"),
        "{}",
        d.stderr
    );
    // One note is one note.
    let one = Env::empty();
    one.write("corpus/projects/a.md", "---\nname: A\n---\nGPU rental.\n");
    let d = one.cmd(["index"]).expect(0);
    assert!(d.stdout.contains("; 1 note indexed"), "{}", d.stdout);
}

#[test]
fn index_counts_and_search_is_never_stale() {
    let env = Env::shipped();
    let first: IndexJson = env.cmd(["index", "--json"]).json();
    assert_eq!((first.added, first.total, first.rebuilt), (21, 21, true));
    let again: IndexJson = env.cmd(["index", "--json"]).json();
    assert_eq!(
        (
            again.added,
            again.changed,
            again.removed,
            again.skipped,
            again.rebuilt
        ),
        (0, 0, 0, 0, false)
    );

    env.write(
        "corpus/articles/new-note.md",
        "---\ntitle: Quokka report\n---\nQuokkas run validators.\n",
    );
    let r = search(&env, &["quokka"]);
    assert_eq!(
        r.hits[0].id, "articles/new-note",
        "a search right after a new note sees it"
    );
    env.write(
        "corpus/articles/new-note.md",
        "---\ntitle: Wombat report\n---\nWombats now.\n",
    );
    let d = env.cmd(["search", "quokka"]).expect(1);
    assert!(d.stdout.contains("0 hits"));
    std::fs::remove_file(env.path("corpus/projects/zama.md")).unwrap();
    let s: IndexJson = env.cmd(["index", "--json"]).json();
    assert_eq!((s.added, s.changed, s.removed, s.total), (0, 0, 1, 21));
    let d = env.cmd(["index"]).expect(0);
    assert_eq!(
        d.stdout.trim(),
        "0 added, 0 changed, 0 removed, 0 skipped; 21 notes indexed"
    );
    let s: IndexJson = env.cmd(["index", "--rebuild", "--json"]).json();
    assert!(s.rebuilt);
    assert_eq!(s.total, 21);
}

#[test]
fn control_characters_in_messages_are_escaped() {
    let env = Env::shipped();
    // A file name and a YAML error that would recolour or clear the terminal.
    env.write(
        "corpus/articles/evil\u{1b}[2J.md",
        "---\ntitle: [\u{1b}[31m\n---\nbody\n",
    );
    let d = env.cmd(["check"]).expect(1);
    assert!(!d.stdout.contains('\u{1b}'), "{:?}", d.stdout);
    assert!(d.stdout.contains("evil\\u{1b}[2J.md:"), "{}", d.stdout);
    let d = env.cmd(["index"]).expect(0);
    assert!(!d.stderr.contains('\u{1b}'), "{:?}", d.stderr);
    assert!(d.stderr.contains("evil\\u{1b}[2J.md:"), "{}", d.stderr);
}

#[test]
fn broken_notes_are_skipped_with_located_warnings() {
    let env = Env::shipped();
    env.write(
        "corpus/articles/bad-yaml.md",
        "---\ntitle: ok\ntags: [a, b\n---\nbody\n",
    );
    std::fs::write(
        env.path("corpus/articles/bad-utf8.md"),
        b"---\ntitle: x\n---\nok\n\xff\xfe",
    )
    .unwrap();
    env.write("corpus/articles/unclosed.md", "---\ntitle: never closed\n");
    let d = env.cmd(["index"]).expect(0);
    assert!(d.stdout.contains("21 added"), "{}", d.stdout);
    assert!(d.stdout.contains("3 skipped"), "{}", d.stdout);
    assert!(
        d.stderr
            .contains("aikb: warning: corpus/articles/bad-yaml.md:3:"),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr
            .contains("corpus/articles/bad-utf8.md:5:1: invalid UTF-8"),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr
            .contains("corpus/articles/unclosed.md:1:1: front matter"),
        "{}",
        d.stderr
    );
    let r = search(&env, &["filecoin"]);
    assert_eq!(r.hits[0].id, "projects/filecoin", "the rest is indexed");
    let d = env.cmd(["check"]).expect(1);
    assert!(
        d.stdout.contains("corpus/articles/bad-yaml.md:3:"),
        "{}",
        d.stdout
    );
}

#[test]
fn corrupt_index_is_rebuilt_with_a_notice() {
    let env = Env::shipped();
    env.cmd(["index"]).expect(0);
    std::fs::write(env.path(".aikb/index/meta.json"), "{broken").unwrap();
    let d = env.cmd(["search", "filecoin"]).expect(0);
    assert!(d.stderr.contains("rebuilt the index"), "{}", d.stderr);
    assert_eq!(
        d.stderr.lines().count(),
        1,
        "a one-line notice: {}",
        d.stderr
    );
    let custom = env.path("elsewhere");
    env.cmd(["search", "filecoin", "--index", custom.to_str().unwrap()])
        .expect(0);
    assert!(custom.join("meta.json").exists());
}

#[test]
fn check_is_clean_on_the_shipped_corpus_and_lists_problems() {
    let env = Env::shipped();
    let d = env.cmd(["check"]).expect(0);
    assert!(
        d.stdout.contains("21 notes checked, 0 problems"),
        "{}",
        d.stdout
    );
    env.write(
        "corpus/projects/dup.md",
        "---\nname: Other\nticker: FIL\nsources: [articles/missing]\n---\nx\n",
    );
    let d = env.cmd(["check", "--json"]).expect(1);
    let v: serde_json::Value = serde_json::from_str(&d.stdout).unwrap();
    let msgs: Vec<String> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("ticker `FIL` is already used")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("unknown source `articles/missing`")),
        "{msgs:?}"
    );
}

#[test]
fn root_is_discovered_from_subfolders_and_init_works() {
    let env = Env::shipped();
    let d = env.cmd(["search", "filecoin", "--json"]);
    let mut cmd = d.cmd;
    cmd.current_dir(env.path("corpus/projects"));
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0));

    let tmp = tempfile::tempdir().unwrap();
    let kb = tmp.path().join("kb");
    let out = std::process::Command::new(bin())
        .args(["init"])
        .arg(&kb)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        kb.join("taxonomy.yaml").exists()
            && kb.join("corpus/projects").is_dir()
            && kb.join(".gitignore").exists()
    );
    assert_eq!(
        std::fs::read_to_string(kb.join("taxonomy.yaml")).unwrap(),
        std::fs::read_to_string(crate::util::repo().join("taxonomy.yaml")).unwrap()
    );
    let out = std::process::Command::new(bin())
        .args(["search", "anything", "--root"])
        .arg(&kb)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an empty knowledge base has no hits"
    );
    let out = std::process::Command::new(bin())
        .args(["search", "x"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no knowledge base found"));
}

#[test]
fn completions_are_generated() {
    let env = Env::shipped();
    let d = env.cmd(["completions", "bash"]).expect(0);
    assert!(d.stdout.contains("aikb") && d.stdout.contains("search"));
}

#[test]
fn broken_pipe_exits_zero() {
    let env = Env::empty();
    for i in 0..400 {
        env.write(
            &format!("corpus/articles/n{i}.md"),
            &format!(
                "---\ntitle: Note {i}\n---\n{}\n",
                "common words about tokens. ".repeat(20)
            ),
        );
    }
    env.cmd(["index"]).expect(0);
    let mut cmd = env.cmd(["search", "common", "--limit", "400"]).cmd;
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn hostile_notes_are_skipped_and_the_rest_indexed() {
    let env = Env::shipped();
    let mut bomb = String::from("---\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("l{}", i - 1)
        };
        bomb.push_str(&format!(
            "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    bomb.push_str("---\nbody\n");
    env.write("corpus/articles/alias-bomb.md", &bomb);
    env.write(
        "corpus/articles/deep.md",
        &format!(
            "---\nx: {}{}\n---\nbody\n",
            "[".repeat(5000),
            "]".repeat(5000)
        ),
    );
    env.write(
        "corpus/articles/huge-scalar.md",
        &format!("---\ntitle: {}\n---\nbody\n", "y".repeat(2 << 20)),
    );
    env.write("corpus/articles/binary.md", "\u{0}\u{1}\u{2}---\n\u{7f}");
    std::fs::write(
        env.path("corpus/articles/not-utf8.md"),
        [0xff_u8, 0xfe, 0x00, 0x41],
    )
    .unwrap();
    let d = env.cmd(["index"]).expect(0);
    assert!(d.stdout.contains("4 skipped"), "{}\n{}", d.stdout, d.stderr);
    for name in ["alias-bomb", "deep", "huge-scalar", "not-utf8"] {
        assert!(
            d.stderr.contains(&format!("corpus/articles/{name}.md:")),
            "{name}: {}",
            d.stderr
        );
    }
    assert!(!d.stderr.contains("panicked"));
    let r = search(&env, &["filecoin"]);
    assert_eq!(r.hits[0].id, "projects/filecoin");
    assert!(
        d.stdout.contains("22 notes indexed"),
        "control characters in valid UTF-8 are indexed: {}",
        d.stdout
    );
}

#[cfg(unix)]
#[test]
fn symlinked_and_upper_case_md_notes_are_skipped_with_a_warning() {
    let env = Env::shipped();
    std::os::unix::fs::symlink(
        env.path("corpus/projects/zama.md"),
        env.path("corpus/articles/linked.md"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        env.path("corpus/articles/gone.md"),
        env.path("corpus/articles/dangling.md"),
    )
    .unwrap();
    env.write("corpus/articles/SHOUT.MD", "---\ntitle: Shout\n---\nGPU.\n");
    let d = env.cmd(["index"]).expect(0);
    assert!(d.stdout.contains("3 skipped"), "{}", d.stdout);
    assert!(
        d.stderr.contains("linked.md") && d.stderr.contains("symbolic links are not followed"),
        "{}",
        d.stderr
    );
    assert!(d.stderr.contains("dangling.md"), "{}", d.stderr);
    assert!(
        d.stderr.contains("SHOUT.MD") && d.stderr.contains("in lower case"),
        "{}",
        d.stderr
    );
    let d = env.cmd(["check"]).expect(1);
    assert!(d.stdout.contains("symbolic links"), "{}", d.stdout);
}

#[test]
fn a_note_whose_file_name_is_not_utf8_is_skipped_with_a_warning() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::shipped();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.md");
    std::fs::write(
        env.path("corpus/articles").join(name),
        "---\ntitle: Latin-1 name\n---\nGPU compute.\n",
    )
    .unwrap();
    for _ in 0..2 {
        // Reported on the first run and on the no-change run after it.
        let d = env.cmd(["index"]).expect(0);
        assert!(d.stdout.contains("1 skipped"), "{}", d.stdout);
        assert!(
            d.stderr.contains("file name is not valid UTF-8"),
            "{}",
            d.stderr
        );
    }
    let r = search(&env, &["filecoin"]);
    assert_eq!(r.hits[0].id, "projects/filecoin", "the rest is indexed");
    let d = env.cmd(["check"]).expect(1);
    assert!(d.stdout.contains("not valid UTF-8"), "{}", d.stdout);
}

#[test]
fn phrases_and_nearby_words_stay_within_a_clause() {
    let env = Env::empty();
    env.write(
        "corpus/articles/fees.md",
        "---\ntitle: Fees\n---\nBusiness model: marketplace fees.\n\n- GPU\n- compute credits\n",
    );
    env.write(
        "corpus/articles/market.md",
        "---\ntitle: Market\n---\nAn open model marketplace where a GPU compute job is paid per hour.\n",
    );
    let ids =
        |q: &str| -> Vec<String> { search(&env, &[q]).hits.into_iter().map(|h| h.id).collect() };
    // A phrase holds within a clause, not across a colon or from one list item to
    // the next.
    assert_eq!(ids("\"model marketplace\""), ["articles/market"]);
    assert_eq!(ids("\"gpu compute\""), ["articles/market"]);
    assert_eq!(ids("\"business model\""), ["articles/fees"]);
    assert_eq!(ids("\"Business model: marketplace\""), ["articles/fees"]);
    // Two words searched together rank the note that writes them side by side first.
    assert_eq!(ids("model marketplace")[0], "articles/market");
}

#[test]
fn control_characters_in_notes_never_reach_the_terminal() {
    let env = Env::shipped();
    // A title change, a bell, a colour, a carriage return and a newline, as YAML
    // escapes in the name and ticker, and raw in the body.
    env.write(
        "corpus/projects/hostile.md",
        "---\nname: \"Hostile\\e]0;pwned\\aPro\\rtocol\\nX\"\nticker: \"HX\\e[2J\"\n---\n\
         Hostile is a DEX \u{1b}[31mfor swapping\u{7} tokens, with no AI at all.\n",
    );
    for args in [
        vec!["--color", "always", "classify", "hostile"],
        vec!["--color", "always", "classify", "--explain", "hostile"],
        vec!["--color", "always", "search", "swapping"],
        vec!["--color", "always", "show", "hostile"],
    ] {
        let d = env.cmd(&args).expect(0);
        let bad: Vec<char> = d
            .stdout
            .chars()
            .filter(|&c| c.is_control() && c != '\n')
            .collect();
        // Only the colour codes of the output itself: ESC followed by `[`, a style
        // number and `m`, none of them the note's `[2J` or `[31m`.
        assert!(
            bad.iter().all(|&c| c == '\u{1b}'),
            "{args:?}: {bad:?}\n{}",
            d.stdout
        );
        for seq in ["\u{1b}]0;", "\u{1b}[2J", "\u{1b}[31m", "\u{7}", "\r"] {
            assert!(!d.stdout.contains(seq), "{args:?}: {seq:?}\n{}", d.stdout);
        }
        assert!(d.stdout.contains('\u{FFFD}'), "{args:?}\n{}", d.stdout);
    }
    // The classify table keeps the name on one line.
    let d = env.cmd(["classify", "hostile"]).expect(0);
    assert_eq!(d.stdout.lines().count(), 2, "{}", d.stdout);
    // JSON carries the name as written, escaped.
    let d = env.cmd(["classify", "--json", "hostile"]).expect(0);
    assert!(
        d.stdout
            .contains(r#""name": "Hostile\u001b]0;pwned\u0007Pro\rtocol\nX""#)
    );
}
