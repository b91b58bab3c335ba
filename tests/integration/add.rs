//! `aikb add`: the written note byte for byte, every refusal leaving the corpus
//! untouched, escaping, `--dry-run`, `--from -`, and concurrent processes.

use std::process::{Child, Stdio};
use std::time::Duration;

use serde::Deserialize;

use crate::json::{ClassifyJson, ClassifyResult, Pinned};
use crate::util::{Done, Env};

/// `add --json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddJson {
    path: String,
    id: String,
    classification: ClassifyResult,
    dry_run: Option<bool>,
    note: Option<String>,
}

const GPU_TEXT: &str = "Nimbus Grid is a decentralized GPU marketplace where providers rent out idle GPUs \
                        for AI model training and inference.";

/// Paths of the hits of `aikb search QUERY --json`.
fn search_paths(env: &Env, query: &str) -> Vec<String> {
    let v: serde_json::Value = env.cmd(["search", query, "--json"]).json();
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap().to_string())
        .collect()
}

fn one_line_error(d: &Done) -> &str {
    let line = d.stderr.trim_end_matches('\n');
    assert!(
        line.starts_with("aikb: ") && !line.contains('\n'),
        "one `aikb: ` line on stderr:\n{}",
        d.stderr
    );
    assert!(d.stdout.is_empty(), "nothing on stdout:\n{}", d.stdout);
    line
}

#[test]
fn add_writes_the_note_then_search_and_classify_find_it() {
    let env = Env::shipped();
    let out: AddJson = env
        .cmd([
            "add",
            "Nimbus Grid",
            "--ticker",
            "$nmb",
            "--website",
            "https://nimbus.example.org",
            "--alias",
            "Nimbus Network",
            "--tag",
            "gpu",
            "--tag",
            "inference",
            "--description",
            GPU_TEXT,
            "--category",
            "Resources",
            "--subcategory",
            "compute",
            "--json",
        ])
        .json();
    assert_eq!(
        (out.path.as_str(), out.id.as_str()),
        ("corpus/projects/nimbus-grid.md", "projects/nimbus-grid")
    );
    assert_eq!((out.dry_run, out.note), (None, None));
    assert_eq!(
        env.read("corpus/projects/nimbus-grid.md"),
        format!(
            "---\nname: \"Nimbus Grid\"\nticker: \"NMB\"\nwebsite: \"https://nimbus.example.org\"\n\
             aliases: [\"Nimbus Network\"]\ntags: [\"gpu\", \"inference\"]\nsources: []\n\
             category: \"resources\"\nsubcategory: \"compute\"\n---\n\n{GPU_TEXT}\n"
        )
    );
    let c = &out.classification;
    assert_eq!(
        (c.name.as_str(), c.ticker.as_deref()),
        ("Nimbus Grid", Some("NMB"))
    );
    assert_eq!(
        (c.category.as_str(), c.subcategory.as_deref()),
        ("resources", Some("compute"))
    );
    assert_eq!(
        c.pinned,
        Some(Pinned {
            category: "resources".into(),
            subcategory: Some("compute".into())
        })
    );
    assert!(!c.evidence.is_empty());
    // The same result `classify` gives for the note now on disk.
    let classified: ClassifyJson = env.cmd(["classify", "nmb", "--json"]).json();
    assert_eq!(classified.results, vec![out.classification]);
    // The index was updated: found by name, alias and ticker.
    for query in ["Nimbus Grid", "nimbus network", "NMB", "ticker:nmb"] {
        assert_eq!(
            search_paths(&env, query).first().map(String::as_str),
            Some("corpus/projects/nimbus-grid.md"),
            "{query}"
        );
    }
    // Nothing else changed, and the corpus still checks clean of duplicates.
    let check = env.cmd(["check"]).run();
    assert!(!check.stdout.contains("nimbus-grid"), "{}", check.stdout);
}

