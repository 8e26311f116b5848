//! Arbitrary bytes as a state file, through everything `report` and `merge` do with one:
//! reading must refuse a damaged state with an error, never panic or allocate beyond
//! the input; a state that reads must render in every format, write out as a state that
//! reads back to the same report, and merge (with itself, and with the empty state)
//! without a panic, into a state that reads back too.
//!
//! Run: `cd fuzz && cargo +nightly fuzz run state corpus/state seeds-state` (see doc/contributing.md).

#![no_main]

use libfuzzer_sys::fuzz_target;
use steplog::report::{self, Csv, Format, Html, Json, Markdown, Prometheus, Table};
use steplog::state::{Limits, State};
use steplog::summary::View;

const LIMITS: Limits = Limits {
    groups: 10_000,
    runs: 10_000,
};

fn json(r: &report::Report) -> String {
    report::render_to_string(&Json, r)
}

/// Renders the state in every format; writes it and reads it back.
fn exercise(state: &State) -> String {
    let r = state.report(View::default());
    // The table at its full width and fitted to a narrow terminal; the one screen at 80
    // columns; the CSV in both layouts.
    let narrow = Table {
        color: true,
        width: Some(40),
        brief: false,
    };
    let brief = Table {
        color: false,
        width: Some(80),
        brief: true,
    };
    let formats: [&dyn Format; 10] = [
        &Json,
        &Table::default(),
        &narrow,
        &brief,
        &Csv::default(),
        &Csv { wide: true },
        &Markdown,
        &Html {
            generated_at: Some(0),
        },
        &Prometheus {
            generated_at: Some(0),
        },
        &Table {
            brief: true,
            ..Table::default()
        },
    ];
    for f in formats {
        let _ = report::render_to_string(f, &r);
    }
    let text = state.to_json();
    let again = State::from_json(text.as_bytes(), "written.state", LIMITS)
        .unwrap_or_else(|e| panic!("a state steplog wrote does not read back: {e}"));
    let expected = json(&r);
    assert_eq!(json(&again.report(View::default())), expected, "round trip");
    expected
}

fuzz_target!(|data: &[u8]| {
    let Ok(state) = State::from_json(data, "fuzz.state", LIMITS) else {
        return;
    };
    let once = exercise(&state);
    let mut with_empty = State::empty(state.settings.clone());
    with_empty
        .merge(state.clone())
        .expect("the empty state merges with any state of its settings");
    assert_eq!(
        exercise(&with_empty),
        once,
        "the empty state is the identity"
    );
    let mut twice = state.clone();
    if twice.merge(state).is_ok() {
        exercise(&twice);
    }
});
