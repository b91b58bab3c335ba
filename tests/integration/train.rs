//! `aikb train` and the lexicon the taxonomy names.

use crate::json::ClassifyJson;
use crate::util::Env;

/// A small knowledge base with pinned notes of every label and a taxonomy that names
/// a lexicon.
fn pinned_kb() -> Env {
    let env = Env::shipped();
    let notes = [
        (
            "gpu-a",
            "resources",
            "compute",
            "Idle graphics cards rented to model trainers by the hour.",
        ),
        (
            "gpu-b",
            "resources",
            "compute",
            "A market where idle graphics cards are rented for inference.",
        ),
        (
            "agent-a",
            "infrastructure",
            "agents",
            "A framework for autonomous agents that hold wallets and act.",
        ),
        (
            "agent-b",
            "infrastructure",
            "agents",
            "Autonomous agents with wallets that act for their owners.",
        ),
        (
            "proof-a",
            "problems",
            "verification",
            "Zero-knowledge proofs that a model produced an output.",
        ),
        (
            "proof-b",
            "problems",
            "verification",
            "Proofs that an output came from the model that was claimed.",
        ),
        (
            "dex-a",
            "none",
            "",
            "Swap tokens and provide liquidity to pools for fees.",
        ),
        (
            "dex-b",
            "none",
            "",
            "Provide liquidity to pools and swap tokens at low fees.",
        ),
    ];
    for (slug, cat, sub, body) in notes {
        let sub = if sub.is_empty() {
            String::new()
        } else {
            format!("subcategory: {sub}\n")
        };
        env.write(
            &format!("corpus/projects/{slug}.md"),
            &format!("---\nname: {slug}\ncategory: {cat}\n{sub}---\n{body}\n"),
        );
    }
    env
}

#[test]
fn train_writes_the_lexicon_the_taxonomy_names_and_check_reports_staleness() {
    let env = pinned_kb();
    let before = env.read("lexicon.tsv");
    let v: serde_json::Value = env.cmd(["train", "--json"]).json();
    assert_eq!(v["file"], "lexicon.tsv");
    assert_eq!(v["written"], true);
    assert_eq!(
        v["training"]["notes"], 28,
        "20 shipped notes and 8 new ones"
    );
    assert_eq!(v["training"]["labels"]["none"], 2);
    let after = env.read("lexicon.tsv");
    assert_ne!(before, after);
    assert!(after.starts_with("# aikb lexicon"));
    assert!(
        after.contains("\nformat\taikb-lexicon\t1\t28\n"),
        "{}",
        &after[..400]
    );
    // Training again gives the same bytes; --check agrees and writes nothing.
    let d = env.cmd(["train", "--check"]).expect(0);
    assert!(
        d.stdout.contains("lexicon.tsv is up to date"),
        "{}",
        d.stdout
    );
    // A relabelled note makes the lexicon stale; --check says so and leaves it.
    let note = env.read("corpus/projects/dex-b.md");
    env.write(
        "corpus/projects/dex-b.md",
        &note.replace(
            "category: none\n",
            "category: resources\nsubcategory: compute\n",
        ),
    );
    let d = env.cmd(["train", "--check"]).expect(1);
    assert!(d.stdout.contains("is stale"), "{}", d.stdout);
    assert_eq!(env.read("lexicon.tsv"), after);
    // The index notices a new lexicon like a new taxonomy: every project note is
    // classified again.
    env.cmd(["index"]).expect(0);
    env.cmd(["train"]).expect(0);
    let d = env.cmd(["index"]).expect(0);
    assert!(d.stdout.contains("28 changed"), "{}", d.stdout);
}

#[test]
fn train_learns_from_other_knowledge_bases_and_writes_where_asked() {
    let env = pinned_kb();
    let other = Env::copy_of(&crate::util::repo().join("tests/fixtures/dev-2"));
    let v: serde_json::Value = env
        .cmd(["train", "--json", "--out", "other.tsv", "--from"])
        .arg_path(other.root())
        .json();
    let n = v["training"]["notes"].as_u64().unwrap();
    assert!(n > 28, "{n}");
    assert!(env.path("other.tsv").exists());
    // Nothing else was touched.
    assert_eq!(
        env.read("lexicon.tsv"),
        std::fs::read_to_string(crate::util::repo().join("lexicon.tsv")).unwrap()
    );
}

#[test]
fn train_refuses_what_it_cannot_learn() {
    let env = pinned_kb();
    // --from a folder that is no knowledge base.
    let d = env.cmd(["train", "--from", "corpus"]).expect(2);
    assert!(d.stderr.contains("no corpus/ folder"), "{}", d.stderr);
    // A label no note pins.
    for slug in ["dex-a", "dex-b"] {
        std::fs::remove_file(env.path(&format!("corpus/projects/{slug}.md"))).unwrap();
    }
    let d = env.cmd(["train"]).expect(2);
    assert!(d.stderr.contains("none pins none"), "{}", d.stderr);
    // A taxonomy without `lexicon:` needs --out.
    let tax = env.read("taxonomy.yaml");
    let start = tax.find("\nlexicon:\n").unwrap();
    let end = start + tax[start + 1..].find("\n\n").unwrap() + 1;
    env.write(
        "taxonomy.yaml",
        &format!("{}{}", &tax[..start], &tax[end..]),
    );
    let d = env.cmd(["train"]).expect(2);
    assert!(d.stderr.contains("names no lexicon"), "{}", d.stderr);
    // And classification then runs on the signals alone.
    let r: ClassifyJson = env.cmd(["classify", "--json", "gpu-a"]).json();
    assert!(r.results[0].lexicon.is_none());
}