#[test]
fn human_output_names_the_path_prediction_and_evidence() {
    let env = Env::shipped();
    let d = env
        .cmd([
            "add",
            "Nimbus Grid",
            "--description",
            GPU_TEXT,
            "--category",
            "none",
        ])
        .expect(0);
    let lines: Vec<&str> = d.stdout.lines().collect();
    assert_eq!(lines[0], "added corpus/projects/nimbus-grid.md");
    assert!(
        lines[1].starts_with("predicted: resources/compute ("),
        "{}",
        d.stdout
    );
    assert_eq!(lines[2], "pinned:    none (differs from the prediction)");
    assert_eq!(lines[3], "evidence:");
    let evidence = lines
        .iter()
        .filter(|l| l.starts_with("  +") || l.starts_with("  -"))
        .count();
    assert!((1..=5).contains(&evidence), "{}", d.stdout);
    assert!(d.stdout.contains("aikb report"), "{}", d.stdout);
    // A project predicted `none` is told why.
    let d = env
        .cmd([
            "add",
            "Pool Swap",
            "--description",
            "An automated market maker where liquidity providers deposit token pairs into pools.",
        ])
        .expect(0);
    let lines: Vec<&str> = d.stdout.lines().collect();
    assert!(lines[1].starts_with("predicted: none ("), "{}", d.stdout);
    assert!(
        lines[2].starts_with("why:       AI scope ")
            && lines[2].contains(" of 4.0 needed; against: automated market maker"),
        "{}",
        d.stdout
    );
}

