//! Distributions of one sampled number (a sweep's offset and tilt components, the domain-randomization
//! ranges): reading every accepted form with its problems, and writing the resolved form back.
//!
//! Accepted forms: `[min, max]` (uniform, the original form), `{ uniform = [min, max] }`,
//! `{ normal = [mean, sd], clamp = [min, max] }`, `{ choice = [v1, v2, …], weights = [w1, w2, …] }`,
//! `{ fixed = v }` or a bare number. Sampling lives in [`super::draw`].

use super::schema::{ProblemKind, Problems, Section, each_number, floats_value, found, number, show};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use toml::Value;

/// One number's distribution, resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// Uniform on `[min, max]` (a single value when min == max: no random number is drawn).
    Uniform([f64; 2]),
    /// Normal, then clamped into `clamp` (values beyond pile up on its ends).
    Normal { mean: f64, sd: f64, clamp: [f64; 2] },
    /// One of `values`, picked with probability proportional to its weight.
    Choice { values: Vec<f64>, weights: Vec<f64> },
    /// Always this value (no random number is drawn).
    Fixed(f64),
}

impl Dist {
    /// The smallest and largest value the distribution can give.
    pub fn support(&self) -> [f64; 2] {
        match self {
            Dist::Uniform(r) => *r,
            Dist::Normal { clamp, .. } => *clamp,
            Dist::Choice { values, .. } => [
                values.iter().copied().fold(f64::INFINITY, f64::min),
                values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            ],
            Dist::Fixed(v) => [*v, *v],
        }
    }

    /// The largest magnitude the distribution can give.
    pub fn max_abs(&self) -> f64 {
        let [lo, hi] = self.support();
        lo.abs().max(hi.abs())
    }
}

impl Serialize for Dist {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Dist::Uniform(r) => r.serialize(s),
            Dist::Fixed(v) => v.serialize(s),
            Dist::Normal { mean, sd, clamp } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("normal", &[*mean, *sd])?;
                m.serialize_entry("clamp", clamp)?;
                m.end()
            }
            Dist::Choice { values, weights } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("choice", values)?;
                m.serialize_entry("weights", weights)?;
                m.end()
            }
        }
    }
}

const FORMS: &str = "[min, max], a number, or a table { uniform | normal | choice | fixed = … }";

/// Reads `key` of `s` as a distribution of values in `[lo, hi]`; absent → `default`.
pub fn read(s: &mut Section<'_>, key: &'static str, default: Dist, lo: f64, hi: f64, p: &mut Problems) -> Dist {
    let path = s.key_path(key);
    match s.get(key) {
        None => default,
        Some(v) => read_value(&path, v, lo, hi, p).unwrap_or(default),
    }
}

/// Reads one distribution value at `path`; reports every problem and returns None if there is any.
pub fn read_value(path: &str, v: &Value, lo: f64, hi: f64, p: &mut Problems) -> Option<Dist> {
    let before = p.0.len();
    let dist = match v {
        Value::Integer(_) | Value::Float(_) => in_range(path, v, lo, hi, p).map(Dist::Fixed),
        Value::Array(_) => floats_value::<2>(path, v, lo, hi, p).and_then(|r| ordered(path, r, p)).map(Dist::Uniform),
        Value::Table(t) => {
            let mut s = Section::of_table(path.to_string(), t);
            let forms: Vec<&str> =
                ["uniform", "normal", "choice", "fixed"].into_iter().filter(|k| t.contains_key(*k)).collect();
            let clamp = s.get("clamp");
            let weights = s.get("weights");
            let dist = match forms.as_slice() {
                [] => {
                    p.push(path, ProblemKind::Missing { expected: FORMS.into() });
                    None
                }
                ["uniform"] => s.get("uniform").and_then(|v| {
                    floats_value::<2>(&format!("{path}.uniform"), v, lo, hi, p)
                        .and_then(|r| ordered(&format!("{path}.uniform"), r, p))
                        .map(Dist::Uniform)
                }),
                ["fixed"] => {
                    s.get("fixed").and_then(|v| in_range(&format!("{path}.fixed"), v, lo, hi, p)).map(Dist::Fixed)
                }
                ["normal"] => read_normal(path, s.get("normal"), clamp, lo, hi, p),
                ["choice"] => read_choice(path, s.get("choice"), weights, lo, hi, p),
                several => {
                    p.invalid(
                        path,
                        show(v),
                        format!("give exactly one of uniform, normal, choice, fixed (found {})", several.join(", ")),
                    );
                    None
                }
            };
            if clamp.is_some() && forms != ["normal"] {
                p.invalid(format!("{path}.clamp"), show(clamp.unwrap_or(v)), "only allowed with `normal`");
            }
            if weights.is_some() && forms != ["choice"] {
                p.invalid(format!("{path}.weights"), show(weights.unwrap_or(v)), "only allowed with `choice`");
            }
            for k in ["uniform", "normal", "choice", "fixed"] {
                s.allow(k);
            }
            s.finish(p);
            dist
        }
        other => {
            p.push(path, ProblemKind::WrongType { expected: FORMS.into(), found: found(other) });
            None
        }
    };
    if p.0.len() > before { None } else { dist }
}

fn in_range(path: &str, v: &Value, lo: f64, hi: f64, p: &mut Problems) -> Option<f64> {
    match number(v) {
        Some(x) if x >= lo && x <= hi => Some(x),
        Some(x) => {
            p.out_of_range(path, x, format!("{lo}..={hi}"));
            None
        }
        None => {
            p.push(path, ProblemKind::WrongType { expected: "a number".into(), found: found(v) });
            None
        }
    }
}

