//! `aikb classify`, `aikb eval` and `aikb taxonomy check`.

use crate::json::ClassifyJson;
use crate::util::{Env, repo};

/// `aikb classify --text - --json` on `text`.
fn classify_text(env: &Env, text: impl Into<Vec<u8>>) -> ClassifyJson {
    env.cmd(["classify", "--text", "-", "--json"])
        .stdin(text)
        .json()
}

#[test]
fn classify_all_projects_as_json() {
    let env = Env::shipped();
    let r: ClassifyJson = env.cmd(["classify", "--json"]).json();
    assert_eq!(r.results.len(), 20);
    for p in &r.results {
        let pinned = p.pinned.as_ref().expect("every shipped note is pinned");
        assert_eq!(
            (&p.category, &p.subcategory),
            (&pinned.category, &pinned.subcategory),
            "{}",
            p.name
        );
        assert!((0.0..=1.0).contains(&p.confidence));
        assert_eq!(
            p.scores.keys().collect::<Vec<_>>(),
            vec!["infrastructure", "problems", "resources"]
        );
        assert!(!p.evidence.is_empty());
        for e in &p.evidence {
            assert!(["name", "tags", "body"].contains(&e.field.as_str()));
            assert!(e.line >= 1);
            assert!(e.count >= 1);
        }
    }
}

#[test]
fn classify_by_name_ticker_and_path_with_evidence_lines() {
    let env = Env::shipped();
    let r: ClassifyJson = env
        .cmd([
            "classify",
            "akt",
            "Worldcoin",
            "corpus/projects/zama.md",
            "--json",
        ])
        .json();
    let names: Vec<_> = r.results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Akash", "Worldcoin", "Zama"]);
    // Evidence lines point into the file.
    let akash = env.read("corpus/projects/akash.md");
    for e in &r.results[0].evidence {
        let line = akash.lines().nth(e.line - 1).unwrap();
        assert!(
            line.to_lowercase().contains(&e.matched.to_lowercase()),
            "{e:?} not on line {}: {line}",
            e.line
        );
    }
    let d = env.cmd(["classify", "akash"]).expect(0);
    assert!(d.stdout.starts_with("NAME"), "{}", d.stdout);
    assert!(d.stdout.contains("resources/compute"));
    let d = env.cmd(["classify", "akash", "--explain"]).expect(0);
    assert!(d.stdout.contains("scores:"), "{}", d.stdout);
    assert!(d.stdout.contains("matched \""), "{}", d.stdout);
    let d = env.cmd(["classify", "akashh"]).expect(2);
    assert!(d.stderr.contains("did you mean Akash"), "{}", d.stderr);
}

#[test]
fn pinned_labels_are_shown_and_disagreements_marked() {
    let env = Env::shipped();
    let note = env.read("corpus/projects/akash.md").replace(
        "category: resources\nsubcategory: compute",
        "category: problems\nsubcategory: provenance",
    );
    env.write("corpus/projects/akash.md", &note);
    let r: ClassifyJson = env.cmd(["classify", "akash", "--json"]).json();
    assert_eq!(
        r.results[0].category, "resources",
        "the classifier still computes its own label"
    );
    assert_eq!(r.results[0].pinned.as_ref().unwrap().category, "problems");
    let d = env.cmd(["classify", "akash"]).expect(0);
    assert!(d.stdout.contains("problems/provenance ≠"), "{}", d.stdout);
    // The effective (pinned) category is what search filters and counts on.
    let d = env
        .cmd(["search", "akash", "--category", "problems", "--json"])
        .expect(0);
    assert!(d.stdout.contains("projects/akash"));
}