#[test]
fn every_refusal_exits_2_and_leaves_the_corpus_untouched() {
    let env = Env::shipped();
    let desc = ["--description", "An AI agent network."];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["filecoin"],
            "name `filecoin` is already used by corpus/projects/filecoin.md",
        ),
        (
            vec!["Brand New", "--alias", "akash network"],
            "alias `akash network` is already used by corpus/projects/akash.md",
        ),
        (
            vec!["Brand New", "--ticker", "$fet"],
            "ticker `FET` is already used by corpus/projects/fetch-ai.md",
        ),
        (
            vec!["Fetch AI"],
            "`fetch-ai.md` (from the name `Fetch AI`) is already used by corpus/projects/fetch-ai.md",
        ),
        (
            vec!["Brand New", "--ticker", "FIL-2"],
            "ticker `FIL-2` must be 1 to 12 letters or digits",
        ),
        (
            vec!["Brand New", "--ticker", "ABCDEFGHIJKLM"],
            "ticker `ABCDEFGHIJKLM`",
        ),
        (
            vec!["Brand New", "--website", "brand.new"],
            "website `brand.new` is not an http:// or https:// URL",
        ),
        (
            vec!["Brand New", "--website", "https://brand new.org"],
            "contains spaces",
        ),
        (
            vec!["Brand New", "--website", "https://localhost.."],
            "has no valid host name",
        ),
        (
            vec!["Brand New", "--category", "nope"],
            "unknown category `nope`; expected one of: infrastructure,",
        ),
        (
            vec![
                "Brand New",
                "--category",
                "resources",
                "--subcategory",
                "agents",
            ],
            "unknown subcategory `agents` for category `resources`",
        ),
        (
            vec![
                "Brand New",
                "--category",
                "none",
                "--subcategory",
                "compute",
            ],
            "category `none` (not AI) takes no subcategory",
        ),
        (
            vec!["Bad\u{7}Name"],
            "contains a control character (U+0007)",
        ),
        (
            vec!["Bad\nName"],
            "the name `Bad\\u{000a}Name` contains a control character (U+000A)",
        ),
        (
            vec!["Brand New", "--alias", "two\nlines"],
            "an alias `two\\u{000a}lines` contains a control character",
        ),
        (
            vec!["Brand New", "--tag", "a\tb"],
            "a tag `a\\u{0009}b` contains a control character",
        ),
        (vec!["Brand New", "--tag", " "], "a tag is empty"),
        (
            vec!["../../etc/x"],
            "the name `../../etc/x` contains a path separator (`/`)",
        ),
        (
            vec!["a/b"],
            "the name `a/b` contains a path separator (`/`)",
        ),
        (vec!["C:\\x"], "contains a path separator (`\\`)"),
        (
            vec!["!!!"],
            "the name `!!!` has no letter or digit to make a file name from",
        ),
        (vec!["🚀🤖"], "has no letter or digit"),
        (vec![".."], "has no letter or digit"),
        (vec!["  "], "the name is empty"),
        (
            vec!["Newproj", "--slug", "../x"],
            "--slug `../x` must be lower-case ASCII letters and digits joined by single hyphens",
        ),
        (vec!["Newproj", "--slug", "New Proj"], "e.g. `new-proj`"),
        (
            vec!["Newproj", "--slug", "akash"],
            "the file name `akash.md` (from --slug) is already used by corpus/projects/akash.md",
        ),
    ];
    let before = env.snapshot();
    for (args, want) in &cases {
        let d = env.cmd(["add"].iter().chain(args).chain(&desc)).expect(2);
        let line = one_line_error(&d);
        assert!(line.contains(want), "{args:?}: want {want:?} in\n{line}");
        assert!(
            env.snapshot() == before,
            "{args:?} changed the knowledge base"
        );
    }
    // Description problems.
    let description_cases: Vec<(Vec<&str>, &[u8], &str)> = vec![
        (
            vec!["--description", " \n\t "],
            b"",
            "the description is empty",
        ),
        (vec![], b"", "a description is required"),
        (
            vec!["--from", "-"],
            b"\n\n   \n",
            "the description is empty",
        ),
        (
            vec!["--from", "-"],
            b"bad \xff byte",
            "<stdin>: the description is not valid UTF-8 (at byte 4)",
        ),
        (
            vec!["--from", "-"],
            b"bell\x07\n",
            "control character (U+0007) on line 1",
        ),
        (vec!["--from", "no-such-file.md"], b"", "no-such-file.md"),
    ];
    for (args, stdin, want) in description_cases {
        let d = env
            .cmd(["add", "Brand New"].iter().chain(&args))
            .stdin(stdin)
            .expect(2);
        assert!(
            one_line_error(&d).contains(want),
            "{args:?}: want {want:?} in\n{}",
            d.stderr
        );
        assert!(
            env.snapshot() == before,
            "{args:?} changed the knowledge base"
        );
    }
    let huge = vec![b'x'; (1 << 20) + 1];
    let d = env
        .cmd(["add", "Brand New", "--from", "-"])
        .stdin(huge)
        .expect(2);
    assert!(
        one_line_error(&d).contains("larger than 1048576 bytes"),
        "{}",
        d.stderr
    );
    // clap refuses a subcategory without a category (usage error, exit 2).
    let d = env
        .cmd([
            "add",
            "Brand New",
            "--subcategory",
            "compute",
            "--description",
            "x",
        ])
        .expect(2);
    assert!(d.stderr.contains("--category"), "{}", d.stderr);
    let d = env
        .cmd(["add", "Brand New", "--description", "x", "--from", "-"])
        .expect(2);
    assert!(d.stderr.contains("cannot be used with"), "{}", d.stderr);
    assert!(env.snapshot() == before, "the knowledge base changed");
    assert!(
        !env.path(".aikb").exists(),
        "refusals never touch the index"
    );
}

#[test]
fn a_name_that_needs_escaping_round_trips_exactly() {
    let env = Env::shipped();
    let name = "Foo: \"Bar\" #1 — Ünï";
    let aliases = ["C:\\x", "- dash", "it's [a] {b} & *c | >d % @e `f` !g"];
    let mut args: Vec<String> = [
        "add",
        "--json",
        "--ticker",
        "F00",
        "--tag",
        "#gpu",
        "--tag",
        "x, y",
        "--description",
        GPU_TEXT,
    ]
    .map(String::from)
    .into();
    // `--alias=VALUE`: clap would read a separate `- dash` as an option.
    args.extend(aliases.iter().map(|a| format!("--alias={a}")));
    args.extend(["--".to_string(), name.to_string()]);
    let out: AddJson = env.cmd(&args).json();
    assert_eq!(out.path, "corpus/projects/foo-bar-1-uni.md");
    let text = env.read(&out.path);
    assert!(
        text.starts_with("---\nname: \"Foo: \\\"Bar\\\" #1 — Ünï\"\n"),
        "{text}"
    );
    let note = aikb::corpus::parse_note(&out.path, text.as_bytes()).unwrap();
    assert_eq!(note.front.name.as_deref(), Some(name));
    assert_eq!(note.front.aliases, aliases);
    assert_eq!(note.front.tags, ["#gpu", "x, y"]);
    assert_eq!(note.body, format!("\n{GPU_TEXT}\n"));
    assert_eq!(out.classification.name, name);
    // The binary reads it back the same way: found by its exact name and an alias.
    for key in [name, "C:\\x", "- dash"] {
        let c: ClassifyJson = env.cmd(["classify", "--json", "--", key]).json();
        assert_eq!(c.results[0].path, out.path, "{key}");
    }
    let check = env.cmd(["check"]).run();
    assert!(!check.stdout.contains("foo-bar-1-uni"), "{}", check.stdout);
}

