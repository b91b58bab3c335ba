//! The market map: the report drawn as a self-contained SVG in the style of the
//! article's "AI and Crypto Market Map": one column per category, a box per
//! subcategory, a labelled chip (name and ticker) per protocol.
//!
//! Layout and drawing are separate: [`layout`] computes integer geometry from a
//! [`Report`] (text widths from a deliberately generous per-character estimate, so
//! text never overflows whatever font the viewer picks), [`render`] writes the SVG.
//! No fonts, scripts or images are referenced, and nothing depends on the clock.

use std::fmt::Write as _;

use crate::report::{Entry, LabelSource, Report};

/// Generic font stack: every viewer has one of these.
pub const FONT_FAMILY: &str = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif";

const MARGIN: i64 = 24;
const COL_W: i64 = 380;
const COL_GAP: i64 = 16;
const COLUMNS_TOP: i64 = MARGIN + 64;
const HEADER_H: i64 = 50;
const PANEL_PAD: i64 = 12;
const BOX_GAP: i64 = 10;
const BOX_PAD: i64 = 10;
const BOX_TITLE_H: i64 = 32;
const CHIP_H: i64 = 24;
const CHIP_GAP: i64 = 6;
const CHIP_PAD: i64 = 9;
const TICKER_GAP: i64 = 5;
const NAME_SIZE: f64 = 12.0;
const TICKER_SIZE: f64 = 10.0;
const TICKER_MAX_CHARS: usize = 12;
const FOOTER_LINE: i64 = 20;

/// An axis-aligned rectangle in SVG user units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: i64,
    /// Top edge.
    pub y: i64,
    /// Width.
    pub w: i64,
    /// Height.
    pub h: i64,
}

impl Rect {
    /// True when the two rectangles share any interior point.
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    /// True when `o` lies entirely inside `self`.
    pub fn contains(&self, o: &Rect) -> bool {
        o.x >= self.x
            && o.y >= self.y
            && o.x + o.w <= self.x + self.w
            && o.y + o.h <= self.y + self.h
    }
}

/// One protocol chip.
#[derive(Debug, Clone, PartialEq)]
pub struct Chip {
    /// Note id (the chip's `data-id`).
    pub id: String,
    /// Name as shown (truncated with `…` if too long).
    pub name: String,
    /// Ticker as shown.
    pub ticker: Option<String>,
    /// Tooltip: full name, ticker and label.
    pub tooltip: String,
    /// Placed by the classifier rather than a pinned label (drawn dashed).
    pub predicted: bool,
    /// Where it is drawn.
    pub rect: Rect,
}

/// One subcategory box.
#[derive(Debug, Clone, PartialEq)]
pub struct SubBox {
    /// `category/subcategory` (the box's `data-id`).
    pub id: String,
    /// Title as shown.
    pub title: String,
    /// Full title for the tooltip.
    pub full_title: String,
    /// Number of protocols.
    pub count: usize,
    /// Where it is drawn.
    pub rect: Rect,
    /// Its chips.
    pub chips: Vec<Chip>,
}

/// One category column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Category id.
    pub id: String,
    /// Label as shown.
    pub label: String,
    /// Number of protocols.
    pub count: usize,
    /// Index into the palette.
    pub palette: usize,
    /// The whole column (header included).
    pub panel: Rect,
    /// The header band.
    pub header: Rect,
    /// Subcategory boxes, top to bottom.
    pub boxes: Vec<SubBox>,
}

/// The computed map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapLayout {
    /// Canvas width.
    pub width: i64,
    /// Canvas height.
    pub height: i64,
    /// Subtitle under the title.
    pub subtitle: String,
    /// The columns, left to right.
    pub columns: Vec<Column>,
    /// Top of the legend line.
    pub legend_y: i64,
    /// Footer lines (already fitted to the width) and their baselines.
    pub footer: Vec<(String, i64)>,
}

struct Palette {
    header: &'static str,
    panel: &'static str,
    box_stroke: &'static str,
    chip_fill: &'static str,
    chip_stroke: &'static str,
    chip_text: &'static str,
}

