//! Order-preserving parallel map over a slice, on scoped threads: one contiguous
//! share of the items per core, joined back in order, so results never depend on
//! how many threads ran.

/// `items.iter().map(f).collect()`, computed on up to one thread per core, each
/// thread taking at least `min_share` items (small inputs run on the caller's
/// thread).
pub fn map<T, R, F>(items: &[T], min_share: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().div_ceil(min_share.max(1)))
        .max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let share = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(share)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker thread"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_at_any_share() {
        let items: Vec<u32> = (0..1000).collect();
        for share in [1, 7, 256, 5000] {
            let out = super::map(&items, share, |x| x * 2);
            assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
        assert!(super::map(&[] as &[u32], 1, |x| *x).is_empty());
    }
}
