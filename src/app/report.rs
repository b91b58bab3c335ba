//! `aikb report` glue: build the report in memory, then either write every file
//! atomically or (`--check`) compare them with the files on disk.

use super::{Ctx, io_out, warn_all, write_json};
use crate::classify::Classifier;
use crate::cli::{ReportArgs, ReportFormat};
use crate::corpus;
use crate::error::{Error, Exit, Result};
use crate::report::{self, JSON_FILE, MARKDOWN_FILE, REPORTS_DIR, SVG_FILE};

/// How many changed lines a stale file's diff shows.
const DIFF_LINES: usize = 6;
/// Lines of unchanged context around the first difference.
const DIFF_CONTEXT: usize = 2;
/// How many lines after the first difference the diff looks at.
const DIFF_WINDOW: usize = 400;

/// Runs `aikb report`.
pub fn run(ctx: &mut Ctx, args: ReportArgs) -> Result<Exit> {
    // Everything is generated before anything is written: a bad taxonomy or an
    // unreadable corpus fails here and leaves the reports as they were.
    let tax = ctx.taxonomy()?;
    let (notes, problems) = corpus::load_all(&ctx.kb.root)?;
    warn_all(&problems);
    let classifier = Classifier::new(&tax);
    let r = report::build(&notes, &classifier, problems.len());
    let want = |f: ReportFormat| args.format == f || args.format == ReportFormat::All;
    let mut files: Vec<(&str, String)> = Vec::new();
    if want(ReportFormat::Md) {
        files.push((MARKDOWN_FILE, report::markdown(&r)));
    }
    if want(ReportFormat::Json) {
        files.push((JSON_FILE, report::json(&r)));
    }
    if want(ReportFormat::Svg) {
        files.push((SVG_FILE, crate::svg::render(&r)));
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| ctx.kb.root.join(REPORTS_DIR));
    let shown = |name: &str| -> String { ctx.kb.display_path(&dir.join(name)) };

    if args.check {
        let mut stale = Vec::new();
        let mut current = Vec::new();
        for (name, text) in &files {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(disk) if disk == text.as_bytes() => current.push(shown(name)),
                Ok(disk) => {
                    eprintln!(
                        "aikb: {} is stale; run `aikb report` to regenerate it",
                        shown(name)
                    );
                    eprint!(
                        "{}",
                        diff(&shown(name), &String::from_utf8_lossy(&disk), text)
                    );
                    stale.push(shown(name));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    eprintln!(
                        "aikb: {} is missing; run `aikb report` to generate it",
                        shown(name)
                    );
                    stale.push(shown(name));
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        if args.json {
            write_json(
                ctx.json_out(),
                &serde_json::json!({ "stale": stale, "current": current }),
            )
            .map_err(io_out)?;
        } else if stale.is_empty() {
            let n = current.len();
            writeln!(
                ctx.out(),
                "{n} report file{} up to date",
                if n == 1 { " is" } else { "s are" }
            )
            .map_err(io_out)?;
        }
        return Ok(Exit::from_bool(stale.is_empty()));
    }

    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut written = Vec::new();
    for (name, text) in &files {
        crate::fsutil::write_atomic(&dir.join(name), text.as_bytes())?;
        written.push(shown(name));
    }
    if args.json {
        write_json(ctx.json_out(), &serde_json::json!({ "written": written })).map_err(io_out)?;
    } else {
        let out = ctx.out();
        for p in &written {
            writeln!(out, "wrote {p}").map_err(io_out)?;
        }
        let g = &r.generated_from;
        let n = |count: usize, one: &str, many: &str| {
            format!("{count} {}", if count == 1 { one } else { many })
        };
        writeln!(
            out,
            "{} placed, {} not AI, {} with low confidence, {} ({}, taxonomy {})",
            n(r.placed_count(), "protocol", "protocols"),
            r.none.len(),
            r.low_confidence.len(),
            n(r.disagreements.len(), "disagreement", "disagreements"),
            n(g.notes, "note", "notes"),
            g.taxonomy_hash
        )
        .map_err(io_out)?;
    }
    Ok(Exit::Success)
}

/// A short unified-style diff of the first hunk: where the files start to differ,
/// with [`DIFF_CONTEXT`] lines of context, at most [`DIFF_LINES`] changed lines.
fn diff(name: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let start = prefix.saturating_sub(DIFF_CONTEXT);
    let mut ops: Vec<(char, &str)> = a[start..prefix].iter().map(|l| (' ', *l)).collect();
    // A line diff (longest common subsequence) over a bounded window after the
    // first difference: enough for the first hunk, cheap for any file size.
    let wa = &a[prefix..a.len().min(prefix + DIFF_WINDOW)];
    let wb = &b[prefix..b.len().min(prefix + DIFF_WINDOW)];
    let (n, m) = (wa.len(), wb.len());
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * (m + 1) + j] = if wa[i] == wb[j] {
                lcs[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
            };
        }
    }
    let (mut i, mut j, mut changed, mut same_run, mut more) = (0, 0, 0, 0, false);
    while i < n || j < m {
        let op = if i < n && j < m && wa[i] == wb[j] {
            i += 1;
            j += 1;
            (' ', wa[i - 1])
        } else if j == m || (i < n && lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
            i += 1;
            ('-', wa[i - 1])
        } else {
            j += 1;
            ('+', wb[j - 1])
        };
        if op.0 == ' ' {
            same_run += 1;
            if same_run > DIFF_CONTEXT {
                break;
            }
        } else {
            if changed == DIFF_LINES {
                more = true;
                break;
            }
            same_run = 0;
            changed += 1;
        }
        ops.push(op);
    }
    // Trailing context beyond the last change is kept, at most DIFF_CONTEXT lines.
    let old_len = ops.iter().filter(|(c, _)| *c != '+').count();
    let new_len = ops.iter().filter(|(c, _)| *c != '-').count();
    let mut out = format!("--- {name} (on disk)\n+++ {name} (generated)\n");
    out.push_str(&format!(
        "@@ -{},{old_len} +{},{new_len} @@\n",
        start + 1,
        start + 1
    ));
    for (sign, line) in ops {
        out.push_str(&format!("{sign}{}\n", clip(line)));
    }
    if more {
        out.push_str("… (more differences follow)\n");
    }
    if changed == 0 && old.ends_with('\n') != new.ends_with('\n') {
        out.push_str("\\ the files differ in their final newline\n");
    }
    out
}

