//! Issue 3's allocation promise: beyond parsing the body, text that needs no
//! cleaning allocates nothing in the engine once the thread is warm.
//!
//! A counting global allocator counts only on the thread that asked, so the
//! test harness's own threads do not disturb the figure.
#![cfg(feature = "sanitize")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;

use spark_tower::sanitize::{Sanitizer, clean};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator also runs while thread locals are torn down.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    COUNT.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    COUNT.with(Cell::get)
}

const PROSE: &str = "The quarterly report shows that revenue grew in every region except the \
north, where a late shipment delayed two large orders. Please send your comments by Friday \
so that we can prepare a summary for the board. ";

#[test]
fn clean_text_allocates_nothing_once_the_thread_is_warm() {
    let sanitizer = Sanitizer::default();
    let short = PROSE.to_owned();
    let long = PROSE.repeat(60);
    let typographic = "Our team\u{2019}s view \u{2014} \u{201c}review the contracts\u{201d}\u{2026} \
        El informe trimestral muestra que los ingresos crecieron. \u{c24}\u{c46}\u{c32}\u{c41}\u{c17}\u{c41}. "
        .repeat(20);
    for text in [&short, &long, &typographic] {
        // Warm: the thread's scratch grows to this size once.
        let warm = sanitizer.detect(&clean(text));
        assert!(warm.is_clean(), "bench prose is not an injection");
        let mut verdicts = Vec::new();
        let n = allocations(|| {
            let cleaned = clean(text);
            assert!(matches!(cleaned, Cow::Borrowed(_)), "nothing to remove");
            verdicts.push(sanitizer.detect(&cleaned).is_clean());
        });
        // `verdicts` had room for none: its one growth is counted.
        assert_eq!(n, 1, "allocations for {} bytes", text.len());
        assert_eq!(verdicts, [true]);
    }
}

#[test]
fn the_counter_sees_allocations() {
    // The guard above could pass by counting nothing at all.
    let n = allocations(|| {
        std::hint::black_box(vec![0u8; 64]);
        std::hint::black_box(String::from("x").repeat(3));
    });
    assert!(n >= 2, "{n}");
}

#[test]
fn a_text_needing_cleaning_allocates_only_its_cleaned_copy() {
    let sanitizer = Sanitizer::default();
    let text = format!("{PROSE}\u{200b}\u{202e}");
    sanitizer.detect(&clean(&text));
    let n = allocations(|| {
        let cleaned = clean(&text);
        assert!(matches!(cleaned, Cow::Owned(_)));
        std::hint::black_box(sanitizer.detect(&cleaned));
    });
    // The cleaned copy is the one allocation the engine needs.
    assert_eq!(n, 1);
}