#[test]
fn raw_text_from_stdin() {
    let env = Env::shipped();
    let text = "A marketplace where owners of idle GPUs rent compute to AI developers who train and serve models.";
    let r = classify_text(&env, text);
    assert_eq!(r.results[0].category, "resources");
    assert_eq!(r.results[0].subcategory.as_deref(), Some("compute"));
    let dex = "An automated market maker where liquidity providers deposit token pairs into pools and traders swap against them, paying a fee.";
    let r = classify_text(&env, dex);
    assert_eq!(r.results[0].category, "none");
    // The table says why: too little AI evidence, and what spoke against it.
    assert!(r.results[0].scope_score < r.results[0].scope_needed);
    assert_eq!(
        r.results[0].scope_needed, 4.0,
        "the gate when something speaks against"
    );
    let d = env.cmd(["classify", "--text", "-"]).stdin(dex).expect(0);
    assert!(
        d.stdout
            .contains("of 4.0 needed; against: automated market maker"),
        "{}",
        d.stdout
    );
    // A correction of a false match ("classified as" against "classifier") is no
    // reason against AI of its own.
    let lending = "Borrowers post collateral and lenders earn interest; the token is classified as a utility token.";
    let d = env
        .cmd(["classify", "--text", "-"])
        .stdin(lending)
        .expect(0);
    assert!(d.stdout.contains(" none "), "{}", d.stdout);
    assert!(!d.stdout.contains("classified as"), "{}", d.stdout);
    // A long note about something else that names AI in one paragraph only.
    let para = "The exchange matches orders for spot pairs, charges a small fee on each trade and pays part of it to token holders who stake.";
    let mut long: Vec<String> = vec![para.to_string(); 6];
    long[4] =
        format!("{para} Its ecosystem fund also backed a few AI agent and machine learning teams.");
    let long = long.join("\n\n");
    let r = classify_text(&env, long.as_str());
    assert_eq!(r.results[0].category, "none");
    assert!(r.results[0].passing_mention);
    assert!(r.results[0].scope_score >= r.results[0].scope_needed);
    let d = env
        .cmd(["classify", "--text", "-"])
        .stdin(long.as_str())
        .expect(0);
    assert!(
        d.stdout
            .contains("AI named in passing (one paragraph, line 9)"),
        "{}",
        d.stdout
    );
    // With nothing against, the lower gate applies.
    let r = classify_text(&env, "A note about the weather.");
    assert_eq!(r.results[0].category, "none");
    assert_eq!(r.results[0].scope_needed, 3.0);
    // A byte that is not UTF-8 is located, from stdin or a file.
    let d = env
        .cmd(["classify", "--text", "-"])
        .stdin(&b"GPUs\nab\xffcd"[..])
        .expect(2);
    assert!(
        d.stderr.contains("<stdin>:2:3: invalid UTF-8"),
        "{}",
        d.stderr
    );
    std::fs::write(env.path("bad.txt"), b"GPUs\nab\xffcd").unwrap();
    let d = env.cmd(["classify", "--text", "bad.txt"]).expect(2);
    assert!(
        d.stderr.contains("bad.txt:2:3: invalid UTF-8"),
        "{}",
        d.stderr
    );
    // A "word" of a million letters is one word that is no term.
    let huge = format!("GPU {} GPU", "a".repeat(1 << 20));
    let r = classify_text(&env, huge);
    let ev = &r.results[0].evidence;
    assert!(
        !ev.is_empty() && ev.iter().all(|e| e.matched == "GPU" && e.count == 2),
        "{ev:?}"
    );
}

#[test]
fn nodes_that_serve_models_are_a_model_network_not_a_compute_market() {
    let env = Env::shipped();
    let classify = |text: &str| classify_text(&env, text);
    let serving = "A peer-to-peer network where community nodes run open LLMs and return \
                   completions to apps; validators score the answers and the token rewards \
                   the best nodes.";
    let r = classify(serving);
    assert_eq!(r.results[0].category, "infrastructure");
    assert_eq!(r.results[0].subcategory.as_deref(), Some("model-networks"));
    assert!(
        r.results[0]
            .evidence
            .iter()
            .any(|e| e.matched.ends_with("nodes run open LLMs")),
        "{:?}",
        r.results[0].evidence
    );
    // Customers running models on rented machines is still a compute market.
    let renting = "A marketplace where data centers rent out idle GPUs by the hour; \
                   customers run their models on the rented machines.";
    let r = classify(renting);
    assert_eq!(r.results[0].category, "resources");
    assert_eq!(r.results[0].subcategory.as_deref(), Some("compute"));
}