#[test]
fn a_name_in_another_script_gets_an_ascii_file_name_and_keeps_its_spelling() {
    let env = Env::shipped();
    for (name, path) in [
        ("火币", "corpus/projects/huo-bi.md"),
        ("Биткоин Сеть", "corpus/projects/bitkoin-set.md"),
    ] {
        let out: AddJson = env
            .cmd(["add", "--json", "--description", GPU_TEXT, "--", name])
            .json();
        assert_eq!(out.path, path);
        let text = env.read(path);
        assert!(
            text.starts_with(&format!("---\nname: \"{name}\"\n")),
            "{text}"
        );
        let c: ClassifyJson = env.cmd(["classify", "--json", "--", name]).json();
        assert_eq!(c.results[0].path, path, "{name}");
    }
}

#[test]
fn a_chosen_file_name_is_used_and_the_name_kept() {
    let env = Env::shipped();
    let path = "corpus/projects/huobi-global.md";
    let out: AddJson = env
        .cmd([
            "add",
            "--json",
            "--slug",
            "huobi-global",
            "--description",
            GPU_TEXT,
            "--",
            "火币",
        ])
        .json();
    assert_eq!(out.path, path);
    assert!(env.read(path).starts_with("---\nname: \"火币\"\n"));
    let c: ClassifyJson = env.cmd(["classify", "--json", "--", "火币"]).json();
    assert_eq!(c.results[0].path, path);
    // Another name whose own file name would be free still cannot take that one.
    let d = env
        .cmd([
            "add",
            "--slug",
            "huobi-global",
            "--description",
            GPU_TEXT,
            "--",
            "Huobi Global",
        ])
        .expect(2);
    assert!(
        d.stderr
            .contains("is already used by corpus/projects/huobi-global.md"),
        "{}",
        d.stderr
    );
}

#[test]
fn dry_run_prints_the_note_and_writes_nothing() {
    let env = Env::shipped();
    let before = env.snapshot();
    let expected =
        format!("---\nname: \"Nimbus Grid\"\nticker: \"NMB\"\nsources: []\n---\n\n{GPU_TEXT}\n");
    let d = env
        .cmd([
            "add",
            "Nimbus Grid",
            "--ticker",
            "nmb",
            "--description",
            GPU_TEXT,
            "--dry-run",
        ])
        .expect(0);
    assert!(
        d.stdout
            .starts_with("dry run: would add corpus/projects/nimbus-grid.md; nothing written\n\n"),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains(&expected), "{}", d.stdout);
    assert!(
        d.stdout.contains("\npredicted: resources/compute"),
        "{}",
        d.stdout
    );
    let out: AddJson = env
        .cmd([
            "add",
            "Nimbus Grid",
            "--ticker",
            "nmb",
            "--description",
            GPU_TEXT,
            "--dry-run",
            "--json",
        ])
        .json();
    assert_eq!(out.dry_run, Some(true));
    assert_eq!(out.note.as_deref(), Some(expected.as_str()));
    assert_eq!(out.path, "corpus/projects/nimbus-grid.md");
    assert_eq!(out.classification.category, "resources");
    assert!(env.snapshot() == before, "--dry-run wrote something");
    assert!(!env.path(".aikb").exists(), "--dry-run touched the index");
    // A dry run still refuses what a real add would.
    let d = env
        .cmd(["add", "Filecoin", "--description", "x", "--dry-run"])
        .expect(2);
    one_line_error(&d);
}

