//! A small schema walker over a parsed TOML table that collects *every* problem in a scene file
//! (unknown keys with a "did you mean", wrong types, values out of range) instead of stopping at the
//! first, the way serde would.

use crate::conventions::Named;
use std::fmt;
use toml::{Table, Value};

/// One problem with one key of a scene file.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Dotted key path, e.g. `camera.fov_y_deg` or `case[2].defect.pin`.
    pub key: String,
    pub kind: ProblemKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProblemKind {
    UnknownKey { suggestion: Option<String>, allowed: Vec<String> },
    WrongType { expected: String, found: String },
    OutOfRange { value: String, allowed: String },
    BadChoice { value: String, allowed: Vec<String> },
    Missing { expected: String },
    Invalid { value: String, reason: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        match &self.kind {
            ProblemKind::UnknownKey { suggestion: Some(s), .. } => {
                write!(f, "{key}: unknown key; did you mean `{s}`?")
            }
            ProblemKind::UnknownKey { suggestion: None, allowed } => {
                write!(f, "{key}: unknown key; allowed keys here: {}", allowed.join(", "))
            }
            ProblemKind::WrongType { expected, found } => {
                write!(f, "{key}: expected {expected}, found {found}")
            }
            ProblemKind::OutOfRange { value, allowed } => {
                write!(f, "{key} = {value}: out of range, allowed {allowed}")
            }
            ProblemKind::BadChoice { value, allowed } => {
                write!(f, "{key} = {value}: not one of {}", allowed.join(", "))
            }
            ProblemKind::Missing { expected } => write!(f, "{key}: missing, expected {expected}"),
            ProblemKind::Invalid { value, reason } => write!(f, "{key} = {value}: {reason}"),
        }
    }
}

/// `what (N problems)` and one indented line per problem: how every list of problems reads
/// (scene files, augmentation options).
pub fn report(what: &str, problems: &[Problem]) -> String {
    let n = problems.len();
    let mut s = format!("{what} ({n} problem{})", if n == 1 { "" } else { "s" });
    for p in problems {
        s.push_str(&format!("\n  - {p}"));
    }
    s
}

/// Collects problems while a scene is being read.
#[derive(Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, key: impl Into<String>, kind: ProblemKind) {
        self.0.push(Problem { key: key.into(), kind });
    }

    pub fn invalid(&mut self, key: impl Into<String>, value: impl fmt::Display, reason: impl Into<String>) {
        self.push(key, ProblemKind::Invalid { value: value.to_string(), reason: reason.into() });
    }

    pub fn out_of_range(&mut self, key: impl Into<String>, value: impl fmt::Display, allowed: impl Into<String>) {
        self.push(key, ProblemKind::OutOfRange { value: value.to_string(), allowed: allowed.into() });
    }
}

/// How a TOML value is named in messages: its type, or for short scalars the value itself.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// What was found instead of the expected type: the value and its type, e.g. `"big" (a string)`.
pub fn found(v: &Value) -> String {
    format!("{} ({})", show(v), type_name(v))
}

/// A TOML value as it would be written in the file (for messages).
pub fn show(v: &Value) -> String {
    match v {
        Value::Table(_) => "{…}".to_string(),
        other => other.to_string(),
    }
}

/// One table of the scene file being read. Every key read is remembered; [`Section::finish`] reports the
/// rest as unknown, with the closest known key as a suggestion.
pub struct Section<'a> {
    pub path: String,
    table: Option<&'a Table>,
    known: Vec<&'static str>,
}

