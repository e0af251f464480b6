//! `pinsynth score` end to end on a rendered dataset: maps made from the ground truth score 1, their
//! inverse 0, a uniform map's relevance mass is the region's share of the image; every map format;
//! bad input named; reruns byte-identical whatever the thread count; and the interop check against
//! Quantus and scikit-learn (`tests/interop/score_quantus.py`, same interpreter rules as
//! tests/interop.rs: `$PINSYNTH_PYTHON` else `.venv/bin/python`; ignored with a "skipped" line when
//! missing, failing under `CI`).

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

mod common;
use common::{check, pinsynth, python, repo};

fn run_ok(mut c: Command) -> Result<String, Failed> {
    let o = c.output().map_err(|e| format!("cannot run pinsynth: {e}"))?;
    if !o.status.success() {
        return Err(format!("pinsynth failed: {}", String::from_utf8_lossy(&o.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&o.stdout).to_string())
}

/// A `.npy` file written by hand (format 1.0): `descr` `<f4`/`<f8`/`>f8`, C or Fortran order.
pub fn npy_bytes(descr: &str, fortran: bool, shape: &[usize], values_c_order: &[f64]) -> Vec<u8> {
    let shape_txt = match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape_txt}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    let ordered: Vec<f64> = if fortran && shape.len() == 2 {
        let (h, w) = (shape[0], shape[1]);
        (0..w).flat_map(|c| (0..h).map(move |r| (r, c))).map(|(r, c)| values_c_order[r * w + c]).collect()
    } else {
        values_c_order.to_vec()
    };
    for v in ordered {
        match descr {
            "<f4" => out.extend((v as f32).to_le_bytes()),
            "<f8" => out.extend(v.to_le_bytes()),
            ">f8" => out.extend(v.to_be_bytes()),
            "<i4" => out.extend((v as i32).to_le_bytes()),
            _ => panic!("descr {descr}"),
        }
    }
    out
}

struct Fixture {
    dataset: PathBuf,
    records: Vec<Value>,
    _tmp: tempfile::TempDir,
}

impl Fixture {
    fn dir(&self, name: &str) -> PathBuf {
        let d = self._tmp.path().join(name);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }

    /// Ground-truth MVTec masks (val/test NG images): id → (width, height, 0/255 pixels).
    fn gt_masks(&self) -> Vec<(String, u32, u32, Vec<u8>)> {
        let mut out = Vec::new();
        for r in &self.records {
            let id = r["id"].as_str().expect("id");
            let Some(t) = r["defect"]["type"].as_str() else { continue };
            let p = self.dataset.join(format!("mvtec/connector/ground_truth/{t}/{id}_mask.png"));
            if let Ok(img) = image::open(&p) {
                let g = img.into_luma8();
                out.push((id.to_string(), g.width(), g.height(), g.into_raw()));
            }
        }
        out
    }
}

/// 80 images at 96², seed 1 (all four defect types, missing terminals among them), MVTec layout for
/// its ground-truth masks.
fn fixture() -> Result<Fixture, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dataset = tmp.path().join("ds");
    let o = pinsynth()
        .args(["render", "scenes/default.toml", "--quiet", "--out"])
        .arg(&dataset)
        .args(["--format", "imagefolder,mvtec"])
        .args(["--set", "sweep.count=80", "--set", "sweep.seed=1", "--set", "sweep.ok_fraction=0.25"])
        .args(["--set", "image.width=96", "--set", "image.height=96"])
        .output()
        .map_err(|e| e.to_string())?;
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).to_string());
    }
    let text = std::fs::read_to_string(dataset.join("manifest.jsonl")).map_err(|e| e.to_string())?;
    let records = text.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    Ok(Fixture { dataset, records, _tmp: tmp })
}

