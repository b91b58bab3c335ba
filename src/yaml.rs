//! Bounded, panic-free YAML parsing shared by front matter and the taxonomy.
//!
//! Every YAML document aikb reads comes from a user's file, so parsing runs under a
//! strict budget (depth, events, aliases, scalar bytes) and errors come back as plain
//! `(line, column, message)` triples that callers turn into [`Diagnostic`]s.

use crate::error::Diagnostic;

/// Largest YAML document aikb will parse, in bytes.
pub const MAX_YAML_BYTES: usize = 1 << 20;

/// The parsing budget: generous for real notes and taxonomies, tight for hostile input.
fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 64;
    budget.max_events = 200_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_nodes = 100_000;
    budget.max_total_scalar_bytes = MAX_YAML_BYTES;
    budget.max_documents = 1;
    budget.max_recorded_anchor_events = 20_000;
    budget.max_recorded_anchor_bytes = MAX_YAML_BYTES;
    serde_saphyr::options! { budget: Some(budget) }
}

/// Parses `text` into `T`. `first_line` is the file line of the text's first line, so
/// positions in errors refer to the file. Errors are reported against `path`.
pub fn parse<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &str,
    first_line: usize,
) -> Result<T, Diagnostic> {
    if text.len() > MAX_YAML_BYTES {
        return Err(Diagnostic::new(
            path,
            first_line,
            1,
            format!(
                "YAML block is {} bytes; the limit is {MAX_YAML_BYTES}",
                text.len()
            ),
        ));
    }
    serde_saphyr::from_str_with_options::<T>(text, options())
        .map_err(|e| to_diagnostic(&e, path, first_line))
}

/// Converts a serde-saphyr error into a one-line diagnostic with file positions.
fn to_diagnostic(err: &serde_saphyr::Error, path: &str, first_line: usize) -> Diagnostic {
    let (line, column) = err
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .filter(|&(l, _)| l > 0)
        .unwrap_or((1, 0));
    Diagnostic::new(
        path,
        line + first_line - 1,
        column,
        clean_message(&err.to_string()),
    )
}

/// Messages that speak of the parser's or Rust's internals (by how they start), in
/// the user's terms.
const PLAIN_MESSAGES: [(&str, &str); 4] = [
    (
        "cannot deserialize null into string",
        "nothing where text is needed (an empty key or value?)",
    ),
    (
        "expected string scalar",
        "expected a single value here, not a list or a `key: value` (quote text that holds `: `)",
    ),
    (
        "invalid floating point",
        "expected a number here (such as 2, 0.5 or -1.5)",
    ),
    (
        "did not find expected <document start>",
        "text after the end of the YAML value (is this line indented less than the lines \
         above it?)",
    ),
];

/// serde-saphyr renders `error: line N column M: message` followed by a source snippet;
/// keep only the message so the caller's `path:line:col:` prefix is the single location.
fn clean_message(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or("invalid YAML").trim();
    let first = first.strip_prefix("error:").unwrap_or(first).trim_start();
    let rest = match first.strip_prefix("line ") {
        Some(after) => after.split_once(": ").map(|(_, m)| m).unwrap_or(after),
        None => first,
    };
    let msg = rest.trim().trim_end_matches('.');
    if let Some(breach) = msg.strip_prefix("budget breached:") {
        return budget_message(breach.trim());
    }
    let msg = msg.replace(", set DuplicateKeyPolicy in Options if acceptable", "");
    if msg == "recursion limit exceeded" {
        return budget_message("Depth");
    }
    if let Some((_, plain)) = PLAIN_MESSAGES.iter().find(|(m, _)| msg.starts_with(m)) {
        return (*plain).to_string();
    }
    if msg.is_empty() {
        "invalid YAML".to_string()
    } else {
        msg
    }
}

/// A parsing budget breach (rendered by serde-saphyr as a debug value such as
/// `RecordedAnchorEvents { recorded_anchor_events: 20001 }`) in plain words.
fn budget_message(breach: &str) -> String {
    let kind = breach.split([' ', '{']).next().unwrap_or("");
    let what = match kind {
        "Aliases"
        | "AliasAnchorRatio"
        | "RecordedAnchorEvents"
        | "RecordedAnchorBytes"
        | "MergeKeys" => "aliases expand to too much (an alias bomb?)",
        "Anchors" => "too many anchors",
        "Depth" => "nested too deeply",
        "Documents" => "more than one YAML document",
        "Events" | "Nodes" => "too many values",
        "ScalarBytes" | "InputBytes" | "CommentBytes" => "too much text",
        _ => "too large or too complex",
    };
    format!("YAML refused: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn reports_file_positions() {
        let d = parse::<Value>("a: 1\nb: c: d\n", "x.md", 2).unwrap_err();
        assert_eq!((d.line, d.column), (3, 5));
        assert!(d.message.contains("mapping values"), "{}", d.message);
        assert!(!d.message.contains('\n'));
    }

    #[test]
    fn parser_internals_are_put_in_plain_words() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Named {
            label: String,
        }
        let d = parse::<Named>("label:\n", "t.yaml", 1).unwrap_err();
        assert_eq!(
            d.message,
            "nothing where text is needed (an empty key or value?)"
        );
        let d = parse::<Value>("a: b\n: c\n", "x.md", 2).unwrap_err();
        assert_eq!(
            (d.line, d.message.as_str()),
            (3, "nothing where text is needed (an empty key or value?)")
        );
        let d = parse::<Value>("  a: b\n c: d\n", "x.md", 2).unwrap_err();
        assert_eq!(d.line, 3);
        assert!(
            d.message
                .starts_with("text after the end of the YAML value"),
            "{}",
            d.message
        );
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Terms {
            terms: Vec<String>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Weighted {
            weight: f64,
        }
        let d = parse::<Weighted>("weight: abc\n", "t.yaml", 1).unwrap_err();
        assert_eq!(d.message, "expected a number here (such as 2, 0.5 or -1.5)");
        let d = parse::<Terms>("terms: [a, b: c]\n", "t.yaml", 1).unwrap_err();
        assert!(
            d.message.starts_with("expected a single value here"),
            "{}",
            d.message
        );
        let deep = format!("a: {}", "[".repeat(100_000));
        let d = parse::<Value>(&deep, "x.md", 2).unwrap_err();
        assert_eq!(d.message, "YAML refused: nested too deeply");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let d = parse::<Value>("name: a\nname: b\n", "x.md", 1).unwrap_err();
        assert!(d.message.contains("duplicate"), "{}", d.message);
        assert_eq!(d.line, 2);
    }

    #[test]
    fn hostile_inputs_fail_cleanly() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse::<Value>(&deep, "x", 1).is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let d = parse::<Value>(&bomb, "x", 1).unwrap_err();
        assert!(d.message.contains("alias bomb"), "{}", d.message);
        let huge = format!("a: {}\n", "x".repeat(MAX_YAML_BYTES + 10));
        assert!(parse::<Value>(&huge, "x", 1).is_err());
        assert!(parse::<Value>("x: &a [*a]\n", "x", 1).is_err());
        assert!(parse::<Value>("\u{0}\u{1}: [}", "x", 1).is_err());
    }
}
