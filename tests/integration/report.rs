//! `aikb report` and `aikb show` on the fixture knowledge base `tests/fixtures/report-kb`
//! (its own frozen taxonomy, so the golden files do not move with the shipped one).
//!
//! Golden files live in `tests/golden/`; regenerate them on purpose with
//! `UPDATE_GOLDEN=1 cargo test --test integration report` and review the diff.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use pretty_assertions::assert_eq;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use serde::Deserialize;

use crate::util::{Env, repo};

const FILES: [&str; 3] = ["taxonomy.md", "taxonomy.json", "market-map.svg"];

fn fixture() -> Env {
    Env::copy_of(&repo().join("tests/fixtures/report-kb"))
}

fn golden(name: &str) -> PathBuf {
    repo().join("tests/golden").join(name)
}

/// A fixture copy with a freshly generated report.
fn reported() -> Env {
    let env = fixture();
    env.cmd(["report"]).expect(0);
    env
}

// ---------------------------------------------------------------------------
// The report JSON, decoded strictly: any field added or removed fails here.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportJson {
    report_version: u32,
    generated_from: SourceJson,
    ambiguity_margin: f64,
    categories: Vec<CategoryJson>,
    none: Vec<EntryJson>,
    unplaced: Vec<EntryJson>,
    low_confidence: Vec<EntryJson>,
    disagreements: Vec<EntryJson>,
    articles: Vec<ArticleJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceJson {
    taxonomy_version: u32,
    taxonomy_hash: String,
    notes: usize,
    projects: usize,
    articles: usize,
    skipped: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryJson {
    id: String,
    label: String,
    description: String,
    count: usize,
    subcategories: Vec<SubcategoryJson>,
    other: Vec<EntryJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubcategoryJson {
    id: String,
    label: String,
    description: String,
    count: usize,
    projects: Vec<EntryJson>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelJson {
    category: String,
    subcategory: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    id: String,
    name: String,
    ticker: Option<String>,
    path: String,
    placed: LabelJson,
    placed_by: String,
    pinned: Option<LabelJson>,
    predicted: LabelJson,
    confidence: f64,
    low_confidence: bool,
    disagrees: bool,
    scores: BTreeMap<String, f64>,
    scope_score: f64,
    top_terms: Vec<String>,
    mentions: usize,
    mentioned_in: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticleJson {
    id: String,
    title: String,
    path: String,
    mentions: Vec<String>,
}

impl ReportJson {
    fn placed(&self) -> Vec<&EntryJson> {
        self.categories
            .iter()
            .flat_map(|c| {
                c.subcategories
                    .iter()
                    .flat_map(|s| &s.projects)
                    .chain(&c.other)
            })
            .collect()
    }

    fn entry(&self, name: &str) -> &EntryJson {
        self.placed()
            .into_iter()
            .chain(&self.none)
            .chain(&self.unplaced)
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no entry {name}"))
    }
}

fn report_json(env: &Env) -> ReportJson {
    serde_json::from_str(&env.read("reports/taxonomy.json")).unwrap()
}

#[test]
fn report_matches_golden_files() {
    let env = reported();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    for name in FILES {
        let got = env.read(&format!("reports/{name}"));
        let path = golden(name);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
                path.display()
            )
        });
        assert_eq!(
            got,
            want,
            "{name} differs from {}; if intended, rerun with UPDATE_GOLDEN=1",
            path.display()
        );
    }
}

#[test]
fn report_json_has_the_documented_shape() {
    let env = reported();
    let r = report_json(&env);
    assert_eq!(r.report_version, 1);
    let g = &r.generated_from;
    assert_eq!(
        (
            g.taxonomy_version,
            g.notes,
            g.projects,
            g.articles,
            g.skipped
        ),
        (1, 14, 12, 2, 0)
    );
    assert_eq!(g.taxonomy_hash.len(), 12);
    assert_eq!(r.ambiguity_margin, 0.2);
    let ids: Vec<&str> = r.categories.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, vec!["infrastructure", "resources", "problems"]);
    for c in &r.categories {
        assert!(!c.label.is_empty() && !c.description.contains('\n'));
        assert_eq!(
            c.count,
            c.subcategories.iter().map(|s| s.count).sum::<usize>() + c.other.len()
        );
        for s in &c.subcategories {
            assert_eq!(s.count, s.projects.len());
            assert!(!s.label.is_empty() && !s.description.is_empty());
            let names: Vec<String> = s.projects.iter().map(|e| e.name.to_lowercase()).collect();
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(names, sorted, "{} is sorted by name", s.id);
            for e in &s.projects {
                assert_eq!(e.placed.category, c.id);
                assert_eq!(e.placed.subcategory.as_deref(), Some(s.id.as_str()));
                assert!(e.path.starts_with("corpus/projects/") && e.id.starts_with("projects/"));
                assert_eq!(e.mentions, e.mentioned_in.len());
                assert!(!e.scores.is_empty() && e.scope_score > 0.0);
            }
        }
    }
    // Placement follows the pinned label: io.net is pinned to marketplaces although
    // the classifier says compute.
    let io = r.entry("io.net");
    assert_eq!(io.placed.subcategory.as_deref(), Some("marketplaces"));
    assert_eq!((io.placed_by.as_str(), io.disagrees), ("pinned", true));
    assert_eq!(
        io.predicted,
        LabelJson {
            category: "resources".into(),
            subcategory: Some("compute".into())
        }
    );
    assert_eq!(
        io.pinned.as_ref().unwrap().subcategory.as_deref(),
        Some("marketplaces")
    );
    assert_eq!(
        r.disagreements
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        vec!["io.net"]
    );
    // Unpinned projects are placed by the prediction.
    let akash = r.entry("Akash Network");
    assert_eq!(
        (akash.placed_by.as_str(), akash.pinned.is_none()),
        ("predicted", true)
    );
    // none, low confidence.
    assert_eq!(
        r.none.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        vec!["Tether"]
    );
    assert!(r.unplaced.is_empty());
    let low: Vec<&str> = r.low_confidence.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(low, vec!["World"]);
    assert!(
        r.low_confidence[0].low_confidence && r.low_confidence[0].confidence < r.ambiguity_margin
    );
    assert!(!r.entry("Render").top_terms.is_empty());
    assert_eq!(r.entry("Render").ticker.as_deref(), Some("RENDER"));
    assert_eq!(r.entry("Grass").ticker.as_deref(), Some("GRASS"));
    // The crowded subcategory.
    let compute = &r.categories[1].subcategories[0];
    assert_eq!((compute.id.as_str(), compute.count), ("compute", 4));
    // Articles.
    let a: Vec<(&str, &str, &str, usize)> = r
        .articles
        .iter()
        .map(|a| {
            (
                a.id.as_str(),
                a.title.as_str(),
                a.path.as_str(),
                a.mentions.len(),
            )
        })
        .collect();
    assert_eq!(
        a,
        vec![
            (
                "articles/field-notes",
                "Field notes",
                "corpus/articles/field-notes.md",
                4
            ),
            (
                "articles/market-map",
                "The AI and crypto market map",
                "corpus/articles/market-map.md",
                6
            ),
        ]
    );
}