/// Long lines (the SVG) are cut so the diff stays readable.
fn clip(line: &str) -> String {
    crate::text::truncate_chars(line, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_the_first_differing_block() {
        let d = diff(
            "r.md",
            "a\nb\nc\nd\ne\nf\ng\nh\n",
            "a\nb\nc\nX\ne\nf\ng\nY\n",
        );
        assert_eq!(
            d,
            "--- r.md (on disk)\n+++ r.md (generated)\n@@ -2,5 +2,5 @@\n b\n c\n-d\n+X\n e\n f\n"
        );
        let d = diff("r.md", "a\n", "a\nb\n");
        assert_eq!(
            d,
            "--- r.md (on disk)\n+++ r.md (generated)\n@@ -1,1 +1,2 @@\n a\n+b\n"
        );
        let d = diff("r.md", "a\nkeep\n", "a\nnew\nkeep\n");
        assert!(d.ends_with(" a\n+new\n keep\n"), "{d}");
        let many_old: String = (0..20).map(|i| format!("o{i}\n")).collect();
        let d = diff("r.md", &many_old, "n\n");
        assert!(d.ends_with("… (more differences follow)\n"), "{d}");
        assert_eq!(
            d.lines()
                .filter(|l| l.starts_with('-') && !l.starts_with("---"))
                .count(),
            DIFF_LINES
        );
        let d = diff("r.md", "a", "a\n");
        assert!(d.contains("final newline"), "{d}");
    }
}
