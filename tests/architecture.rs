//! Data flows one way (see `src/lib.rs`): a module may use only modules before it in [`ORDER`].
//! Every `crate::<module>` path in `src/` (outside comments) is an edge; an edge that points back up
//! the pipeline fails this test, naming the file and line, so the claim in `lib.rs` stays true.
//! The binary (`src/cli/`, `src/main.rs`) uses the library only through `pinsynth::` and is not checked.

use std::collections::BTreeSet;
use std::path::Path;
use walkdir::WalkDir;

/// The library's modules in pipeline order: each may use the ones before it. Foundations first.
const ORDER: &[&str] = &[
    // Foundations, used by any step.
    "conventions",
    "seed",
    "atomic",
    "codec",
    "meshfile",
    "progress",
    // scene spec -> resolved Scene
    "spec",
    // per-image parameters
    "randomize",
    "sweep",
    "split",
    "params",
    // frame: geometry -> pixels -> ground truth, joined by the frame step
    "geometry",
    "render",
    "truth",
    "pipeline",
    // writers, and the drivers over many images
    "dataset",
    "shard",
    "run",
    // beside the chain: work on finished datasets (and image folders, heat maps)
    "augment",
    "score",
    "report",
];

/// Edges allowed against the order, each with its reason. Keep this empty if at all possible.
const ALLOWED: &[(&str, &str, &str)] = &[];

/// The top-level module a file of `src/` belongs to (`src/spec/draw.rs` -> `spec`).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main" | "cli")).then(|| name.to_string())
}

/// The modules a line of code names through `crate::` (including `use crate::{a, b::c}`).
fn targets(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                out.push(name);
            }
        } else {
            out.push(rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect());
        }
    }
    out
}

fn rank(module: &str) -> Option<usize> {
    ORDER.iter().position(|m| *m == module)
}

#[test]
fn no_module_uses_one_later_in_the_pipeline() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut backward = Vec::new();
    let mut seen = BTreeSet::new();
    let mut unplaced = BTreeSet::new();
    for entry in WalkDir::new(&src).sort_by_file_name() {
        let entry = entry.expect("walk src/");
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = entry.path().strip_prefix(&src).expect("under src/");
        let Some(from) = module_of(rel) else { continue };
        seen.insert(from.clone());
        let text = std::fs::read_to_string(entry.path()).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for to in targets(code) {
                // `crate::Error` and other items of lib.rs are the crate root, below every module.
                if to.is_empty() || to.starts_with(|c: char| c.is_ascii_uppercase()) || to == from {
                    continue;
                }
                let (Some(a), Some(b)) = (rank(&from), rank(&to)) else {
                    unplaced.insert(if rank(&from).is_none() { from.clone() } else { to.clone() });
                    continue;
                };
                if b > a && !ALLOWED.iter().any(|(f, t, _)| *f == from && *t == to) {
                    backward.push(format!("src/{}:{}: {from} uses {to}, which comes after it", rel.display(), n + 1));
                }
            }
        }
    }
    assert!(unplaced.is_empty(), "modules missing from ORDER in tests/architecture.rs: {unplaced:?}");
    let listed: BTreeSet<String> = ORDER.iter().map(|m| m.to_string()).collect();
    assert_eq!(listed, seen, "ORDER must list exactly the modules of src/");
    assert!(backward.is_empty(), "imports against the data flow:\n{}", backward.join("\n"));
}

#[test]
fn the_edge_parser_sees_every_form() {
    assert_eq!(targets("use crate::spec::Scene;"), ["spec"]);
    assert_eq!(targets("use crate::{dataset::Split, truth};"), ["dataset", "truth"]);
    assert_eq!(targets("let x = crate::codec::png_rgb(a, crate::seed::NOISE);"), ["codec", "seed"]);
    assert_eq!(targets("use crate::Error;"), ["Error"]);
    assert!(targets("use super::Sample;").is_empty());
}