fn ordered(path: &str, r: [f64; 2], p: &mut Problems) -> Option<[f64; 2]> {
    if r[0] > r[1] {
        p.invalid(path, format!("[{}, {}]", r[0], r[1]), "min is greater than max");
        return None;
    }
    Some(r)
}

fn read_normal(
    path: &str,
    v: Option<&Value>,
    clamp: Option<&Value>,
    lo: f64,
    hi: f64,
    p: &mut Problems,
) -> Option<Dist> {
    let key = format!("{path}.normal");
    let [mean, sd] = floats_value::<2>(&key, v?, f64::MIN, f64::MAX, p)?;
    let mut ok = true;
    if !(lo..=hi).contains(&mean) {
        p.out_of_range(format!("{key}[0]"), mean, format!("{lo}..={hi} (the mean)"));
        ok = false;
    }
    if sd <= 0.0 {
        p.invalid(format!("{key}[1]"), sd, "the standard deviation must be positive (use `fixed` for a constant)");
        ok = false;
    }
    let clamp = match clamp {
        None => [lo, hi],
        Some(c) => floats_value::<2>(&format!("{path}.clamp"), c, lo, hi, p)
            .and_then(|r| ordered(&format!("{path}.clamp"), r, p))?,
    };
    ok.then_some(Dist::Normal { mean, sd, clamp })
}

fn read_choice(
    path: &str,
    v: Option<&Value>,
    weights: Option<&Value>,
    lo: f64,
    hi: f64,
    p: &mut Problems,
) -> Option<Dist> {
    let key = format!("{path}.choice");
    let values = numbers(&key, v?, p, |i, x, p| {
        let ok = (lo..=hi).contains(&x);
        if !ok {
            p.out_of_range(format!("{key}[{i}]"), x, format!("{lo}..={hi}"));
        }
        ok
    })?;
    let wkey = format!("{path}.weights");
    let weights = match weights {
        None => vec![1.0; values.len()],
        Some(w) => {
            let ws = numbers(&wkey, w, p, |i, x, p| {
                let ok = x > 0.0;
                if !ok {
                    p.invalid(format!("{wkey}[{i}]"), x, "weights must be positive (leave the value out instead)");
                }
                ok
            })?;
            if ws.len() != values.len() {
                p.invalid(
                    &wkey,
                    show(w),
                    format!("needs one weight per value ({} values, {} weights)", values.len(), ws.len()),
                );
                return None;
            }
            ws
        }
    };
    Some(Dist::Choice { values, weights })
}

/// A non-empty array of numbers, each accepted by `check`.
fn numbers(
    path: &str,
    v: &Value,
    p: &mut Problems,
    check: impl Fn(usize, f64, &mut Problems) -> bool,
) -> Option<Vec<f64>> {
    let Value::Array(items) = v else {
        p.push(path, ProblemKind::WrongType { expected: "a non-empty array of numbers".into(), found: found(v) });
        return None;
    };
    if items.is_empty() {
        p.push(path, ProblemKind::WrongType { expected: "a non-empty array of numbers".into(), found: "[]".into() });
        return None;
    }
    each_number(path, items, p, check)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(text: &str) -> Result<Dist, Vec<String>> {
        let t: toml::Table = format!("v = {text}").parse().unwrap();
        let mut p = Problems::default();
        let d = read_value("k", &t["v"], -10.0, 10.0, &mut p);
        if p.0.is_empty() { Ok(d.unwrap()) } else { Err(p.0.iter().map(|x| x.to_string()).collect()) }
    }

    #[test]
    fn every_form_reads_and_writes_back() {
        for (text, d) in [
            ("[-1, 2]", Dist::Uniform([-1.0, 2.0])),
            ("{ uniform = [0, 1] }", Dist::Uniform([0.0, 1.0])),
            ("3", Dist::Fixed(3.0)),
            ("{ fixed = -2.5 }", Dist::Fixed(-2.5)),
            ("{ normal = [0, 1], clamp = [-2, 2] }", Dist::Normal { mean: 0.0, sd: 1.0, clamp: [-2.0, 2.0] }),
            ("{ normal = [1, 2] }", Dist::Normal { mean: 1.0, sd: 2.0, clamp: [-10.0, 10.0] }),
            ("{ choice = [1, 2], weights = [3, 1] }", Dist::Choice { values: vec![1.0, 2.0], weights: vec![3.0, 1.0] }),
            ("{ choice = [5] }", Dist::Choice { values: vec![5.0], weights: vec![1.0] }),
        ] {
            assert_eq!(dist(text), Ok(d.clone()), "{text}");
            #[derive(Serialize)]
            struct W<'a> {
                v: &'a Dist,
            }
            let back = toml::to_string(&W { v: &d }).unwrap();
            let t: toml::Table = back.parse().unwrap();
            let mut p = Problems::default();
            assert_eq!(read_value("k", &t["v"], -10.0, 10.0, &mut p), Some(d), "{back}");
        }
    }

    #[test]
    fn bad_distributions_say_what_is_wrong() {
        assert_eq!(dist("[2, 1]"), Err(vec!["k = [2, 1]: min is greater than max".to_string()]));
        assert_eq!(
            dist("{ choice = [1, 2], weights = [1, 0] }"),
            Err(vec!["k.weights[1] = 0: weights must be positive (leave the value out instead)".to_string()])
        );
        assert_eq!(dist("{ unifrom = [0, 1] }").unwrap_err().len(), 2, "missing form + did you mean");
        assert_eq!(
            dist("{ uniform = [0, 1], clamp = [0, 1] }"),
            Err(vec!["k.clamp = [0, 1]: only allowed with `normal`".to_string()])
        );
    }
}