impl<'a> Section<'a> {
    /// A sub-table `key` of `parent` (absent → every value takes its default).
    pub fn child(parent: &mut Section<'a>, key: &'static str, p: &mut Problems) -> Section<'a> {
        let path = parent.key_path(key);
        let table = match parent.get(key) {
            None => None,
            Some(Value::Table(t)) => Some(t),
            Some(other) => {
                p.push(&path, ProblemKind::WrongType { expected: "a table".into(), found: found(other) });
                None
            }
        };
        Section { path, table, known: Vec::new() }
    }

    pub fn root(table: &'a Table) -> Section<'a> {
        Section { path: String::new(), table: Some(table), known: Vec::new() }
    }

    pub fn of_table(path: String, table: &'a Table) -> Section<'a> {
        Section { path, table: Some(table), known: Vec::new() }
    }

    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    /// The raw value of `key`, marking it as known.
    pub fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.known.push(key);
        self.table.and_then(|t| t.get(key))
    }

    /// Declares a key as known without reading it (read elsewhere).
    pub fn allow(&mut self, key: &'static str) {
        self.known.push(key);
    }

    /// Reports every key that was not read as unknown.
    pub fn finish(self, p: &mut Problems) {
        let Some(table) = self.table else { return };
        for key in table.keys() {
            if self.known.iter().any(|k| k == key) {
                continue;
            }
            let suggestion = did_you_mean(key, &self.known).map(str::to_string);
            let mut allowed: Vec<String> = self.known.iter().map(|k| k.to_string()).collect();
            allowed.dedup();
            p.push(self.key_path(key), ProblemKind::UnknownKey { suggestion, allowed });
        }
    }

    /// A number (integer or float) in `[min, max]`.
    pub fn f64(&mut self, key: &'static str, default: f64, min: f64, max: f64, p: &mut Problems) -> f64 {
        let path = self.key_path(key);
        match self.get(key) {
            None => default,
            Some(v) => match number(v) {
                Some(x) if x >= min && x <= max => x,
                Some(x) => {
                    p.out_of_range(path, x, format!("{min}..={max}"));
                    default
                }
                None => {
                    p.push(path, ProblemKind::WrongType { expected: "a number".into(), found: found(v) });
                    default
                }
            },
        }
    }

    /// An integer in `[min, max]`.
    pub fn int(&mut self, key: &'static str, default: i64, min: i64, max: i64, p: &mut Problems) -> i64 {
        let path = self.key_path(key);
        match self.get(key) {
            None => default,
            Some(Value::Integer(x)) if *x >= min && *x <= max => *x,
            Some(Value::Integer(x)) => {
                p.out_of_range(path, x, format!("{min}..={max}"));
                default
            }
            Some(v) => {
                p.push(path, ProblemKind::WrongType { expected: "an integer".into(), found: found(v) });
                default
            }
        }
    }

    pub fn bool(&mut self, key: &'static str, default: bool, p: &mut Problems) -> bool {
        let path = self.key_path(key);
        match self.get(key) {
            None => default,
            Some(Value::Boolean(b)) => *b,
            Some(v) => {
                p.push(path, ProblemKind::WrongType { expected: "true or false".into(), found: found(v) });
                default
            }
        }
    }

    /// One of a fixed set of strings.
    pub fn choice<T: Copy>(&mut self, key: &'static str, default: T, choices: &[(&str, T)], p: &mut Problems) -> T {
        let path = self.key_path(key);
        match self.get(key) {
            None => default,
            Some(Value::String(s)) => match choices.iter().find(|(name, _)| name == s) {
                Some((_, v)) => *v,
                None => {
                    p.push(
                        path,
                        ProblemKind::BadChoice {
                            value: format!("{s:?}"),
                            allowed: choices.iter().map(|(n, _)| format!("{n:?}")).collect(),
                        },
                    );
                    default
                }
            },
            Some(v) => {
                p.push(path, ProblemKind::WrongType { expected: "a string".into(), found: found(v) });
                default
            }
        }
    }

    /// One of the names of `T` (see [`Named`]).
    pub fn named<T: Named>(&mut self, key: &'static str, default: T, p: &mut Problems) -> T {
        let choices: Vec<(&str, T)> = T::ALL.iter().map(|v| (v.name(), *v)).collect();
        self.choice(key, default, &choices, p)
    }

    /// A fixed-length array of numbers, each in `[min, max]`.
    pub fn floats<const N: usize>(
        &mut self,
        key: &'static str,
        default: [f64; N],
        min: f64,
        max: f64,
        p: &mut Problems,
    ) -> [f64; N] {
        let path = self.key_path(key);
        match self.get(key) {
            None => default,
            Some(v) => floats_value(&path, v, min, max, p).unwrap_or(default),
        }
    }
}

/// A number as f64 (TOML integers are accepted where floats are expected).
/// The known key closest to a misspelt `key` (Jaro-Winkler similarity at least 0.8), if any: the one
/// "did you mean" rule of scene files and augmentation options.
pub fn did_you_mean<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(k, key), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// An array of exactly N numbers in `[min, max]`; reports and returns None otherwise.
pub fn floats_value<const N: usize>(path: &str, v: &Value, min: f64, max: f64, p: &mut Problems) -> Option<[f64; N]> {
    let expected = format!("an array of {N} numbers");
    let Value::Array(items) = v else {
        p.push(path, ProblemKind::WrongType { expected, found: found(v) });
        return None;
    };
    if items.len() != N {
        p.push(path, ProblemKind::WrongType { expected, found: format!("{} ({} items)", show(v), items.len()) });
        return None;
    }
    let values = each_number(path, items, p, |i, x, p| {
        let ok = x >= min && x <= max;
        if !ok {
            p.out_of_range(format!("{path}[{i}]"), x, format!("{min}..={max}"));
        }
        ok
    })?;
    values.try_into().ok()
}

/// Every item of an array as a number, each accepted by `check` (which reports its own problem);
/// a non-number is reported as such. None if any item failed.
pub fn each_number(
    path: &str,
    items: &[Value],
    p: &mut Problems,
    check: impl Fn(usize, f64, &mut Problems) -> bool,
) -> Option<Vec<f64>> {
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match number(item) {
            Some(x) => {
                ok &= check(i, x, p);
                out.push(x);
            }
            None => {
                p.push(
                    format!("{path}[{i}]"),
                    ProblemKind::WrongType { expected: "a number".into(), found: found(item) },
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_get_a_suggestion_when_close() {
        let t: Table = "fov_y_dge = 3\nzzz = 1".parse().unwrap();
        let mut p = Problems::default();
        let mut s = Section::of_table("camera".into(), &t);
        s.f64("fov_y_deg", 45.0, 1.0, 179.0, &mut p);
        s.finish(&mut p);
        let text: Vec<String> = p.0.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            text,
            vec![
                "camera.fov_y_dge: unknown key; did you mean `fov_y_deg`?",
                "camera.zzz: unknown key; allowed keys here: fov_y_deg"
            ]
        );
    }
}
