//! Classification throughput on generated text, in bytes per second (one core).
//!
//! Cases: text of random words drawn from the shipped notes (1 KiB and 1 MiB: denser
//! in signals than any real note, a worst case), and the 20 shipped protocol notes as
//! they are. Run with `cargo bench --bench classify`.

use std::hint::black_box;

use aikb::classify::Classifier;
use aikb::taxonomy::Taxonomy;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Deterministic pseudo-random text of about `bytes` bytes drawn from the corpus.
fn generated_text(bytes: usize) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (notes, _) = aikb::corpus::load_all(root).expect("shipped corpus");
    let vocab: Vec<String> = notes
        .iter()
        .flat_map(|n| {
            n.body
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = String::with_capacity(bytes + 64);
    let mut words_in_line = 0;
    while out.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push_str(&vocab[(state % vocab.len() as u64) as usize]);
        words_in_line += 1;
        if words_in_line == 14 {
            out.push('\n');
            words_in_line = 0;
        } else {
            out.push(' ');
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let taxonomy = Taxonomy::load(&root.join("taxonomy.yaml")).expect("valid taxonomy");
    let classifier = Classifier::new(&taxonomy);
    let mut group = c.benchmark_group("classify");
    for (name, size) in [("note-1KiB", 1 << 10), ("text-1MiB", 1 << 20)] {
        let text = generated_text(size);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| classifier.classify_text(black_box(&text)))
        });
    }
    // The shipped protocol notes themselves, each classified as a note.
    let (notes, _) = aikb::corpus::load_all(root).expect("shipped corpus");
    let projects: Vec<_> = notes
        .into_iter()
        .filter(|n| n.kind == aikb::corpus::Kind::Project)
        .collect();
    let bytes: usize = projects.iter().map(|n| n.body.len()).sum();
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("shipped-notes", |b| {
        b.iter(|| {
            for n in &projects {
                black_box(classifier.classify_note(black_box(n)));
            }
        })
    });
    group.finish();
    c.bench_function("compile-taxonomy", |b| {
        b.iter(|| Classifier::new(black_box(&taxonomy)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
