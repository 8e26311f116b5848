//! The tests a diff applies: a two-proportion z-test for rates, and a chi-square test of
//! homogeneity for duration histograms. Written out here (a few dozen lines each) rather
//! than taken from a statistics crate, which would be the heaviest dependency of the
//! default build for two functions.

/// The two-sided p-value of the pooled two-proportion z-test of `x1` in `n1` against `x2`
/// in `n2`; `None` when a side has no trials, or when neither side has a success or a
/// failure (both rates 0 or both 1: nothing can differ).
pub fn two_proportions(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2 {
        return None;
    }
    let (x1, n1, x2, n2) = (x1 as f64, n1 as f64, x2 as f64, n2 as f64);
    let pooled = (x1 + x2) / (n1 + n2);
    let var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    if var <= 0.0 {
        return None;
    }
    let z = (x2 / n2 - x1 / n1) / var.sqrt();
    Some(erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0))
}

/// The p-value of the chi-square test that two histograms over the same buckets come from
/// one distribution. Sparse buckets are merged with their neighbours until every bucket
/// expects at least 5 on each side; `None` when fewer than two buckets remain or a side is
/// empty.
pub fn same_distribution(a: &[u64], b: &[u64]) -> Option<f64> {
    let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    if na == 0.0 || nb == 0.0 || a.len() != b.len() {
        return None;
    }
    let total = na + nb;
    // Merge from the left until a bucket expects 5 on each side; the rest joins the last.
    let mut cells: Vec<(f64, f64)> = Vec::new();
    let mut open = (0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        open = (open.0 + x as f64, open.1 + y as f64);
        let col = open.0 + open.1;
        if col * na / total >= 5.0 && col * nb / total >= 5.0 {
            cells.push(open);
            open = (0.0, 0.0);
        }
    }
    if open.0 + open.1 > 0.0 {
        match cells.last_mut() {
            Some(last) => *last = (last.0 + open.0, last.1 + open.1),
            None => cells.push(open),
        }
    }
    if cells.len() < 2 {
        return None;
    }
    let mut chi2 = 0.0;
    for &(x, y) in &cells {
        let col = x + y;
        let (ea, eb) = (col * na / total, col * nb / total);
        chi2 += (x - ea).powi(2) / ea + (y - eb).powi(2) / eb;
    }
    let dof = (cells.len() - 1) as f64;
    Some(gamma_q(dof / 2.0, chi2 / 2.0).clamp(0.0, 1.0))
}

/// The complementary error function, to about 1e-15 relative (W. J. Cody's rational
/// approximations are the usual source; this uses the continued fraction of erfc for
/// large arguments and the series of erf for small ones).
pub fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.5 {
        // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
        let mut sum: f64 = 0.0;
        let mut term = x;
        let mut n = 0.0;
        while term.abs() > 1e-17 * sum.abs().max(1e-300) {
            sum += term / (2.0 * n + 1.0);
            n += 1.0;
            term *= -x * x / n;
            if n > 200.0 {
                break;
            }
        }
        1.0 - 2.0 / std::f64::consts::PI.sqrt() * sum
    } else {
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated
        // from the tail (Lentz's method would do as well).
        let mut f = 0.0;
        for k in (1..=60).rev() {
            f = (k as f64 / 2.0) / (x + f);
        }
        (-x * x).exp() / std::f64::consts::PI.sqrt() / (x + f)
    }
}

/// The regularized upper incomplete gamma function Q(s, x): the chi-square survival
/// function at `2x` with `2s` degrees of freedom. Series for `x < s + 1`, continued
/// fraction otherwise (the standard split).
pub fn gamma_q(s: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let log_prefix = s * x.ln() - x - ln_gamma(s);
    if x < s + 1.0 {
        let (mut sum, mut term, mut a) = (1.0 / s, 1.0 / s, s);
        for _ in 0..1000 {
            a += 1.0;
            term *= x / a;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        1.0 - sum * log_prefix.exp()
    } else {
        // Modified Lentz on the continued fraction of Γ(s, x).
        let tiny = 1e-300;
        let mut b = x + 1.0 - s;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - s);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        log_prefix.exp() * h
    }
}