fn score(f: &Fixture, maps: &Path, out: &Path, extra: &[&str]) -> Result<Value, Failed> {
    let mut c = pinsynth();
    c.arg("score").arg(&f.dataset).arg("--maps").arg(maps).arg("--out").arg(out).args(extra);
    run_ok(c)?;
    Ok(serde_json::from_slice(&std::fs::read(out).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?)
}

fn png_gray(path: &Path, w: u32, h: u32, px: Vec<u8>) {
    image::GrayImage::from_raw(w, h, px).expect("size").save(path).expect("save");
}

/// Maps equal to the ground truth (255 on the region): every metric 1; OK images of test/good get
/// an all-zero map (peak 0, total 0); images without a map are listed.
fn oracle(f: &Fixture) -> Result<(), Failed> {
    let maps = f.dir("oracle");
    let gt = f.gt_masks();
    check(gt.len() >= 10, format!("only {} ground-truth masks", gt.len()))?;
    for (id, w, h, px) in &gt {
        png_gray(&maps.join(format!("{id}.png")), *w, *h, px.clone());
    }
    let ok_ids: Vec<String> = std::fs::read_dir(f.dataset.join("mvtec/connector/test/good"))
        .map_err(|e| e.to_string())?
        .map(|e| e.expect("entry").path().file_stem().expect("stem").to_string_lossy().to_string())
        .collect();
    for id in &ok_ids {
        std::fs::write(maps.join(format!("{id}.npy")), npy_bytes("<f4", false, &[12, 12], &[0.0; 144])).expect("write");
    }
    let s = score(f, &maps, &f.dir("out").join("oracle.json"), &["--tolerance", "0"])?;
    check(s["images"] == gt.len() + ok_ids.len(), format!("images {}", s["images"]))?;
    for m in ["pointing_game", "energy_pointing_game", "relevance_mass", "relevance_rank", "pixel_auroc"] {
        check(s["overall"][m] == 1.0, format!("overall {m} = {}", s["overall"][m]))?;
    }
    check(s["by_type"]["missing"]["ng"].as_u64() > Some(0), "no missing terminal scored (ghost region)")?;
    check(s["overall"]["ok_peak"] == 0.0 && s["overall"]["ok_total"] == 0.0, "OK peak/total")?;
    let missing = s["missing_maps"].as_array().expect("missing_maps").len();
    check(missing == f.records.len() - gt.len() - ok_ids.len(), format!("missing_maps {missing}"))?;
    check(s["per_image"][0].get("type").is_some() && s["by_split"].get("test").is_some(), "JSON shape")?;
    Ok(())
}

/// The inverse of the ground truth: pointing game 0 (tolerance 0), relevance rank 0, AUROC 0.
fn inverse(f: &Fixture) -> Result<(), Failed> {
    let maps = f.dir("inverse");
    for (id, w, h, px) in f.gt_masks() {
        png_gray(&maps.join(format!("{id}.png")), w, h, px.iter().map(|v| 255 - v).collect());
    }
    let s = score(f, &maps, &f.dir("out").join("inverse.json"), &["--tolerance", "0"])?;
    for m in ["pointing_game", "relevance_mass", "relevance_rank", "pixel_auroc"] {
        check(s["overall"][m] == 0.0, format!("overall {m} = {}", s["overall"][m]))?;
    }
    // With the default 15 px tolerance the maxima (every pixel off the region) near it hit: the
    // score is the share of them within 15 px, strictly between 0 and 1.
    let s = score(f, &maps, &f.dir("out").join("inverse15.json"), &[])?;
    let pg = s["overall"]["pointing_game"].as_f64().ok_or("null")?;
    check(pg > 0.0 && pg < 1.0, format!("pg@15 {pg}"))
}

/// A uniform map (any size) scores the region's share of the image as relevance mass and rank.
fn uniform(f: &Fixture) -> Result<(), Failed> {
    let maps = f.dir("uniform");
    let gt = f.gt_masks();
    for (id, ..) in &gt {
        std::fs::write(maps.join(format!("{id}.npy")), npy_bytes("<f8", false, &[5, 7], &[0.25; 35])).expect("write");
    }
    let s = score(f, &maps, &f.dir("out").join("uniform.json"), &[])?;
    for (i, (id, _, _, px)) in gt.iter().enumerate() {
        let e = &s["per_image"][i];
        check(e["id"] == id.as_str(), "order")?;
        let share = px.iter().filter(|&&v| v == 255).count() as f64 / px.len() as f64;
        for m in ["relevance_mass", "relevance_rank"] {
            let v = e[m].as_f64().ok_or("null")?;
            check((v - share).abs() < 1e-12, format!("{id}: {m} {v} != region share {share}"))?;
        }
        check(e["pixel_auroc"] == 0.5, format!("{id}: auroc {}", e["pixel_auroc"]))?;
        check(e["total"] == 0.25 * 96.0 * 96.0 && e["peak"] == 0.25, "peak/total")?;
    }
    Ok(())
}

/// Formats: the same values as .npy f4/f8 (C, Fortran, big-endian) and 8/16-bit PNG score alike.
fn formats(f: &Fixture) -> Result<(), Failed> {
    let gt = f.gt_masks();
    let (id, ..) = &gt[0];
    let (w, h) = (30usize, 20usize);
    let vals: Vec<f64> = (0..w * h).map(|i| ((i * 37) % 251) as f64).collect();
    let variants: Vec<(&str, &str, Vec<u8>)> = vec![
        ("f4", "npy", npy_bytes("<f4", false, &[h, w], &vals)),
        ("f8", "npy", npy_bytes("<f8", false, &[h, w], &vals)),
        ("fortran", "npy", npy_bytes("<f8", true, &[h, w], &vals)),
        ("big", "npy", npy_bytes(">f8", false, &[h, w], &vals)),
    ];
    let mut results = Vec::new();
    for (name, ext, bytes) in variants {
        let d = f.dir(&format!("fmt_{name}"));
        std::fs::write(d.join(format!("{id}.{ext}")), bytes).expect("write");
        results.push((name, score(f, &d, &f.dir("out").join(format!("fmt_{name}.json")), &[])?));
    }
    let d8 = f.dir("fmt_png8");
    png_gray(&d8.join(format!("{id}.png")), w as u32, h as u32, vals.iter().map(|&v| v as u8).collect());
    results.push(("png8", score(f, &d8, &f.dir("out").join("fmt_png8.json"), &[])?));
    let d16 = f.dir("fmt_png16");
    let px16: Vec<u16> = vals.iter().map(|&v| v as u16 * 256).collect();
    image::ImageBuffer::<image::Luma<u16>, _>::from_raw(w as u32, h as u32, px16)
        .expect("size")
        .save(d16.join(format!("{id}.png")))
        .expect("save");
    results.push(("png16", score(f, &d16, &f.dir("out").join("fmt_png16.json"), &[])?));
    let reference = &results[0].1["per_image"][0];
    for (name, s) in &results {
        let e = &s["per_image"][0];
        for m in ["pointing_game", "relevance_mass", "relevance_rank", "pixel_auroc"] {
            let scale = if *name == "png16" && m == "total" { 256.0 } else { 1.0 };
            let (a, b) = (e[m].as_f64().ok_or("null")?, reference[m].as_f64().ok_or("null")? * scale);
            check((a - b).abs() < 1e-9, format!("{name}: {m} {a} != {b}"))?;
        }
    }
    Ok(())
}

fn fails(f: &Fixture, maps: &Path, extra: &[&str], expect: &[&str]) -> Result<Output, Failed> {
    let out = f.dir("err_out").join("never.json");
    let o = pinsynth()
        .arg("score")
        .arg(&f.dataset)
        .arg("--maps")
        .arg(maps)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .output()
        .map_err(|e| e.to_string())?;
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    check(o.status.code() == Some(1), format!("exit {:?}: {err}", o.status.code()))?;
    for e in expect {
        check(err.contains(e), format!("stderr lacks {e:?}: {err}"))?;
    }
    check(!out.exists(), "wrote output despite the error")?;
    Ok(o)
}

/// Bad input: clear message naming the file, exit 1, nothing written.
fn errors(f: &Fixture) -> Result<(), Failed> {
    let id = f.records[0]["id"].as_str().expect("id").to_string();
    let d = f.dir("bad_shape");
    std::fs::write(d.join(format!("{id}.npy")), npy_bytes("<f4", false, &[2, 3, 4], &[0.0; 24])).expect("w");
    fails(f, &d, &[], &[&format!("{id}.npy"), "must be a 2-D array", "[2, 3, 4]"])?;
    let d = f.dir("bad_value");
    let mut v = vec![0.5; 12];
    v[7] = f64::NAN;
    std::fs::write(d.join(format!("{id}.npy")), npy_bytes("<f8", false, &[3, 4], &v)).expect("w");
    fails(f, &d, &[], &[&format!("{id}.npy"), "non-finite value NaN at row 1, column 3"])?;
    let d = f.dir("bad_dtype");
    std::fs::write(d.join(format!("{id}.npy")), npy_bytes("<i4", false, &[3, 4], &[1.0; 12])).expect("w");
    fails(f, &d, &[], &[&format!("{id}.npy"), "float32 or float64", "<i4"])?;
    let d = f.dir("bad_rgb");
    image::RgbImage::new(4, 4).save(d.join(format!("{id}.png"))).expect("save");
    fails(f, &d, &[], &[&format!("{id}.png"), "8- or 16-bit grayscale"])?;
    let d = f.dir("both");
    std::fs::write(d.join(format!("{id}.npy")), npy_bytes("<f8", false, &[3, 4], &[1.0; 12])).expect("w");
    png_gray(&d.join(format!("{id}.png")), 2, 2, vec![1; 4]);
    fails(f, &d, &[], &["both", &format!("{id}.npy"), "keep one map per image"])?;
    let d = f.dir("unrelated");
    std::fs::write(d.join("cat.npy"), npy_bytes("<f8", false, &[3, 4], &[1.0; 12])).expect("w");
    fails(f, &d, &[], &["no map in", "is named after an image of", "000000.npy"])?;
    fails(f, &f.dir("x").join("nope"), &[], &["maps directory", "nope", "does not exist"])?;
    fails(f, &d, &["--tolerance=-1"], &["--tolerance -1", "≥ 0"])?;
    let o = pinsynth().args(["score", "/nonexistent/ds", "--maps"]).arg(&d).output().map_err(|e| e.to_string())?;
    let err = String::from_utf8_lossy(&o.stderr);
    check(o.status.code() == Some(1) && err.contains("/nonexistent/ds is not a pinsynth dataset"), format!("{err}"))?;
    // An existing output is kept unless --overwrite.
    let maps = f.dir("ok_once");
    std::fs::write(maps.join(format!("{id}.npy")), npy_bytes("<f8", false, &[3, 4], &[1.0; 12])).expect("w");
    let out = f.dir("exists").join("s.json");
    std::fs::write(&out, b"precious").expect("w");
    let o = pinsynth()
        .arg("score")
        .arg(&f.dataset)
        .arg("--maps")
        .arg(&maps)
        .arg("--out")
        .arg(&out)
        .output()
        .map_err(|e| e.to_string())?;
    check(o.status.code() == Some(1) && String::from_utf8_lossy(&o.stderr).contains("pass --overwrite"), "exists")?;
    check(std::fs::read(&out).map_err(|e| e.to_string())? == b"precious", "overwrote")?;
    score(f, &maps, &out, &["--overwrite"]).map(|_| ())
}

/// Random maps, scored twice with 1 and 2 threads: JSON, CSV and sheet byte-identical. Returns the
/// directory (the interop check reads it).
fn random_maps(f: &Fixture, dir: &str) -> PathBuf {
    let maps = f.dir(dir);
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for (i, r) in f.records.iter().enumerate() {
        let id = r["id"].as_str().expect("id");
        if i % 9 == 8 {
            continue; // some images without a map
        }
        let (w, h) = [(96, 96), (24, 24), (70, 50), (48, 48), (128, 112)][i % 5];
        // Two Gaussian blobs, one near the defect half of the time, plus noise; a little below 0.
        let (cx, cy) = match r["defect"]["bbox_px"].as_array() {
            Some(b) if next() < 0.5 => {
                let b: Vec<f64> = b.iter().map(|v| v.as_f64().expect("f")).collect();
                (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0)
            }
            _ => (next() * 96.0, next() * 96.0),
        };
        let (dx, dy) = (next() * 96.0, next() * 96.0);
        let mut vals = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let (u, v) = ((x as f64 + 0.5) * 96.0 / w as f64, (y as f64 + 0.5) * 96.0 / h as f64);
                let g = (-((u - cx).powi(2) + (v - cy).powi(2)) / 60.0).exp()
                    + 0.6 * (-((u - dx).powi(2) + (v - dy).powi(2)) / 200.0).exp();
                vals.push(g + 0.05 * next() - 0.02);
            }
        }
        let path = maps.join(format!("{id}.{}", if i % 5 == 3 { "png" } else { "npy" }));
        match i % 5 {
            0 => std::fs::write(&path, npy_bytes("<f4", false, &[h, w], &vals)).expect("w"),
            1 | 2 => std::fs::write(&path, npy_bytes("<f8", i % 5 == 2, &[h, w], &vals)).expect("w"),
            3 => {
                let px: Vec<u16> = vals.iter().map(|v| (v.clamp(0.0, 1.0) * 65535.0).round() as u16).collect();
                image::ImageBuffer::<image::Luma<u16>, _>::from_raw(w as u32, h as u32, px)
                    .expect("size")
                    .save(&path)
                    .expect("save");
            }
            _ => std::fs::write(&path, npy_bytes(">f8", false, &[h, w], &vals)).expect("w"),
        }
    }
    maps
}

