//! Faults of the machine rather than the input: a disk that fills up mid-run, an output directory that
//! cannot be written, layouts linked across file systems, and shard directories that do not belong
//! together. File systems are private tmpfs mounts in a mount namespace of their own (`unshare -m` as
//! root, `unshare -rm` otherwise), so nothing outside the test sees them.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{ok, path_str as s, run as pinsynth, stderr, tree};

/// Runs `script` (sh) in a private mount namespace with `$PINSYNTH` set; panics, saying why, if no
/// namespace can be made (a test that cannot run must not pass).
fn in_private_mounts(script: &str, dir: &Path) -> Output {
    let root = unsafe_is_root();
    let mut cmd = Command::new("unshare");
    cmd.args(if root { &["-m", "--propagation", "private"][..] } else { &["-r", "-m", "--propagation", "private"] });
    let out = cmd
        .args(["sh", "-c", script])
        .env("PINSYNTH", env!("CARGO_BIN_EXE_pinsynth"))
        .env("T", dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run unshare (util-linux)");
    let err = stderr(&out);
    assert!(
        !err.starts_with("unshare:"),
        "cannot make a private mount namespace for this test ({err}); run it as root or allow unprivileged user namespaces"
    );
    out
}

fn unsafe_is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout == b"0\n")
}

const SCENE: &[&str] = &[
    "scenes/default.toml",
    "--set",
    "sweep.count=120",
    "--set",
    "image.width=128",
    "--set",
    "image.height=128",
    "--format",
    "imagefolder,coco,wds",
    "--jobs",
    "2",
    "--quiet",
];

#[test]
fn a_full_disk_names_the_path_and_resume_then_gives_the_uninterrupted_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    ok(pinsynth(&[&["render", SCENE[0], "--out", s(&whole)][..], &SCENE[1..]].concat()));
    let args = SCENE.join(" ");
    // 600 kB hold about a third of the dataset; then the disk grows and the run is resumed.
    let script = format!(
        "set -e; mkdir -p $T/disk; mount -t tmpfs -o size=600k tmpfs $T/disk
         if $PINSYNTH render --out $T/disk/ds {args} 2> $T/err; then echo finished > $T/code; else echo $? > $T/code; fi
         mount -o remount,size=64m $T/disk
         $PINSYNTH render --out $T/disk/ds --resume {args}
         cp -a $T/disk/ds $T/resumed"
    );
    let o = in_private_mounts(&script, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let code = std::fs::read_to_string(tmp.path().join("code")).unwrap();
    let err = std::fs::read_to_string(tmp.path().join("err")).unwrap();
    assert_eq!(code, "2\n", "a full disk is a runtime failure: {err}");
    let disk = tmp.path().join("disk/ds");
    assert!(
        err.starts_with(&format!("error: cannot write {}/", s(&disk)))
            && err.ends_with(": No space left on device (os error 28)\n")
            && err.lines().count() == 1,
        "{err}"
    );
    assert!(tree(&whole) == tree(&tmp.path().join("resumed")), "the resumed run differs from the uninterrupted one");
}

#[test]
fn an_unwritable_output_directory_is_refused_before_rendering() {
    let tmp = tempfile::tempdir().unwrap();
    let script = "set -e; mkdir -p $T/ro; mount -t tmpfs -o ro,size=1m tmpfs $T/ro
         if $PINSYNTH render scenes/default.toml --out $T/ro/ds --quiet 2> $T/err; then echo 0 > $T/code; else echo $? > $T/code; fi";
    let o = in_private_mounts(script, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let err = std::fs::read_to_string(tmp.path().join("err")).unwrap();
    assert_eq!(std::fs::read_to_string(tmp.path().join("code")).unwrap(), "2\n", "{err}");
    assert_eq!(
        err,
        format!("error: cannot create directory {}/ro/ds/images: Read-only file system (os error 30)\n", s(tmp.path()))
    );
}

#[test]
fn merging_shards_from_another_file_system_copies_instead_of_linking() {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    ok(pinsynth(&[&["render", SCENE[0], "--out", s(&single)][..], &SCENE[1..]].concat()));
    let args = SCENE.join(" ");
    // Shards on a tmpfs of their own, merged into the test's directory: every hard link fails (EXDEV).
    let script = format!(
        "set -e; mkdir -p $T/shm; mount -t tmpfs -o size=64m tmpfs $T/shm
         for k in 0 1; do $PINSYNTH render --out $T/shm/s$k --shard $k/2 {args}; done
         $PINSYNTH merge $T/shm/s0 $T/shm/s1 --out $T/merged --format imagefolder,coco,wds --quiet
         stat -c %h $T/merged/images/000000.png > $T/links"
    );
    let o = in_private_mounts(&script, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(tree(&single) == tree(&tmp.path().join("merged")), "the merged shards differ from the single run");
    // Within the merged dataset the layouts are hard links of images/ again (same file system), as in
    // the single run; none is linked to the shard's copy on the other file system.
    use std::os::unix::fs::MetadataExt;
    let links = std::fs::metadata(single.join("images/000000.png")).unwrap().nlink();
    assert!(links >= 2);
    assert_eq!(std::fs::read_to_string(tmp.path().join("links")).unwrap(), format!("{links}\n"));
}

#[test]
fn merge_refuses_shards_of_another_scene_or_pinsynth_version() {
    let tmp = tempfile::tempdir().unwrap();
    let shard = |name: &str, k: &str, extra: &[&str]| {
        let dir = tmp.path().join(name);
        let base =
            ["render", "scenes/default.toml", "--out", s(&dir), "--shard", k, "--set", "sweep.count=6", "--quiet"];
        ok(pinsynth(&[&base[..], extra].concat()));
        dir
    };
    let (a0, a1) = (shard("a0", "0/2", &[]), shard("a1", "1/2", &[]));
    let b1 = shard("b1", "1/2", &["--set", "sweep.seed=9"]);
    let out = tmp.path().join("m");
    let o = pinsynth(&["merge", s(&a0), s(&b1), "--out", s(&out), "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {} was rendered from a different scene than {} (scene.resolved.toml differs)\n",
            s(&b1),
            s(&a0)
        )
    );
    let resolved = a1.join("scene.resolved.toml");
    let text = std::fs::read_to_string(&resolved).unwrap();
    let this = env!("CARGO_PKG_VERSION");
    std::fs::write(&resolved, text.replacen(&format!("pinsynth {this},"), "pinsynth 0.0.9,", 1)).unwrap();
    let o = pinsynth(&["merge", s(&a0), s(&a1), "--out", s(&out), "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {} was rendered by pinsynth 0.0.9, this is pinsynth {this}; render its shard again with this version (or merge with that one)\n",
            s(&a1)
        )
    );
    assert!(!out.exists(), "nothing written");
}