const PALETTES: [Palette; 5] = [
    Palette {
        header: "#1d4e89",
        panel: "#eaf1fa",
        box_stroke: "#c3d5ec",
        chip_fill: "#dce8f7",
        chip_stroke: "#7fa3cf",
        chip_text: "#12345e",
    },
    Palette {
        header: "#1f7a4d",
        panel: "#e9f6ef",
        box_stroke: "#bfe0cd",
        chip_fill: "#d6efe1",
        chip_stroke: "#73b592",
        chip_text: "#124a2f",
    },
    Palette {
        header: "#b4561b",
        panel: "#fbefe6",
        box_stroke: "#efcdb4",
        chip_fill: "#f8dcc8",
        chip_stroke: "#d99565",
        chip_text: "#6b3211",
    },
    Palette {
        header: "#6a4c9c",
        panel: "#f1ecf8",
        box_stroke: "#d6cae9",
        chip_fill: "#e4daf3",
        chip_stroke: "#a38cc9",
        chip_text: "#3d2a5e",
    },
    Palette {
        header: "#1b7b85",
        panel: "#e7f5f6",
        box_stroke: "#bfe1e4",
        chip_fill: "#d3eef0",
        chip_stroke: "#6fb7be",
        chip_text: "#0f4a50",
    },
];

/// A generous estimate of the rendered width of `s` in a sans-serif font: wider than
/// Helvetica, Arial, Segoe UI or San Francisco for every character class, so text
/// sized with it always fits.
pub fn text_width(s: &str, size: f64, bold: bool) -> f64 {
    let em: f64 = s
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | 'I' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | '(' | ')' | '['
            | ']' | ' ' | 'f' | 't' | 'r' => 0.4,
            'm' | 'w' | 'M' | 'W' | '@' | '%' | '&' | '…' => 1.0,
            c if c.is_ascii_uppercase() => 0.78,
            c if c.is_ascii_digit() => 0.64,
            c if c.is_ascii() => 0.62,
            // CJK, emoji and other wide scripts.
            c if c as u32 >= 0x2E80 => 1.15,
            _ => 0.8,
        })
        .sum();
    em * size * if bold { 1.08 } else { 1.0 }
}

/// `s` shortened with `…` so that it fits in `max` units (the whole of `s` if it fits).
pub fn fit(s: &str, size: f64, bold: bool, max: f64) -> String {
    if text_width(s, size, bold) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        let candidate = format!("{out}{c}…");
        if text_width(&candidate, size, bold) > max {
            break;
        }
        out.push(c);
    }
    format!("{}…", out.trim_end())
}

fn ceil(x: f64) -> i64 {
    x.ceil() as i64
}

fn chip_for(e: &Entry, max_w: i64) -> Chip {
    let ticker = e
        .ticker
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| crate::text::truncate_chars(t.trim(), TICKER_MAX_CHARS));
    let ticker_w = ticker
        .as_deref()
        .map_or(0, |t| TICKER_GAP + ceil(text_width(t, TICKER_SIZE, false)));
    let name_room = (max_w - 2 * CHIP_PAD - ticker_w) as f64;
    let name = fit(e.name.trim(), NAME_SIZE, true, name_room);
    let w = (2 * CHIP_PAD + ceil(text_width(&name, NAME_SIZE, true)) + ticker_w).min(max_w);
    let how = match e.placed_by {
        LabelSource::Pinned => "pinned label".to_string(),
        LabelSource::Predicted => format!(
            "predicted, {} confidence",
            crate::report::percent(e.confidence)
        ),
    };
    let tooltip = match &e.ticker {
        Some(t) => format!("{} ({t}): {} ({how})", e.name, e.placed.path()),
        None => format!("{}: {} ({how})", e.name, e.placed.path()),
    };
    Chip {
        id: e.id.clone(),
        name,
        ticker,
        tooltip,
        predicted: e.placed_by == LabelSource::Predicted,
        rect: Rect {
            x: 0,
            y: 0,
            w,
            h: CHIP_H,
        },
    }
}