#[test]
fn description_from_stdin_and_from_a_file_is_normalised() {
    let env = Env::shipped();
    env.cmd(["add", "Stdin Proj", "--from", "-"])
        .stdin("\u{feff}\r\n\r\nFirst line.\r\nSecond line.  \r\n\r\n\n")
        .expect(0);
    assert_eq!(
        env.read("corpus/projects/stdin-proj.md"),
        "---\nname: \"Stdin Proj\"\nsources: []\n---\n\nFirst line.\nSecond line.\n"
    );
    let file = env.dir.path().join("desc.md");
    std::fs::write(&file, "# Heading\n\n    indented code\n").unwrap();
    let mut run = env.cmd(["add", "File Proj", "--from"]);
    run.cmd.arg(&file);
    run.expect(0);
    assert!(
        env.read("corpus/projects/file-proj.md")
            .ends_with("---\n\n# Heading\n\n    indented code\n")
    );
    assert_eq!(
        search_paths(&env, "Stdin Proj").first().map(String::as_str),
        Some("corpus/projects/stdin-proj.md")
    );
    // `--description -` reads standard input too, as `classify --text -` does.
    env.cmd(["add", "Dash Proj", "--description", "-"])
        .stdin("A marketplace renting out GPUs for AI model training.\n")
        .expect(0);
    assert!(
        env.read("corpus/projects/dash-proj.md")
            .ends_with("---\n\nA marketplace renting out GPUs for AI model training.\n")
    );
}

/// Starts `aikb ARGS…` without waiting for it.
fn spawn(env: &Env, args: &[&str]) -> Child {
    let mut run = env.cmd(args);
    run.cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    run.cmd.spawn().unwrap()
}