#[test]
fn a_one_line_description_named_by_ai_compounds_is_in_scope() {
    // "distributed training" and "build agent services" are AI work even where the
    // generic words ("training", "agent") would not clear the gate on their own.
    let env = Env::shipped();
    for (text, category, subcategory) in [
        (
            "Trains open models with a distributed training protocol.",
            "infrastructure",
            "model-networks",
        ),
        (
            "Lets developers build agent services that run autonomously onchain.",
            "infrastructure",
            "agents",
        ),
        // A training network told by its mechanism alone.
        (
            "The network schedules training workloads across consumer hardware and pays in its token.",
            "resources",
            "compute",
        ),
    ] {
        let r = classify_text(&env, text);
        assert_eq!(r.results[0].category, category, "{text}");
        assert_eq!(
            r.results[0].subcategory.as_deref(),
            Some(subcategory),
            "{text}"
        );
    }
    // A wallet that added an AI assistant is still a wallet.
    let r = classify_text(
        &env,
        "A self-custody wallet; it recently added an AI assistant for swaps.",
    );
    assert_eq!(r.results[0].category, "none");
}

#[test]
fn everyday_words_are_not_read_as_defi_or_rollup_terms() {
    // "leveraging", "bridging", "final" and "sequences" share stems with leverage,
    // bridge, finality and sequencer, which speak against AI only in those senses.
    let env = Env::shipped();
    let text = "An AI lab that is leveraging open models and bridging research and \
                production; the final model sequences proteins.";
    let r = classify_text(&env, text);
    let against: Vec<&str> = r.results[0]
        .evidence
        .iter()
        .filter(|e| e.category == "scope" && e.weight < 0.0)
        .map(|e| e.matched.as_str())
        .collect();
    assert!(against.is_empty(), "{against:?}");
    let defi = "Trade with 20x leverage; the bridge and the sequencer reach finality in seconds.";
    let r = classify_text(&env, defi);
    let against = r.results[0]
        .evidence
        .iter()
        .filter(|e| e.category == "scope" && e.weight < 0.0)
        .count();
    assert!(against >= 3, "{:?}", r.results[0].evidence);
}

#[test]
fn plain_descriptions_and_disclaimers() {
    let env = Env::shipped();
    for (text, want) in [
        // A note that says it is not AI is not, whatever words it uses.
        (
            "Open-source software that trades for you on decentralised exchanges with \
             market-making bots and machine learning. Strategies are rules set by the user, \
             not learned models.",
            ("none", None),
        ),
        (
            "Workers tag images and text for model builders and are paid in tokens for each answer.",
            ("resources", Some("data")),
        ),
        (
            "Pay-once perpetual storage for files, encrypted on the client.",
            ("resources", Some("storage")),
        ),
        (
            "Detectors that tell human-written text from text produced by language models, \
             rewarded by validators.",
            ("problems", Some("provenance")),
        ),
    ] {
        let r = classify_text(&env, text);
        let got = (
            r.results[0].category.as_str(),
            r.results[0].subcategory.as_deref(),
        );
        assert_eq!(got, want, "{text}");
    }
}

#[test]
fn mechanisms_told_in_plain_words_are_placed_by_concept() {
    // One-line descriptions without the category's stock phrases (and mostly without
    // "AI"), next to non-AI mechanisms told the same way.
    let env = Env::shipped();
    for (text, want) in [
        (
            "Anyone with GPUs joins a training run for an open language model; contributions \
             are checked and rewarded.",
            "infrastructure",
        ),
        (
            "A chat app that runs open-source models without logging prompts.",
            "problems",
        ),
        (
            "Splits files into encrypted pieces stored on thousands of independent nodes, \
             billed per gigabyte.",
            "resources",
        ),
        (
            "Each person must show up on a video call so a volunteer can confirm they are a \
             real, single individual.",
            "problems",
        ),
        (
            "News publishers sign every article and photo at publication, so readers can \
             check that a story was not altered later.",
            "problems",
        ),
        (
            "The network re-runs a sample of inference requests on other nodes and slashes \
             operators whose answers differ from the model's real output.",
            "problems",
        ),
        (
            "Each answer the model gives comes with a succinct proof that the published \
             weights produced it, checked by a contract.",
            "problems",
        ),
        (
            "Secret data is split across nodes so that no single node can read it.",
            "none",
        ),
        (
            "Users predict the price of bitcoin next week and win the pot if they are closest.",
            "none",
        ),
        (
            "Node operators deploy small radios on rooftops and earn tokens for relaying \
             sensor packets across the city.",
            "none",
        ),
    ] {
        let r = classify_text(&env, text);
        assert_eq!(r.results[0].category, want, "{text}");
    }
}