/// Lays out one box at (`x`, `y`) with width `w`: chips wrapped into rows.
fn sub_box(id: String, title: &str, entries: &[Entry], x: i64, y: i64, w: i64) -> SubBox {
    let inner = w - 2 * BOX_PAD;
    let count = entries.len();
    let count_w = ceil(text_width(&count.to_string(), 12.0, false));
    let shown = fit(title, 13.0, true, (inner - count_w - 8) as f64);
    let mut chips = Vec::with_capacity(count);
    let (mut cx, mut cy) = (x + BOX_PAD, y + BOX_TITLE_H);
    for e in entries {
        let mut chip = chip_for(e, inner);
        if cx > x + BOX_PAD && cx + chip.rect.w > x + BOX_PAD + inner {
            cx = x + BOX_PAD;
            cy += CHIP_H + CHIP_GAP;
        }
        chip.rect.x = cx;
        chip.rect.y = cy;
        cx += chip.rect.w + CHIP_GAP;
        chips.push(chip);
    }
    // An empty box keeps the height of one row for its "no protocols" line.
    let h = BOX_TITLE_H + (cy - y - BOX_TITLE_H) + CHIP_H + BOX_PAD;
    SubBox {
        id,
        title: shown,
        full_title: title.to_string(),
        count,
        rect: Rect { x, y, w, h },
        chips,
    }
}

/// Computes the map's geometry.
pub fn layout(r: &Report) -> MapLayout {
    let n = r.categories.len().max(1) as i64;
    let width = 2 * MARGIN + n * COL_W + (n - 1) * COL_GAP;
    let mut columns = Vec::new();
    for (ci, c) in r.categories.iter().enumerate() {
        let x = MARGIN + ci as i64 * (COL_W + COL_GAP);
        let header = Rect {
            x,
            y: COLUMNS_TOP,
            w: COL_W,
            h: HEADER_H,
        };
        let mut y = COLUMNS_TOP + HEADER_H + PANEL_PAD;
        let mut boxes = Vec::new();
        let mut groups: Vec<(String, &str, &[Entry])> = c
            .subcategories
            .iter()
            .map(|s| {
                (
                    format!("{}/{}", c.id, s.id),
                    s.label.as_str(),
                    s.projects.as_slice(),
                )
            })
            .collect();
        if !c.other.is_empty() {
            groups.push((format!("{}/other", c.id), "Other", c.other.as_slice()));
        }
        for (id, title, entries) in groups {
            let b = sub_box(id, title, entries, x + PANEL_PAD, y, COL_W - 2 * PANEL_PAD);
            y += b.rect.h + BOX_GAP;
            boxes.push(b);
        }
        let bottom = y - BOX_GAP + PANEL_PAD;
        columns.push(Column {
            id: c.id.clone(),
            label: fit(&c.label, 16.0, true, (COL_W - 2 * PANEL_PAD) as f64),
            count: c.count,
            palette: ci % PALETTES.len(),
            panel: Rect {
                x,
                y: COLUMNS_TOP,
                w: COL_W,
                h: bottom - COLUMNS_TOP,
            },
            header,
            boxes,
        });
    }
    let panels_bottom = columns
        .iter()
        .map(|c| c.panel.y + c.panel.h)
        .max()
        .unwrap_or(COLUMNS_TOP + HEADER_H);
    for c in &mut columns {
        c.panel.h = panels_bottom - c.panel.y;
    }
    let text_room = (width - 2 * MARGIN) as f64;
    let g = &r.generated_from;
    let subtitle = fit(
        &format!(
            "{} protocols by category: pinned label, else the classifier's prediction · taxonomy v{} ({})",
            r.placed_count(),
            g.taxonomy_version,
            g.taxonomy_hash
        ),
        12.0,
        false,
        text_room,
    );
    let legend_y = panels_bottom + 16;
    let mut lines = Vec::new();
    let none = r.none.len();
    let mut summary = format!(
        "{} {} on the map · {} not AI-related (none), not shown",
        r.placed_count(),
        if r.placed_count() == 1 {
            "protocol"
        } else {
            "protocols"
        },
        none
    );
    if !r.unplaced.is_empty() {
        let names: Vec<&str> = r.unplaced.iter().map(|e| e.name.as_str()).collect();
        summary.push_str(&format!(
            " · {} with an unknown pinned category: {}",
            r.unplaced.len(),
            names.join(", ")
        ));
    }
    lines.push(summary);
    lines.push(format!(
        "Generated by aikb report from taxonomy.yaml v{} ({}) and {} {} ({} {}).",
        g.taxonomy_version,
        g.taxonomy_hash,
        g.notes,
        if g.notes == 1 { "note" } else { "notes" },
        g.articles,
        if g.articles == 1 {
            "article"
        } else {
            "articles"
        }
    ));
    let first = legend_y + CHIP_H + FOOTER_LINE;
    let footer: Vec<(String, i64)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                fit(l, 12.0, false, text_room),
                first + i as i64 * FOOTER_LINE,
            )
        })
        .collect();
    let height = footer.last().map_or(legend_y + CHIP_H, |(_, y)| *y) + MARGIN;
    MapLayout {
        width,
        height,
        subtitle,
        columns,
        legend_y,
        footer,
    }
}

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The market map as an SVG document.
pub fn render(r: &Report) -> String {
    let l = layout(r);
    let mut s = String::new();
    // Writing into a String cannot fail.
    let _ = write_svg(&mut s, &l);
    s
}