/// ln Γ(s) for s > 0 (Lanczos, g = 7, n = 9: about 15 digits).
fn ln_gamma(s: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if s < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * s).sin()).ln() - ln_gamma(1.0 - s);
    }
    let s = s - 1.0;
    let mut a = G[0];
    let t = s + 7.5;
    for (i, &g) in G.iter().enumerate().skip(1) {
        a += g / (s + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (s + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard normal's two-sided tail by integrating its density (Simpson's rule):
    /// a computation that shares nothing with `erfc`.
    fn tail(z: f64) -> f64 {
        let n = 200_000;
        let (a, b) = (0.0, z.abs());
        let h = (b - a) / n as f64;
        let pdf = |x: f64| (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let mut s = pdf(a) + pdf(b);
        for i in 1..n {
            s += pdf(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        1.0 - 2.0 * s * h / 3.0
    }

    #[test]
    fn erfc_agrees_with_the_integrated_density() {
        for z in [0.0, 0.1, 0.5, 1.0, 1.96, 2.5, 3.0, 3.5, 4.0, 5.0] {
            let p = erfc(z / std::f64::consts::SQRT_2);
            let q = tail(z);
            assert!((p - q).abs() < 1e-9 + 1e-6 * q, "z={z}: {p} vs {q}");
        }
        // Far tails stay positive and shrink (no cancellation).
        assert!(erfc(6.0) > 0.0 && erfc(6.0) < 3e-17);
        assert!((erfc(-1.0) - (2.0 - erfc(1.0))).abs() < 1e-15);
    }

    #[test]
    fn the_z_test_matches_a_hand_computation() {
        // 50/1000 against 100/1000: pooled 0.075, se = sqrt(.075*.925*.002) = 0.011779,
        // z = 0.05 / 0.011779 = 4.2448.
        let p = two_proportions(50, 1000, 100, 1000).unwrap();
        let z = 0.05 / (0.075f64 * 0.925 * 0.002).sqrt();
        assert!((p - tail(z)).abs() < 1e-9, "{p}");
        assert!(p < 1e-4);
        // The same rates: p = 1.
        assert_eq!(two_proportions(50, 1000, 100, 2000), Some(1.0));
        // Nothing to compare.
        assert_eq!(two_proportions(0, 0, 1, 10), None);
        assert_eq!(two_proportions(0, 10, 0, 10), None);
        assert_eq!(two_proportions(10, 10, 20, 20), None);
        assert_eq!(two_proportions(11, 10, 1, 10), None);
    }

    #[test]
    fn chi_square_p_values_match_the_tables() {
        // Upper 5% points: 3.841 (1 dof), 5.991 (2), 11.070 (5); 1%: 6.635 (1).
        for (dof, x, p) in [
            (1.0, 3.841_459, 0.05),
            (2.0, 5.991_465, 0.05),
            (5.0, 11.070_50, 0.05),
            (1.0, 6.634_897, 0.01),
            (10.0, 2.558_212, 0.99),
        ] {
            let q = gamma_q(dof / 2.0, x / 2.0);
            assert!((q - p).abs() < 1e-5, "dof {dof}, x {x}: {q}");
        }
        // 2 dof: Q = exp(-x/2) exactly.
        assert!((gamma_q(1.0, 3.0) - (-3.0f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn histograms_of_one_shape_do_not_differ_and_shifted_ones_do() {
        let a = [100, 300, 400, 150, 50, 0, 0];
        let doubled: Vec<u64> = a.iter().map(|n| n * 2).collect();
        assert!(same_distribution(&a, &doubled).unwrap() > 0.999);
        let shifted = [0, 100, 300, 400, 150, 50, 0];
        assert!(same_distribution(&a, &shifted).unwrap() < 1e-10);
        // One bucket in all: nothing to test.
        assert_eq!(same_distribution(&[10, 0], &[20, 0]), None);
        assert_eq!(same_distribution(&[0, 0], &[1, 2]), None);
    }
}
