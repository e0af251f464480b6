//! Runs past one process: shards rendered by separate processes and merged equal a single run byte for
//! byte, a run killed mid-way and resumed equals an uninterrupted one, and the mistakes people make
//! with shard and resume directories are refused with a message.

use std::path::{Path, PathBuf};
use std::process::Stdio;

mod common;
use common::{ok, pinsynth, run, tree};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every layout and class balancing too: the merge must rebuild all of them byte for byte.
const FORMATS: &str = "imagefolder,mvtec,coco,wds,hf";
const SMALL: &[&str] = &[
    "--set",
    "sweep.count=31",
    "--set",
    "image.width=96",
    "--set",
    "image.height=80",
    "--set",
    "balance.ok_per_ng=1",
    "--format",
    FORMATS,
    "--shard-size",
    "4",
    "--quiet",
    "--preview",
    "8",
];

fn render_args<'a>(out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["render", "scenes/default.toml", "--out", s(out)];
    args.extend_from_slice(SMALL);
    args.extend_from_slice(extra);
    args
}

#[test]
fn shards_from_separate_processes_merge_into_the_single_run() {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    ok(run(&render_args(&single, &["--jobs", "2"])));
    let shards: Vec<PathBuf> = (0..3).map(|k| tmp.path().join(format!("shard{k}"))).collect();
    let specs: Vec<String> = (0..3).map(|k| format!("{k}/3")).collect();
    // Three processes at once, as a job array would run them.
    let children: Vec<_> = shards
        .iter()
        .zip(&specs)
        .map(|(dir, spec)| {
            pinsynth().args(render_args(dir, &["--jobs", "1", "--shard", spec])).spawn().expect("spawn pinsynth")
        })
        .collect();
    for c in children {
        assert!(c.wait_with_output().unwrap().status.success());
    }
    let shard1: Vec<String> =
        std::fs::read_to_string(shards[1].join("manifest.jsonl")).unwrap().lines().map(String::from).collect();
    assert_eq!(shard1.len(), 10, "images 1, 4, ..., 28");
    assert!(shard1[2].contains("\"id\":\"000007\""), "ids do not change in a shard");
    let merged = tmp.path().join("merged");
    let order = [s(&shards[2]), s(&shards[0]), s(&shards[1])];
    let summary = ok(run(&[
        "merge",
        order[0],
        order[1],
        order[2],
        "--out",
        s(&merged),
        "--preview",
        "8",
        "--format",
        FORMATS,
        "--shard-size",
        "4",
        "--quiet",
    ]));
    assert!(summary.starts_with("31 images ("), "{summary}");
    assert!(tree(&single) == tree(&merged), "the merged shards differ from the single run");

    let out = run(&["merge", order[0], order[1], "--out", s(&tmp.path().join("m2")), "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "error: shard 1 of 3 not given; merge needs every shard\n");
    let out = run(&["merge", s(&single), "--out", s(&tmp.path().join("m3")), "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!("error: {} is not a shard output (no shard.json); render shards with --shard K/N\n", single.display())
    );
}

/// Big enough that the run is still going when the test sees its first records (one worker, 3 × 3
/// supersampling), small enough to stay quick.
const SLOW: &[&str] = &[
    "--set",
    "sweep.count=300",
    "--set",
    "image.width=256",
    "--set",
    "image.height=256",
    "--set",
    "image.antialias=ssaa3",
    "--jobs",
    "1",
    "--quiet",
];

#[test]
fn a_killed_run_resumes_to_the_uninterrupted_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, killed) = (tmp.path().join("whole"), tmp.path().join("killed"));
    let mut args = vec!["render", "scenes/default.toml", "--out", s(&killed)];
    args.extend_from_slice(SLOW);
    let mut child = pinsynth().args(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn");
    let journal = killed.join("manifest.jsonl.partial");
    // Wait (no time limit: a count of records, not a duration) until some records are in the journal.
    loop {
        let lines = std::fs::read_to_string(&journal).map_or(0, |t| t.lines().count());
        if lines >= 10 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup at all
    child.wait().unwrap();
    assert!(!killed.join("manifest.jsonl").exists(), "killed mid-run");

    let mut args = vec!["render", "scenes/default.toml", "--out", s(&whole)];
    args.extend_from_slice(SLOW);
    ok(run(&args));
    let mut args = vec!["render", "scenes/default.toml", "--out", s(&killed), "--resume"];
    args.extend_from_slice(SLOW);
    let summary = ok(run(&args));
    assert!(summary.starts_with("300 images ("), "{summary}");
    assert!(tree(&whole) == tree(&killed), "the resumed run differs from the uninterrupted one");

    // Resuming a finished run changes nothing; resuming with another scene is refused.
    ok(run(&args));
    assert!(tree(&whole) == tree(&killed));
    args.extend_from_slice(&["--set", "sweep.seed=2"]);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "error: cannot resume in {}: its scene.resolved.toml differs from the scene given; resume with the same scene and --set values, or render into a new directory\n",
            killed.display()
        )
    );
}

/// Resume compares the parsed scenes, not the bytes of scene.resolved.toml: its header names the
/// program version, so a newer pinsynth must not call an output of an older one "changed".
#[test]
fn resume_accepts_the_same_scene_written_by_another_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ok(run(&render_args(&out, &["--set", "sweep.count=6"])));
    let before = tree(&out);
    let resolved = out.join("scene.resolved.toml");
    let text = std::fs::read_to_string(&resolved).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    assert!(header.starts_with("# Resolved by pinsynth "), "{header}");
    std::fs::write(&resolved, format!("# Resolved by pinsynth 0.0.1, an older one\n{body}\n")).unwrap();
    ok(run(&render_args(&out, &["--set", "sweep.count=6", "--resume"])));
    assert_eq!(tree(&out), before, "the resumed run rewrites the same dataset");
}