/// Names that are ordinary words count only when written as names.
#[test]
fn report_counts_mentions_with_word_rules() {
    let env = reported();
    let r = report_json(&env);
    let mentioned = |name: &str| r.entry(name).mentioned_in.clone();
    let map = vec!["articles/market-map".to_string()];
    let field = vec!["articles/field-notes".to_string()];
    // field-notes.md says "near the river", "the grass", "a story", "the numbers",
    // "render anything", "the world", "fetch coffee": none of those count.
    assert_eq!(
        mentioned("Near"),
        map,
        "**Near** and (NEAR), not \"near the river\""
    );
    assert_eq!(
        mentioned("Story"),
        map,
        "\"Story Protocol\", not \"a story\""
    );
    assert_eq!(mentioned("Numbers Protocol"), map);
    assert_eq!(mentioned("Render"), map, "$RENDER, not \"render anything\"");
    assert_eq!(mentioned("Fetch.ai"), map);
    assert_eq!(mentioned("Akash Network"), map);
    assert_eq!(
        mentioned("Grass"),
        field,
        "\"Grass came up\", not \"the grass\""
    );
    assert_eq!(mentioned("World"), field, "\"World ID\", not \"the world\"");
    assert_eq!(mentioned("io.net"), field);
    assert_eq!(mentioned("Nosana"), field);
    assert!(mentioned("Tether").is_empty());
    assert_eq!(r.entry("Near").mentions, 1);
}

// ---------------------------------------------------------------------------
// The SVG, parsed as XML.

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    fn contains(&self, o: &Rect) -> bool {
        o.x >= self.x
            && o.y >= self.y
            && o.x + o.w <= self.x + self.w
            && o.y + o.h <= self.y + self.h
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .map(|a| a.unwrap())
        .find(|a| a.key.as_ref() == name)
        .map(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .unwrap()
                .into_owned()
        })
}

