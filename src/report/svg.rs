//! Histograms as inline SVG (no script, no external file).

use std::fmt::Write;

/// A histogram of `values` in `bins` equal bins between their min and max, as an SVG element with
/// the title, the range and the largest bin's count written on it.
pub fn histogram(title: &str, values: &[f64], bins: usize) -> String {
    let (w, h, pad) = (260.0, 120.0, 18.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{}" viewBox="0 0 {w} {}" role="img"><title>{}</title>"#,
        h + 2.0 * pad,
        h + 2.0 * pad,
        super::esc(title)
    );
    let _ = write!(
        s,
        r#"<text x="4" y="13" font-size="12" font-family="sans-serif">{} (n = {})</text>"#,
        super::esc(title),
        values.len()
    );
    if values.is_empty() {
        s.push_str("</svg>");
        return s;
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut counts = vec![0usize; bins];
    for &v in values {
        let b = if hi > lo { (((v - lo) / (hi - lo)) * bins as f64).floor() as usize } else { 0 };
        counts[b.min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    let bw = w / bins as f64;
    for (i, &c) in counts.iter().enumerate() {
        let bh = c as f64 / top as f64 * h;
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#3b6ea8"/>"##,
            i as f64 * bw + 0.5,
            pad + h - bh,
            bw - 1.0,
            bh
        );
    }
    let _ = write!(
        s,
        r##"<line x1="0" y1="{y}" x2="{w}" y2="{y}" stroke="#444"/><text x="2" y="{t}" font-size="11" font-family="sans-serif">{lo}</text><text x="{w}" y="{t}" font-size="11" font-family="sans-serif" text-anchor="end">{hi}</text><text x="{w}" y="13" font-size="11" font-family="sans-serif" text-anchor="end">max bin {top}</text></svg>"##,
        y = pad + h,
        t = pad + h + 14.0,
        lo = fmt(lo),
        hi = fmt(hi),
    );
    s
}

fn fmt(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_and_labels() {
        let svg = histogram("grad.x", &[0.0, 0.1, 0.9, 1.0], 2);
        // Two bins: [0, 0.5) holds 2, [0.5, 1] holds 2 (the max lands in the last bin).
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(r#"height="120.0" fill"#), "{svg}");
        assert!(svg.contains("grad.x (n = 4)") && svg.contains(">0<") && svg.contains(">1<"));
        assert!(histogram("x", &[], 10).ends_with("</svg>"));
    }
}