#[test]
fn a_missing_or_broken_lexicon_is_located() {
    let env = Env::shipped();
    std::fs::remove_file(env.path("lexicon.tsv")).unwrap();
    // Located at the `file:` line under `lexicon:`.
    let line = env
        .read("taxonomy.yaml")
        .lines()
        .position(|l| l == "lexicon:")
        .unwrap()
        + 2;
    let d = env.cmd(["classify"]).expect(2);
    assert!(
        d.stderr.contains(&format!(
            "taxonomy.yaml:{line}:3: cannot read the lexicon `lexicon.tsv`"
        )),
        "{}",
        d.stderr
    );
    assert!(d.stderr.contains("aikb train"), "{}", d.stderr);
    // Training needs no lexicon to start from.
    env.cmd(["train", "--from"])
        .arg_path(&crate::util::repo().join("tests/fixtures/dev"))
        .expect(0);
    env.cmd(["classify"]).expect(0);
    // A weight that is not a number, by line and column.
    let lex = env.read("lexicon.tsv");
    let (n, bad) = lex
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("gpu\t"))
        .unwrap();
    let fields: Vec<&str> = bad.split('\t').collect();
    let col = fields[0].len() + fields[1].len() + 3;
    let broken = lex.replace(
        bad,
        &format!(
            "{}\t{}\tNaNx\t{}",
            fields[0],
            fields[1],
            fields[3..].join("\t")
        ),
    );
    env.write("lexicon.tsv", &broken);
    let d = env.cmd(["search", "gpu"]).expect(2);
    assert!(
        d.stderr.contains(&format!(
            "lexicon.tsv:{}:{col}: `NaNx` is not a finite number",
            n + 1
        )),
        "{}",
        d.stderr
    );
    assert!(
        !env.path(".aikb").exists(),
        "a bad lexicon leaves no index behind"
    );
}

#[test]
fn classify_shows_the_lexicon_vote() {
    let env = Env::shipped();
    let r: ClassifyJson = env.cmd(["classify", "--json", "Render"]).json();
    let v = r.results[0].lexicon.as_ref().unwrap();
    assert_eq!(v.label, "resources");
    assert_eq!(v.signals, "resources");
    assert!(!v.overruled);
    let total: f64 = v.probabilities.values().sum();
    assert!((total - 1.0).abs() < 0.01, "{total}");
    assert_eq!(v.probabilities.len(), 4);
    assert!(!v.words.is_empty() && v.words.len() <= 8);
    let note = env.read("corpus/projects/render.md");
    for w in &v.words {
        assert!(w.pull > 0.0);
        assert_eq!(
            note.lines()
                .nth(w.line - 1)
                .map(|l| l.contains(w.word.as_str())),
            Some(true),
            "{w:?}"
        );
    }
    let d = env.cmd(["classify", "--explain", "Render"]).expect(0);
    assert!(d.stdout.contains("    lexicon: resources "), "{}", d.stdout);
    assert!(d.stdout.contains("agrees with the signals"), "{}", d.stdout);
    assert!(
        d.stdout.contains("    lexicon words for resources: "),
        "{}",
        d.stdout
    );
    let d = env.cmd(["show", "Render"]).expect(0);
    assert!(d.stdout.contains("\n  lexicon: resources "), "{}", d.stdout);
}

#[test]
fn the_lexicon_decides_where_the_signals_have_nothing_to_say() {
    // No signal speaks of subnets rewarding models; the lexicon has read such notes.
    let env = Env::shipped();
    let d = env
        .cmd(["classify", "--json", "--text", "-"])
        .stdin("A network of subnets rewarding machine learning models.")
        .expect(0);
    let r: ClassifyJson = serde_json::from_str(&d.stdout).unwrap();
    let v = r.results[0].lexicon.as_ref().unwrap();
    assert_eq!(r.results[0].category, "infrastructure");
    assert!(v.overruled && v.signals == "none", "{v:?}");
    let d = env
        .cmd(["classify", "--text", "-"])
        .stdin("A network of subnets rewarding machine learning models.")
        .expect(0);
    assert!(d.stdout.contains("lexicon "), "{}", d.stdout);
}

#[test]
fn a_lexicon_for_other_labels_is_set_aside_with_a_warning() {
    // The taxonomy was edited after training: the signals classify alone until the
    // lexicon is retrained.
    let env = Env::shipped();
    let tax = env.read("taxonomy.yaml");
    env.write(
        "taxonomy.yaml",
        &tax.replacen("      - id: storage\n", "      - id: archives\n", 1),
    );
    let d = env.cmd(["classify", "--json", "Render"]).expect(0);
    assert!(
        d.stderr.contains("lexicon.tsv: `resources/storage` is not a subcategory of the taxonomy; retrain it with `aikb train`"),
        "{}",
        d.stderr
    );
    assert!(d.stderr.contains("signals alone"), "{}", d.stderr);
    let r: ClassifyJson = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(r.results[0].category, "resources");
    assert!(r.results[0].lexicon.is_none());
}

#[test]
fn a_terse_note_is_left_to_the_signals() {
    // The name says what it is and the body says nothing: on two known words the
    // lexicon's vote is its prior, which must not overrule the name's evidence.
    let env = Env::shipped();
    env.write(
        "corpus/projects/acme.md",
        "---\nname: Acme AI Agents\n---\nComing soon.\n",
    );
    let r: ClassifyJson = env.cmd(["classify", "--json", "acme"]).json();
    assert_eq!(r.results[0].category, "infrastructure");
    assert!(!r.results[0].lexicon.as_ref().unwrap().overruled);
}