fn rect_of(e: &BytesStart<'_>) -> Rect {
    let n = |k: &str| {
        attr(e, k)
            .unwrap_or_else(|| panic!("rect without {k}"))
            .parse::<f64>()
            .unwrap()
    };
    Rect {
        x: n("x"),
        y: n("y"),
        w: n("width"),
        h: n("height"),
    }
}

/// One chip: its data-id, rectangle, and the box it is drawn in.
#[derive(Debug)]
struct ChipXml {
    id: String,
    rect: Rect,
    box_id: String,
    box_rect: Rect,
}

/// Parses the map: (width, height, chips). Panics on malformed XML.
fn parse_svg(svg: &str) -> (f64, f64, Vec<ChipXml>) {
    let mut reader = quick_xml::Reader::from_str(svg);
    // Element stack: (tag, class, data-id).
    let mut stack: Vec<(String, String, String)> = Vec::new();
    let mut boxes: BTreeMap<String, Rect> = BTreeMap::new();
    let mut chips = Vec::new();
    let mut size = (0.0, 0.0);
    loop {
        let ev = reader
            .read_event()
            .unwrap_or_else(|e| panic!("invalid XML at {}: {e}", reader.buffer_position()));
        let (e, empty) = match &ev {
            Event::Start(e) => (e.clone(), false),
            Event::Empty(e) => (e.clone(), true),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let tag = e.name().as_ref().to_string();
        let class = attr(&e, "class").unwrap_or_default();
        let id = attr(&e, "data-id").unwrap_or_default();
        if tag == "svg" {
            assert_eq!(
                attr(&e, "xmlns").as_deref(),
                Some("http://www.w3.org/2000/svg")
            );
            let w: f64 = attr(&e, "width").unwrap().parse().unwrap();
            let h: f64 = attr(&e, "height").unwrap().parse().unwrap();
            assert_eq!(attr(&e, "viewBox"), Some(format!("0 0 {w} {h}")));
            assert!(attr(&e, "font-family").unwrap().contains("sans-serif"));
            size = (w, h);
        }
        for forbidden in ["image", "script", "style", "foreignObject", "use"] {
            assert_ne!(tag, forbidden, "the map must be self-contained");
        }
        if tag == "rect" {
            let parent = stack.last().cloned().unwrap_or_default();
            if class == "box" && parent.1 == "subcategory" {
                boxes.insert(parent.2.clone(), rect_of(&e));
            } else if parent.1 == "chip" {
                let box_id = stack
                    .iter()
                    .rev()
                    .find(|s| s.1 == "subcategory")
                    .expect("chip inside a subcategory")
                    .2
                    .clone();
                let box_rect = *boxes.get(&box_id).expect("box rect before its chips");
                chips.push(ChipXml {
                    id: parent.2.clone(),
                    rect: rect_of(&e),
                    box_id,
                    box_rect,
                });
            }
        }
        if !empty {
            stack.push((tag, class, id));
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    (size.0, size.1, chips)
}

#[test]
fn svg_has_one_chip_per_placed_project_and_no_overlaps() {
    let env = reported();
    let svg = env.read("reports/market-map.svg");
    let (w, h, chips) = parse_svg(&svg);
    let r = report_json(&env);
    let want: BTreeSet<String> = r.placed().iter().map(|e| e.id.clone()).collect();
    let got: Vec<String> = chips.iter().map(|c| c.id.clone()).collect();
    assert_eq!(
        got.len(),
        want.len(),
        "exactly one chip per placed project: {got:?}"
    );
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), want);
    assert!(
        !got.contains(&"projects/tether".to_string()),
        "none is not a chip"
    );
    let canvas = Rect {
        x: 0.0,
        y: 0.0,
        w,
        h,
    };
    for c in &chips {
        assert!(
            c.box_rect.contains(&c.rect),
            "chip {} leaves box {}",
            c.id,
            c.box_id
        );
        assert!(canvas.contains(&c.rect));
        let e = r.placed().into_iter().find(|e| e.id == c.id).unwrap();
        let sub = e
            .placed
            .subcategory
            .clone()
            .unwrap_or_else(|| "other".into());
        assert_eq!(
            c.box_id,
            format!("{}/{sub}", e.placed.category),
            "chip in its effective subcategory"
        );
    }
    for (i, a) in chips.iter().enumerate() {
        for b in &chips[i + 1..] {
            assert!(
                !a.rect.overlaps(&b.rect),
                "chips {} and {} overlap",
                a.id,
                b.id
            );
        }
    }
    // The 192-character name is cut with an ellipsis; the full name is in a tooltip.
    assert!(svg.contains("The Extraordinarily Long"));
    assert!(svg.contains("…"));
    assert!(svg.contains("Orbital Data Centre (LONGNAMECOINX)"));
    assert!(
        svg.contains("1 not AI-related (none)"),
        "the footer counts none"
    );
}

#[test]
fn report_is_deterministic_and_independent_of_the_location() {
    let a = reported();
    let first: Vec<String> = FILES
        .iter()
        .map(|f| a.read(&format!("reports/{f}")))
        .collect();
    a.cmd(["report"]).expect(0);
    let second: Vec<String> = FILES
        .iter()
        .map(|f| a.read(&format!("reports/{f}")))
        .collect();
    assert_eq!(first, second);
    let b = reported();
    let other: Vec<String> = FILES
        .iter()
        .map(|f| b.read(&format!("reports/{f}")))
        .collect();
    assert_eq!(first, other);
    let root = a.root().display().to_string();
    assert!(
        first.iter().all(|t| !t.contains(&root)),
        "no absolute paths"
    );
}

// ---------------------------------------------------------------------------
// Writing, --check, --json, --format, --out.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    written: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checked {
    stale: Vec<String>,
    current: Vec<String>,
}

