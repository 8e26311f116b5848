use super::*;

#[test]
fn figures_on_one_side_are_new_or_gone_never_zero() {
    let empty = crate::summary::Summary::default().report();
    let (mut base, mut current) = (empty.clone(), empty);
    // The base has no terminal step: no failure rate, and no code shares, to compare.
    base.sections.steps.total = 10;
    current.sections.steps.total = 100;
    current.sections.failures.terminal_steps = 100;
    current.sections.failures.total = 5;
    current
        .sections
        .failures
        .by_code
        .insert("new_code".into(), 5);
    let d = compare(&base, &current, vec![], vec![], Options::default());
    let rate = &d.figures["failure_rate"];
    assert_eq!(
        (rate.base, rate.current, rate.one_sided()),
        (None, Some(0.05), Some("new"))
    );
    assert_eq!(
        (rate.delta, rate.p_value, rate.significant),
        (None, None, None)
    );
    let new = &d.figures["code.new_code"];
    assert_eq!((new.base, new.one_sided()), (None, Some("new")));
    // Where both sides have terminal steps, a code one lacks is a measured 0 of them.
    base.sections.failures.terminal_steps = 1000;
    base.sections.failures.total = 1;
    base.sections.failures.by_code.insert("old_code".into(), 1);
    let d = compare(&base, &current, vec![], vec![], Options::default());
    let new = &d.figures["code.new_code"];
    assert_eq!(
        (new.base, new.current, new.one_sided()),
        (Some(0.0), Some(0.05), None)
    );
    assert_eq!(new.significant, Some(true), "{new:?}");
    let gone = &d.figures["code.old_code"];
    assert_eq!((gone.base, gone.current), (Some(0.001), Some(0.0)));
    assert_eq!(gone.significant, Some(false), "{gone:?}");
}

#[test]
fn figures_lead_with_significant_changes_then_the_largest() {
    let f = |b: f64, c: f64, p: Option<f64>| Figure::new(Unit::Count, Some(b), Some(c), p, 0.01);
    let figures: Figures = [
        ("small".to_string(), f(100.0, 101.0, None)),
        ("large".to_string(), f(100.0, 300.0, None)),
        ("same".to_string(), f(5.0, 5.0, None)),
        ("sig_weak".to_string(), f(100.0, 102.0, Some(0.001))),
        ("sig_strong".to_string(), f(100.0, 101.0, Some(0.00001))),
        ("not_sig".to_string(), f(100.0, 500.0, Some(0.5))),
    ]
    .into_iter()
    .collect();
    let order: Vec<&str> = leading(&figures)
        .into_iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "sig_strong",
            "sig_weak",
            "not_sig",
            "large",
            "small",
            "same"
        ]
    );
}