#[test]
fn eval_on_the_shipped_corpus() {
    let env = Env::shipped();
    let v: serde_json::Value = env.cmd(["eval", "--json", "--min-macro-f1", "0.9"]).json();
    assert_eq!(v["evaluated"], 20);
    assert_eq!(v["macro_f1"], 1.0);
    assert_eq!(v["misses"].as_array().unwrap().len(), 0);
    assert_eq!(v["confusion"]["resources"]["resources"], 7);
    let d = env.cmd(["eval"]).expect(0);
    assert!(d.stdout.contains("macro-F1 1.000"), "{}", d.stdout);
    // Break one label: the miss is listed with its evidence and the threshold fails.
    let note = env
        .read("corpus/projects/zama.md")
        .replace("category: problems", "category: resources")
        .replace("subcategory: verification", "subcategory: storage");
    env.write("corpus/projects/zama.md", &note);
    let d = env.cmd(["eval", "--min-macro-f1", "0.99"]).expect(1);
    assert!(d.stdout.contains("Zama"), "{}", d.stdout);
    assert!(
        d.stdout
            .contains("pinned resources/storage, predicted problems/verification"),
        "{}",
        d.stdout
    );
    // A miss predicted `none` says why.
    env.write(
        "corpus/projects/pool-swap.md",
        "---\nname: Pool Swap\ncategory: resources\nsubcategory: storage\n---\n\
         An automated market maker where liquidity providers deposit token pairs into pools.\n",
    );
    let d = env.cmd(["eval"]).expect(0);
    assert!(
        d.stdout.contains(
            "Pool Swap (corpus/projects/pool-swap.md): pinned resources/storage, predicted none"
        ) && d.stdout.contains("    why: AI scope ")
            && d.stdout
                .contains(" of 4.0 needed; against: automated market maker"),
        "{}",
        d.stdout
    );
}

#[test]
fn held_out_protocols_are_classified() {
    // Labelled sets of protocols that are not in the shipped corpus (see each set's
    // README for how it was written and whether it was used to choose signals). The
    // development sets also train the shipped lexicon; the held-out sets never do.
    // Each set has a floor under its measured macro-F1: 0.8, or lower for the sets that
    // measure lower (`heldout-7`, `heldout-12` and `heldout-14`, kept as written;
    // `dev-11`, `dev-13`, `dev-14`, `dev-19` to `dev-21`, `dev-29` and `dev-30`, the
    // hardest development sets before the lexicon).
    for (set, notes, floor) in [
        ("heldout", 40, 0.8),
        ("heldout-2", 32, 0.8),
        ("heldout-3", 32, 0.8),
        ("heldout-4", 32, 0.8),
        ("heldout-5", 32, 0.8),
        ("heldout-6", 32, 0.8),
        ("heldout-7", 32, 0.7),
        ("heldout-8", 32, 0.8),
        ("heldout-9", 32, 0.8),
        ("heldout-10", 32, 0.8),
        ("heldout-11", 32, 0.8),
        ("heldout-12", 32, 0.7),
        ("heldout-13", 32, 0.8),
        ("heldout-14", 32, 0.6),
        ("heldout-15", 32, 0.8),
        ("heldout-16", 32, 0.8),
        ("heldout-17", 36, 0.8),
        ("heldout-18", 48, 0.8),
        ("heldout-19", 60, 0.8),
        ("heldout-20", 60, 0.8),
        ("heldout-21", 60, 0.8),
        ("heldout-22", 60, 0.8),
        ("dev", 40, 0.8),
        ("dev-2", 40, 0.8),
        ("dev-3", 32, 0.8),
        ("dev-4", 32, 0.8),
        ("dev-5", 32, 0.8),
        ("dev-6", 32, 0.8),
        ("dev-7", 32, 0.8),
        ("dev-8", 32, 0.8),
        ("dev-9", 32, 0.8),
        ("dev-10", 32, 0.8),
        ("dev-11", 32, 0.7),
        ("dev-12", 32, 0.8),
        ("dev-13", 32, 0.75),
        ("dev-14", 32, 0.65),
        ("dev-15", 32, 0.8),
        ("dev-16", 32, 0.8),
        ("dev-17", 32, 0.8),
        ("dev-18", 32, 0.8),
        ("dev-19", 36, 0.75),
        ("dev-20", 36, 0.75),
        ("dev-21", 36, 0.75),
        ("dev-22", 36, 0.8),
        ("dev-23", 35, 0.8),
        ("dev-24", 56, 0.8),
        ("dev-25", 60, 0.8),
        ("dev-26", 60, 0.8),
        ("dev-27", 60, 0.8),
        ("dev-28", 60, 0.8),
        ("dev-29", 60, 0.7),
        ("dev-30", 60, 0.7),
        ("dev-31", 60, 0.8),
        ("dev-32", 60, 0.8),
        ("dev-33", 48, 0.8),
        ("dev-34", 48, 0.8),
        ("dev-35", 48, 0.8),
        ("dev-36", 48, 0.8),
        ("dev-37", 60, 0.8),
        ("dev-38", 60, 0.8),
        ("dev-39", 60, 0.7),
        ("dev-40", 60, 0.75),
        ("dev-41", 60, 0.8),
        ("dev-42", 60, 0.8),
        ("dev-43", 60, 0.8),
        ("dev-44", 60, 0.8),
    ] {
        let env = Env::copy_of(&repo().join("tests/fixtures").join(set));
        std::fs::copy(repo().join("taxonomy.yaml"), env.path("taxonomy.yaml")).unwrap();
        let v: serde_json::Value = env.cmd(["eval", "--json"]).json();
        assert_eq!(v["evaluated"].as_u64(), Some(notes), "{set}");
        let f1 = v["macro_f1"].as_f64().unwrap();
        assert!(f1 >= floor, "{set}: macro-F1 {f1}");
    }
}