#[test]
fn report_json_lists_written_files_and_format_selects_them() {
    let env = fixture();
    let w: Written = env.cmd(["report", "--json"]).json();
    assert_eq!(
        w.written,
        vec![
            "reports/taxonomy.md",
            "reports/taxonomy.json",
            "reports/market-map.svg"
        ]
    );
    let env = fixture();
    let w: Written = env.cmd(["report", "--format", "svg", "--json"]).json();
    assert_eq!(w.written, vec!["reports/market-map.svg"]);
    assert!(!env.path("reports/taxonomy.md").exists());
    let d = env
        .cmd(["report", "--format", "md", "--out", "elsewhere"])
        .expect(0);
    assert!(
        d.stdout.contains("wrote elsewhere/taxonomy.md"),
        "{}",
        d.stdout
    );
    assert!(
        env.path("elsewhere/taxonomy.md").exists() && !env.path("elsewhere/taxonomy.json").exists()
    );
}

#[test]
fn check_passes_on_a_fresh_report_and_writes_nothing() {
    let env = reported();
    let before = env.snapshot();
    let d = env.cmd(["report", "--check"]).expect(0);
    assert!(
        d.stdout.contains("3 report files are up to date"),
        "{}",
        d.stdout
    );
    assert!(d.stderr.is_empty(), "{}", d.stderr);
    let c: Checked = env.cmd(["report", "--check", "--json"]).json();
    assert!(c.stale.is_empty());
    assert_eq!(c.current.len(), 3);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn check_names_stale_files_after_a_note_changes() {
    let env = reported();
    let note = env
        .read("corpus/projects/grass.md")
        .replace("subcategory: data", "subcategory: compute");
    env.write("corpus/projects/grass.md", &note);
    let before = env.snapshot();
    let d = env.cmd(["report", "--check"]).expect(1);
    for f in FILES {
        assert!(
            d.stderr.contains(&format!("aikb: reports/{f} is stale")),
            "{f}: {}",
            d.stderr
        );
    }
    assert!(
        d.stderr.contains(
            "--- reports/taxonomy.md (on disk)\n+++ reports/taxonomy.md (generated)\n@@ -"
        ),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr
            .lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---"))
    );
    assert!(
        d.stderr
            .lines()
            .any(|l| l.starts_with('+') && !l.starts_with("+++"))
    );
    assert_eq!(env.snapshot(), before, "--check writes nothing");
    let d = env.cmd(["report", "--check", "--json"]).expect(1);
    let c: Checked = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(c.stale.len(), 3);
    assert!(c.current.is_empty());
    env.cmd(["report"]).expect(0);
    env.cmd(["report", "--check"]).expect(0);
}

#[test]
fn check_names_missing_files() {
    let env = reported();
    std::fs::remove_file(env.path("reports/market-map.svg")).unwrap();
    let d = env.cmd(["report", "--check"]).expect(1);
    assert!(
        d.stderr.contains("aikb: reports/market-map.svg is missing"),
        "{}",
        d.stderr
    );
    assert!(!d.stderr.contains("taxonomy.md"), "{}", d.stderr);
    let d = env.cmd(["report", "--check", "--json"]).expect(1);
    let c: Checked = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(c.stale, vec!["reports/market-map.svg"]);
    assert_eq!(
        c.current,
        vec!["reports/taxonomy.md", "reports/taxonomy.json"]
    );
    let fresh = fixture();
    fresh.cmd(["report", "--check"]).expect(1);
    assert!(!fresh.path("reports").exists());
}

#[test]
fn broken_taxonomy_changes_no_report_file() {
    let env = reported();
    let before = env.snapshot();
    env.write("taxonomy.yaml", "version: 1\ncategories: [\n");
    let d = env.cmd(["report"]).expect(2);
    assert!(d.stderr.contains("taxonomy.yaml"), "{}", d.stderr);
    let after = env.snapshot();
    let reports = |s: &[(String, Vec<u8>)]| {
        s.iter()
            .filter(|(p, _)| p.starts_with("reports"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(reports(&after), reports(&before));
    assert_eq!(reports(&after).len(), 3, "no temporary files left behind");
    env.cmd(["report", "--check"]).expect(2);

    let fresh = fixture();
    fresh.write("taxonomy.yaml", "version: 1\ncategories: [\n");
    fresh.cmd(["report"]).expect(2);
    assert!(!fresh.path("reports").exists(), "nothing created");
}

// ---------------------------------------------------------------------------
// `aikb show`.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CardJson {
    name: String,
    id: String,
    path: String,
    ticker: Option<String>,
    website: Option<String>,
    aliases: Vec<String>,
    tags: Vec<String>,
    sources: Vec<String>,
    front_matter: BTreeMap<String, String>,
    pinned: Option<LabelJson>,
    classification: crate::json::ClassifyResult,
    mentions: Vec<MentionJson>,
    similar: Vec<SimilarJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MentionJson {
    id: String,
    title: String,
    snippet: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SimilarJson {
    id: String,
    name: String,
    ticker: Option<String>,
    category: Option<String>,
    score: f64,
}

#[test]
fn show_by_name_and_ticker() {
    let env = fixture();
    let d = env.cmd(["show", "Render"]).expect(0);
    let out = &d.stdout;
    assert!(
        out.starts_with("Render (RENDER)\ncorpus/projects/render.md\n"),
        "{out}"
    );
    for needle in [
        "aliases:",
        "Render Network",
        "publisher:",
        "OTOY",
        "pinned:",
        "resources/compute",
        "mentioned in 1 article",
        "The AI and crypto market map",
        "similar projects",
        "matched",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert_eq!(
        env.cmd(["show", "render"]).expect(0).stdout,
        *out,
        "names are case-insensitive"
    );
    assert_eq!(
        env.cmd(["show", "RENDER"]).expect(0).stdout,
        *out,
        "by ticker"
    );
    assert_eq!(
        env.cmd(["show", "$render"]).expect(0).stdout,
        *out,
        "by lower-case ticker"
    );
    let d = env.cmd(["show", "nos"]).expect(0);
    assert!(d.stdout.starts_with("Nosana (NOS)"), "{}", d.stdout);
    assert!(d.stdout.contains("not pinned"), "{}", d.stdout);
}

#[test]
fn a_name_two_notes_share_is_reported_and_a_path_picks_one() {
    let env = fixture();
    env.write(
        "corpus/projects/render-copy.md",
        "---\nname: Render\n---\nA second note on the GPU network.\n",
    );
    let d = env.cmd(["show", "render"]).expect(0);
    assert!(
        d.stderr.contains("`render` names 2 projects")
            && d.stderr.contains("corpus/projects/render-copy.md"),
        "{}",
        d.stderr
    );
    let d = env
        .cmd(["show", "corpus/projects/render-copy.md"])
        .expect(0);
    assert!(
        d.stdout
            .starts_with("Render\ncorpus/projects/render-copy.md\n"),
        "{}",
        d.stdout
    );
    assert!(!d.stderr.contains("names 2"), "{}", d.stderr);
    // The ticker still finds the one note that has it, and classify takes both.
    let d = env.cmd(["show", "$RENDER"]).expect(0);
    assert!(d.stdout.starts_with("Render (RENDER)\n"), "{}", d.stdout);
    let d = env.cmd(["classify", "render"]).expect(0);
    assert_eq!(d.stdout.matches("\nRender ").count(), 2, "{}", d.stdout);
}

#[test]
fn show_json_has_the_documented_shape() {
    let env = fixture();
    let c: CardJson = env.cmd(["show", "render", "--json"]).json();
    assert_eq!(
        (c.name.as_str(), c.id.as_str(), c.path.as_str()),
        ("Render", "projects/render", "corpus/projects/render.md")
    );
    assert_eq!(c.ticker.as_deref(), Some("RENDER"));
    assert_eq!(c.website, None);
    assert_eq!(c.aliases, vec!["Render Network"]);
    assert_eq!(c.tags, vec!["gpu", "rendering"]);
    assert!(c.sources.is_empty());
    assert_eq!(
        c.front_matter,
        BTreeMap::from([("publisher".to_string(), "OTOY".to_string())])
    );
    assert_eq!(
        c.pinned,
        Some(LabelJson {
            category: "resources".into(),
            subcategory: Some("compute".into())
        })
    );
    let k = &c.classification;
    assert_eq!(
        (k.id.as_str(), k.path.as_str(), k.name.as_str()),
        ("projects/render", "corpus/projects/render.md", "Render")
    );
    assert_eq!(k.ticker.as_deref(), Some("RENDER"));
    assert_eq!(
        (k.category.as_str(), k.subcategory.as_deref()),
        ("resources", Some("compute"))
    );
    assert_eq!(
        k.pinned.as_ref().map(|p| (&p.category, &p.subcategory)),
        c.pinned.as_ref().map(|p| (&p.category, &p.subcategory))
    );
    assert!(
        k.confidence > 0.0 && k.scope_score > 0.0 && k.scores.len() == 3 && k.secondary.is_empty()
    );
    let e = &k.evidence[0];
    assert!(
        !e.signal.is_empty() && !e.category.is_empty() && !e.matched.is_empty() && e.weight != 0.0
    );
    assert!(e.line > 0 && e.count > 0 && ["name", "tags", "body"].contains(&e.field.as_str()));
    assert!(
        k.evidence
            .iter()
            .any(|e| e.subcategory.as_deref() == Some("compute"))
    );
    assert_eq!(c.mentions.len(), 1);
    let m = &c.mentions[0];
    assert_eq!(
        (m.id.as_str(), m.title.as_str()),
        ("articles/market-map", "The AI and crypto market map")
    );
    assert!(
        m.snippet.contains("$RENDER")
            && m.snippet.chars().count() <= 160
            && !m.snippet.contains('\n'),
        "{}",
        m.snippet
    );
    assert!(
        !c.similar.is_empty() && c.similar.len() <= 5,
        "{:?}",
        c.similar
    );
    for s in &c.similar {
        assert!(
            s.id.starts_with("projects/") && s.id != "projects/render",
            "{s:?}"
        );
        assert!(!s.name.is_empty() && s.score > 0.0);
    }
    assert!(c.similar.windows(2).all(|w| w[0].score >= w[1].score));
    let top3: Vec<&str> = c.similar.iter().take(3).map(|s| s.id.as_str()).collect();
    assert!(
        top3.iter().any(|id| [
            "projects/nosana",
            "projects/akash",
            "projects/long-name",
            "projects/io-net"
        ]
        .contains(id)),
        "{:?}",
        c.similar
    );
    let nosana = c.similar.iter().find(|s| s.id == "projects/nosana");
    if let Some(n) = nosana {
        assert_eq!(
            (n.name.as_str(), n.ticker.as_deref(), n.category.as_deref()),
            ("Nosana", Some("NOS"), Some("resources"))
        );
    }
    // An ordinary-word name: lower-case "story" in field-notes.md does not count.
    let c: CardJson = env.cmd(["show", "story", "--json"]).json();
    assert_eq!(
        c.mentions.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        vec!["articles/market-map"]
    );
    assert!(
        c.mentions[0].snippet.contains("Story Protocol"),
        "{}",
        c.mentions[0].snippet
    );
}

#[test]
fn show_unknown_name_suggests_and_exits_1() {
    let env = fixture();
    let d = env.cmd(["show", "Rendr"]).expect(1);
    assert!(d.stdout.is_empty());
    assert_eq!(
        d.stderr.trim_end(),
        "aikb: no project named `Rendr`; did you mean Render?"
    );
    let d = env.cmd(["show", "zzzzzzzzzz", "--json"]).expect(1);
    assert_eq!(d.stderr.trim_end(), "aikb: no project named `zzzzzzzzzz`");
    assert!(d.stdout.is_empty());
    env.cmd(["show", "field-notes"]).expect(1);
}