fn finish(child: Child) -> Done {
    let out = child.wait_with_output().unwrap();
    Done {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Two `add`s and an `index` at once: all succeed, both notes land and are indexed.
fn concurrent_adds(env: &Env) {
    for round in 0..2 {
        let (a, b) = (
            format!("Alpha Compute {round}"),
            format!("Beta Agents {round}"),
        );
        let children = [
            spawn(env, &["add", a.as_str(), "--description", GPU_TEXT]),
            spawn(
                env,
                &[
                    "add",
                    b.as_str(),
                    "--description",
                    "Autonomous AI agents that trade.",
                ],
            ),
            spawn(env, &["index"]),
        ];
        for child in children {
            let d = finish(child);
            assert_eq!(d.code, 0, "stdout:\n{}\nstderr:\n{}", d.stdout, d.stderr);
            assert!(!d.stderr.contains("failed"), "{}", d.stderr);
        }
        for name in [&a, &b] {
            let rel = format!("corpus/projects/{}.md", aikb::add::slugify(name));
            assert!(env.read(&rel).contains(name.as_str()));
            assert_eq!(search_paths(env, name).first(), Some(&rel), "{name}");
        }
    }
    let stats: serde_json::Value = env.cmd(["index", "--json"]).json();
    assert_eq!(
        (stats["added"].as_u64(), stats["changed"].as_u64()),
        (Some(0), Some(0)),
        "{stats}"
    );
}

#[test]
fn concurrent_adds_on_an_indexed_kb_never_lose_a_note() {
    let env = Env::shipped();
    env.cmd(["index"]).expect(0);
    concurrent_adds(&env);
}

#[test]
fn concurrent_adds_on_a_fresh_kb_never_lose_a_note() {
    for _ in 0..5 {
        concurrent_adds(&Env::shipped());
    }
}

#[test]
fn add_waits_for_the_index_lock_and_fails_clearly_when_it_times_out() {
    let env = Env::shipped();
    env.cmd(["index"]).expect(0);
    let lock_path = env.path(".aikb/index/.tantivy-writer.lock");
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    lock.try_lock().unwrap();
    // Held past the timeout: the note is kept, the error says so, exit 2.
    let d = env
        .cmd(["add", "Locked Out", "--description", GPU_TEXT])
        .env("AIKB_LOCK_TIMEOUT", "0.3")
        .expect(2);
    let line = one_line_error(&d);
    assert!(
        line.contains("added corpus/projects/locked-out.md, but updating the index failed"),
        "{line}"
    );
    assert!(line.contains("locked by another aikb process"), "{line}");
    assert!(env.path("corpus/projects/locked-out.md").is_file());
    // Released while it waits: it succeeds.
    let child = spawn(&env, &["add", "Waited For", "--description", GPU_TEXT]);
    std::thread::sleep(Duration::from_millis(400));
    lock.unlock().unwrap();
    let d = finish(child);
    assert_eq!(d.code, 0, "{}", d.stderr);
    for name in ["Locked Out", "Waited For"] {
        assert!(!search_paths(&env, name).is_empty(), "{name}");
    }
}

#[test]
fn the_report_is_stale_after_an_add_until_regenerated() {
    let env = Env::shipped();
    env.cmd(["report"]).expect(0);
    env.cmd(["report", "--check"]).expect(0);
    env.cmd(["add", "Nimbus Grid", "--description", GPU_TEXT, "--dry-run"])
        .expect(0);
    env.cmd(["report", "--check"]).expect(0);
    env.cmd(["add", "Nimbus Grid", "--description", GPU_TEXT])
        .expect(0);
    let d = env.cmd(["report", "--check"]).expect(1);
    assert!(
        d.stderr.contains("reports/taxonomy.md is stale"),
        "{}",
        d.stderr
    );
    env.cmd(["report"]).expect(0);
    env.cmd(["report", "--check"]).expect(0);
    assert!(env.read("reports/taxonomy.md").contains("Nimbus Grid"));
}

#[test]
fn concurrent_adds_with_one_ticker_let_exactly_one_through() {
    for _ in 0..3 {
        let env = Env::shipped();
        let children = [
            spawn(
                &env,
                &[
                    "add",
                    "Gamma Grid",
                    "--ticker",
                    "GMX1",
                    "--description",
                    GPU_TEXT,
                ],
            ),
            spawn(
                &env,
                &[
                    "add",
                    "Delta Grid",
                    "--ticker",
                    "GMX1",
                    "--description",
                    GPU_TEXT,
                ],
            ),
        ];
        let outcomes: Vec<Done> = children.into_iter().map(finish).collect();
        let mut codes: Vec<i32> = outcomes.iter().map(|d| d.code).collect();
        codes.sort();
        assert_eq!(codes, [0, 2], "{outcomes:?}");
        let refused = outcomes.iter().find(|d| d.code == 2).unwrap();
        assert!(refused.stderr.contains("GMX1"), "{}", refused.stderr);
        let written = ["gamma-grid", "delta-grid"]
            .iter()
            .filter(|s| env.path(&format!("corpus/projects/{s}.md")).is_file())
            .count();
        assert_eq!(written, 1);
    }
}

#[test]
fn add_waits_for_another_add_and_fails_clearly_when_it_times_out() {
    let env = Env::shipped();
    std::fs::create_dir_all(env.path(".aikb")).unwrap();
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(env.path(".aikb/add.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let d = env
        .cmd(["add", "Held Back", "--description", GPU_TEXT])
        .env("AIKB_LOCK_TIMEOUT", "0.3")
        .expect(2);
    let line = one_line_error(&d);
    assert!(line.contains("is locked by another aikb process"), "{line}");
    assert!(!env.path("corpus/projects/held-back.md").exists());
    // A dry run takes no lock.
    env.cmd(["add", "Held Back", "--dry-run", "--description", GPU_TEXT])
        .env("AIKB_LOCK_TIMEOUT", "0.3")
        .expect(0);
    lock.unlock().unwrap();
    env.cmd(["add", "Held Back", "--description", GPU_TEXT])
        .expect(0);
    assert!(env.path("corpus/projects/held-back.md").is_file());
}