#[test]
fn taxonomy_errors_are_located_and_nothing_is_written() {
    let env = Env::shipped();
    let tax = env.read("taxonomy.yaml");
    env.write(
        "taxonomy.yaml",
        &tax.replacen("\nthresholds:\n", "\nthresholds:\n  colour: red\n", 1)
            .replacen("weight: 2\n", "weight: 99\n", 1),
    );
    for args in [
        &["taxonomy", "check"][..],
        &["classify"],
        &["search", "gpu"],
        &["index"],
    ] {
        let d = env.cmd(args).expect(2);
        assert!(
            d.stderr.contains("taxonomy.yaml:"),
            "{args:?}: {}",
            d.stderr
        );
    }
    let d = env.cmd(["taxonomy", "check"]).expect(2);
    assert!(d.stderr.contains("colour"), "{}", d.stderr);
    assert!(
        !env.path(".aikb").exists(),
        "a bad taxonomy leaves no index behind"
    );
    // A byte that is not UTF-8 is located like any other error.
    let mut bytes = tax.into_bytes();
    let at = bytes.windows(11).position(|w| w == b"thresholds:").unwrap();
    bytes[at + 2] = 0xff;
    let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    std::fs::write(env.path("taxonomy.yaml"), &bytes).unwrap();
    let d = env.cmd(["taxonomy", "check"]).expect(2);
    assert!(
        d.stderr
            .contains(&format!("taxonomy.yaml:{line}:3: invalid UTF-8")),
        "{}",
        d.stderr
    );
}

#[test]
fn taxonomy_check_lints_against_the_corpus() {
    let env = Env::shipped();
    let v: serde_json::Value = env.cmd(["taxonomy", "check", "--json"]).json();
    assert_eq!(v["valid"], true);
    assert!(v["lint"]["never_fire"].is_array());
    assert_eq!(v["lexicon"]["file"], "lexicon.tsv");
    assert!(v["lexicon"]["words"].as_u64().unwrap() > 1000);
    let d = env.cmd(["taxonomy", "check"]).expect(0);
    assert!(d.stdout.starts_with("taxonomy is valid"), "{}", d.stdout);
    assert!(d.stdout.contains("lexicon lexicon.tsv: "), "{}", d.stdout);
}