fn deterministic(f: &Fixture, maps: &Path) -> Result<(), Failed> {
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let d = f.dir(&format!("det{threads}"));
        let mut c = pinsynth();
        c.env("RAYON_NUM_THREADS", threads).arg("score").arg(&f.dataset).arg("--maps").arg(maps);
        c.arg("--out").arg(d.join("s.json")).arg("--csv").arg(d.join("s.csv"));
        run_ok(c)?;
        let read = |n: &str| std::fs::read(d.join(n)).map_err(|e| format!("{n}: {e}"));
        outs.push((read("s.json")?, read("s.csv")?, read("s_worst.png")?));
    }
    check(outs[0] == outs[1], "JSON, CSV or sheet differ between 1 and 2 threads")?;
    let csv = String::from_utf8_lossy(&outs[0].1).to_string();
    check(csv.starts_with("id,type,split,status,map,pointing_game,energy_pointing_game,relevance_mass,relevance_rank,pixel_auroc,peak,total\n"), "csv header")?;
    check(csv.lines().count() == f.records.len() + 1 && csv.contains(",no_map,"), "csv rows")?;
    let sheet = image::open(f.dir("det1").join("s_worst.png")).map_err(|e| e.to_string())?.to_rgb8();
    check(
        sheet.width() == 4 * 100 + 4 && sheet.height() == 4 * 100 + 4,
        format!("sheet {}×{}", sheet.width(), sheet.height()),
    )?;
    // The outline colour (cyan) and the peak cross (white) are drawn.
    check(sheet.pixels().any(|p| p.0 == [0, 255, 255]) && sheet.pixels().any(|p| p.0 == [255, 255, 255]), "sheet marks")
}