fn write_svg(s: &mut String, l: &MapLayout) -> std::fmt::Result {
    writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="map-title map-desc" font-family="{FONT_FAMILY}">"#,
        w = l.width,
        h = l.height
    )?;
    writeln!(
        s,
        r#"<title id="map-title">AI and Crypto Market Map</title>"#
    )?;
    writeln!(s, r#"<desc id="map-desc">{}</desc>"#, escape(&l.subtitle))?;
    writeln!(
        s,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        l.width, l.height
    )?;
    writeln!(
        s,
        r##"<text x="{MARGIN}" y="{}" font-size="22" font-weight="700" fill="#111827">AI and Crypto Market Map</text>"##,
        MARGIN + 24
    )?;
    writeln!(
        s,
        r##"<text x="{MARGIN}" y="{}" font-size="12" fill="#4b5563">{}</text>"##,
        MARGIN + 46,
        escape(&l.subtitle)
    )?;
    for c in &l.columns {
        let p = &PALETTES[c.palette];
        writeln!(s, r#"<g class="category" data-id="{}">"#, escape(&c.id))?;
        writeln!(
            s,
            r#"<rect class="panel" x="{}" y="{}" width="{}" height="{}" rx="10" fill="{}"/>"#,
            c.panel.x, c.panel.y, c.panel.w, c.panel.h, p.panel
        )?;
        // The header: rounded on top only (a rounded rect plus a square strip over its bottom corners).
        let hd = &c.header;
        writeln!(
            s,
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="10" fill="{}"/>"#,
            hd.x, hd.y, hd.w, hd.h, p.header
        )?;
        writeln!(
            s,
            r#"<rect x="{}" y="{}" width="{}" height="10" fill="{}"/>"#,
            hd.x,
            hd.y + hd.h - 10,
            hd.w,
            p.header
        )?;
        writeln!(
            s,
            r##"<text x="{}" y="{}" font-size="16" font-weight="700" fill="#ffffff">{}</text>"##,
            hd.x + PANEL_PAD,
            hd.y + 22,
            escape(&c.label)
        )?;
        writeln!(
            s,
            r##"<text x="{}" y="{}" font-size="12" fill="#ffffff" fill-opacity="0.85">{} {}</text>"##,
            hd.x + PANEL_PAD,
            hd.y + 40,
            c.count,
            if c.count == 1 {
                "protocol"
            } else {
                "protocols"
            }
        )?;
        for b in &c.boxes {
            write_box(s, b, p)?;
        }
        writeln!(s, "</g>")?;
    }
    // Legend: one solid and one dashed sample chip.
    let y = l.legend_y;
    let mut x = MARGIN;
    for (dashed, label) in [
        (false, "pinned label"),
        (true, "placed by the classifier (no pinned label)"),
    ] {
        let dash = if dashed {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        writeln!(
            s,
            r##"<rect x="{x}" y="{y}" width="34" height="{CHIP_H}" rx="12" fill="#f3f4f6" stroke="#6b7280"{dash}/>"##
        )?;
        writeln!(
            s,
            r##"<text x="{}" y="{}" font-size="12" fill="#374151">{}</text>"##,
            x + 42,
            y + 16,
            escape(label)
        )?;
        x += 42 + ceil(text_width(label, 12.0, false)) + 24;
    }
    for (line, y) in &l.footer {
        writeln!(
            s,
            r##"<text x="{MARGIN}" y="{y}" font-size="12" fill="#4b5563">{}</text>"##,
            escape(line)
        )?;
    }
    writeln!(s, "</svg>")
}

fn write_box(s: &mut String, b: &SubBox, p: &Palette) -> std::fmt::Result {
    let r = &b.rect;
    writeln!(s, r#"<g class="subcategory" data-id="{}">"#, escape(&b.id))?;
    writeln!(s, "<title>{}</title>", escape(&b.full_title))?;
    writeln!(
        s,
        r##"<rect class="box" x="{}" y="{}" width="{}" height="{}" rx="8" fill="#ffffff" stroke="{}"/>"##,
        r.x, r.y, r.w, r.h, p.box_stroke
    )?;
    writeln!(
        s,
        r##"<text x="{}" y="{}" font-size="13" font-weight="700" fill="#1f2937">{}</text>"##,
        r.x + BOX_PAD,
        r.y + 21,
        escape(&b.title)
    )?;
    writeln!(
        s,
        r##"<text x="{}" y="{}" font-size="12" text-anchor="end" fill="#6b7280">{}</text>"##,
        r.x + r.w - BOX_PAD,
        r.y + 21,
        b.count
    )?;
    if b.chips.is_empty() {
        writeln!(
            s,
            r##"<text x="{}" y="{}" font-size="11" font-style="italic" fill="#9ca3af">no protocols</text>"##,
            r.x + BOX_PAD,
            r.y + BOX_TITLE_H + 16
        )?;
    }
    for c in &b.chips {
        let cr = &c.rect;
        let dash = if c.predicted {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        writeln!(s, r#"<g class="chip" data-id="{}">"#, escape(&c.id))?;
        writeln!(s, "<title>{}</title>", escape(&c.tooltip))?;
        writeln!(
            s,
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="12" fill="{}" stroke="{}"{dash}/>"#,
            cr.x, cr.y, cr.w, cr.h, p.chip_fill, p.chip_stroke
        )?;
        write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="12" font-weight="600" fill="{}">{}"#,
            cr.x + cr.w / 2,
            cr.y + 16,
            p.chip_text,
            escape(&c.name)
        )?;
        if let Some(t) = &c.ticker {
            write!(
                s,
                r#"<tspan dx="{TICKER_GAP}" font-size="10" font-weight="400" fill-opacity="0.75">{}</tspan>"#,
                escape(t)
            )?;
        }
        writeln!(s, "</text>")?;
        writeln!(s, "</g>")?;
    }
    writeln!(s, "</g>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CategoryReport, Label, Source, SubcategoryReport};

    fn entry(i: usize, name: &str, ticker: Option<&str>) -> Entry {
        Entry {
            id: format!("projects/p{i}"),
            name: name.to_string(),
            ticker: ticker.map(str::to_string),
            path: format!("corpus/projects/p{i}.md"),
            placed: Label {
                category: "resources".into(),
                subcategory: Some("compute".into()),
            },
            placed_by: if i.is_multiple_of(2) {
                LabelSource::Pinned
            } else {
                LabelSource::Predicted
            },
            pinned: None,
            predicted: Label {
                category: "resources".into(),
                subcategory: Some("compute".into()),
            },
            confidence: 0.5,
            low_confidence: false,
            disagrees: false,
            scores: Default::default(),
            scope_score: 5.0,
            top_terms: vec![],
            by_lexicon: false,
            mentions: 0,
            mentioned_in: vec![],
        }
    }

    fn report(projects: Vec<Entry>) -> Report {
        let sub = |id: &str, projects: Vec<Entry>| SubcategoryReport {
            id: id.into(),
            label: id.to_uppercase(),
            description: String::new(),
            count: projects.len(),
            projects,
        };
        let cat = |id: &str, subs: Vec<SubcategoryReport>| CategoryReport {
            id: id.into(),
            label: format!("{id} <&> label"),
            description: String::new(),
            count: subs.iter().map(|s| s.count).sum(),
            subcategories: subs,
            other: vec![],
        };
        Report {
            report_version: 1,
            generated_from: Source {
                taxonomy_version: 1,
                taxonomy_hash: "abc".into(),
                lexicon: None,
                notes: 1,
                projects: 1,
                articles: 0,
                skipped: 0,
            },
            ambiguity_margin: 0.2,
            categories: vec![
                cat(
                    "infrastructure",
                    vec![
                        sub("agents", vec![]),
                        sub("chains", vec![entry(99, "Near", Some("NEAR"))]),
                    ],
                ),
                cat(
                    "resources",
                    vec![sub("compute", projects), sub("storage", vec![])],
                ),
                cat("problems", vec![sub("privacy", vec![])]),
            ],
            none: vec![entry(100, "Tether", None)],
            unplaced: vec![],
            low_confidence: vec![],
            disagreements: vec![],
            articles: vec![],
        }
    }

    fn crowded() -> Report {
        let mut projects: Vec<Entry> = (0..40)
            .map(|i| {
                entry(
                    i,
                    &format!("Protocol {}", "W".repeat(i % 13)),
                    (i % 3 != 0).then_some("WWWWWWWWWWWWWWWWW"),
                )
            })
            .collect();
        projects.push(entry(
            41,
            &"Extraordinarily Long Name ".repeat(8)[..200],
            Some("LONG"),
        ));
        projects.push(entry(
            42,
            "界隈の分散型人工知能ネットワーク財団と仲間たちの長い名前です本当に長い",
            None,
        ));
        report(projects)
    }

    #[test]
    fn no_chip_overlaps_or_leaves_its_box() {
        let l = layout(&crowded());
        let mut all = Vec::new();
        for c in &l.columns {
            assert!(c.panel.x + c.panel.w <= l.width - MARGIN);
            for b in &c.boxes {
                assert!(c.panel.contains(&b.rect), "box {} outside its column", b.id);
                for chip in &b.chips {
                    assert!(
                        b.rect.contains(&chip.rect),
                        "chip {} outside box {}",
                        chip.id,
                        b.id
                    );
                    all.push(chip.clone());
                }
            }
            for (i, a) in c.boxes.iter().enumerate() {
                for b in &c.boxes[i + 1..] {
                    assert!(
                        !a.rect.overlaps(&b.rect),
                        "boxes {} and {} overlap",
                        a.id,
                        b.id
                    );
                }
            }
        }
        assert_eq!(all.len(), 43);
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(
                    !a.rect.overlaps(&b.rect),
                    "chips {} and {} overlap",
                    a.id,
                    b.id
                );
            }
        }
        assert!(l.footer.iter().all(|(_, y)| *y < l.height));
    }

    #[test]
    fn long_names_are_truncated_to_fit() {
        let l = layout(&crowded());
        let chips: Vec<&Chip> = l
            .columns
            .iter()
            .flat_map(|c| c.boxes.iter().flat_map(|b| &b.chips))
            .collect();
        let long = chips.iter().find(|c| c.id == "projects/p41").unwrap();
        assert!(long.name.ends_with('…'), "{}", long.name);
        assert!(long.name.chars().count() < 60);
        assert!(
            long.tooltip
                .contains(&"Extraordinarily Long Name ".repeat(7)),
            "full name in the tooltip"
        );
        for c in chips {
            let ticker_w = c.ticker.as_deref().map_or(0.0, |t| {
                TICKER_GAP as f64 + text_width(t, TICKER_SIZE, false)
            });
            let text = text_width(&c.name, NAME_SIZE, true) + ticker_w;
            assert!(
                text <= (c.rect.w - 2 * CHIP_PAD) as f64 + 1.0,
                "{} overflows its chip",
                c.name
            );
        }
    }

    #[test]
    fn svg_is_escaped_deterministic_and_skips_none() {
        let r = crowded();
        let svg = render(&r);
        assert_eq!(svg, render(&crowded()));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("infrastructure &lt;&amp;&gt; label"));
        assert!(!svg.contains("<&>"));
        assert_eq!(svg.matches(r#"class="chip""#).count(), 43);
        assert!(
            !svg.contains("projects/p100"),
            "none projects are not chips"
        );
        assert!(svg.contains("1 not AI-related"));
        assert_eq!(
            svg.matches("http").count(),
            1,
            "no external references besides the namespace"
        );
        assert!(!svg.contains("<image") && !svg.contains("<script") && !svg.contains("@import"));
    }

    #[test]
    fn fit_and_width_estimates() {
        assert_eq!(fit("Render", 12.0, true, 1000.0), "Render");
        let f = fit("Supercalifragilistic", 12.0, false, 60.0);
        assert!(
            f.ends_with('…') && text_width(&f, 12.0, false) <= 60.0,
            "{f}"
        );
        assert!(text_width("WWW", 12.0, false) > text_width("iii", 12.0, false));
        assert!(
            Rect {
                x: 0,
                y: 0,
                w: 10,
                h: 10
            }
            .overlaps(&Rect {
                x: 9,
                y: 9,
                w: 5,
                h: 5
            })
        );
        assert!(
            !Rect {
                x: 0,
                y: 0,
                w: 10,
                h: 10
            }
            .overlaps(&Rect {
                x: 10,
                y: 0,
                w: 5,
                h: 5
            })
        );
    }
}