const PACKAGES: &str = "numpy, PIL, scipy, cv2, sklearn, quantus";

/// Quantus and scikit-learn on the same maps, read and resampled on the Python side.
fn interop(f: &Fixture, maps: &Path) -> Result<(), Failed> {
    let out = f.dir("interop").join("score.json");
    score(f, maps, &out, &[])?;
    let script = repo().join("tests/interop/score_quantus.py");
    let o = Command::new(python())
        .arg(&script)
        .arg(&f.dataset)
        .arg(maps)
        .arg(&out)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python().display()))?;
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    eprintln!("{text}");
    check(o.status.success(), format!("{} failed:\n{text}", script.display()))
}

fn main() {
    let args = Arguments::from_args();
    let fixture = if args.list { None } else { Some(fixture().map(Arc::new)) };
    let get = move || -> Result<Arc<Fixture>, Failed> {
        match &fixture {
            Some(Ok(f)) => Ok(f.clone()),
            Some(Err(e)) => Err(format!("render failed: {e}").into()),
            None => Err("not rendered".into()),
        }
    };
    let mut trials = Vec::new();
    type Case = fn(&Fixture) -> Result<(), Failed>;
    let cases: [(&str, Case); 5] = [
        ("oracle_maps_score_one", oracle),
        ("inverse_maps_score_zero", inverse),
        ("uniform_map_relevance_mass_is_region_share", uniform),
        ("map_formats_agree", formats),
        ("bad_input_is_named", errors),
    ];
    for (name, case) in cases {
        let get = get.clone();
        trials.push(Trial::test(name, move || case(&*get()?)));
    }
    let g = get.clone();
    trials.push(Trial::test("reruns_are_byte_identical", move || {
        let f = g()?;
        deterministic(&f, &random_maps(&f, "random"))
    }));
    let python = python();
    let name = "interop_quantus_sklearn";
    trials.push(match common::python_problem(&python, PACKAGES) {
        Some(p) if std::env::var_os("CI").is_some() => {
            let msg = format!("{p}; run scripts/setup-python.sh (or set PINSYNTH_PYTHON) before the tests");
            Trial::test(name, move || Err(msg.into()))
        }
        Some(p) => {
            let msg = format!("skipped: {name}: {p}; run scripts/setup-python.sh");
            eprintln!("{msg}");
            Trial::test(name, move || Err(msg.into())).with_ignored_flag(true)
        }
        None => {
            let g = get.clone();
            Trial::test(name, move || {
                let f = g()?;
                let maps = random_maps(&f, "random_interop");
                interop(&f, &maps)
            })
        }
    });
    libtest_mimic::run(&args, trials).exit();
}
