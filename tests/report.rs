//! `pinsynth report`: the page's content (counts, sheets, histograms, examples, score results), every
//! image it references exists, reruns are byte-identical, and in headless Chromium (Debian's
//! `chromium`; `$PINSYNTH_CHROMIUM` selects another) the page loads without console messages, every
//! image resolves and the screenshot is not blank. Without Chromium the browser test is reported
//! ignored with a "skipped" line; under `CI` it fails.

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

mod common;
use common::{check, pinsynth};

fn run(mut c: Command) -> Result<String, String> {
    let o = c.output().map_err(|e| e.to_string())?;
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).to_string());
    }
    Ok(String::from_utf8_lossy(&o.stdout).to_string())
}

struct Fixture {
    dataset: PathBuf,
    records: Vec<Value>,
    tmp: tempfile::TempDir,
}

/// 48 randomized images at 96², heat maps for all but a few (peaked near the defect for half of the
/// NG images), scored, then the report written to DATASET/report.
fn fixture() -> Result<Fixture, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dataset = tmp.path().join("ds");
    let mut c = pinsynth();
    c.args(["render", "scenes/randomized.toml", "--quiet", "--out"]).arg(&dataset);
    c.args(["--set", "sweep.count=48", "--set", "image.width=96", "--set", "image.height=96"]);
    run(c)?;
    let text = std::fs::read_to_string(dataset.join("manifest.jsonl")).map_err(|e| e.to_string())?;
    let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let maps = tmp.path().join("maps");
    std::fs::create_dir(&maps).map_err(|e| e.to_string())?;
    for (i, r) in records.iter().enumerate().filter(|(i, _)| i % 7 != 3) {
        let (cx, cy) = match r["defect"]["bbox_px"].as_array() {
            Some(b) if i % 2 == 0 => {
                let b: Vec<f64> = b.iter().map(|v| v.as_f64().expect("f")).collect();
                (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0)
            }
            _ => ((i * 29 % 96) as f64, (i * 53 % 96) as f64),
        };
        let img = image::GrayImage::from_fn(32, 32, |x, y| {
            let (u, v) = (x as f64 * 3.0 + 1.5, y as f64 * 3.0 + 1.5);
            image::Luma([(255.0 * (-((u - cx).powi(2) + (v - cy).powi(2)) / 80.0).exp()) as u8])
        });
        img.save(maps.join(format!("{}.png", r["id"].as_str().expect("id")))).map_err(|e| e.to_string())?;
    }
    let mut c = pinsynth();
    c.arg("score").arg(&dataset).arg("--maps").arg(&maps);
    run(c)?;
    let mut c = pinsynth();
    c.arg("report").arg(&dataset);
    run(c)?;
    Ok(Fixture { dataset, records, tmp })
}

/// The `src` of every `<img>` in the page.
fn img_sources(html: &str) -> Vec<String> {
    html.split("<img ").skip(1).filter_map(|t| t.split("src=\"").nth(1)?.split('"').next().map(String::from)).collect()
}

fn content(f: &Fixture) -> Result<(), Failed> {
    let report = f.dataset.join("report");
    let html = std::fs::read_to_string(report.join("index.html")).map_err(|e| e.to_string())?;
    // Counts: the table's total row matches the manifest per class.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in &f.records {
        let class = r["defect"]["type"].as_str().map_or("ok".to_string(), |t| format!("ng_{t}"));
        *counts.entry(class).or_default() += 1;
    }
    let all_row = html.split("<tr><th>all</th>").nth(1).ok_or("no totals row")?.split("</tr>").next().unwrap_or("");
    let cells: Vec<&str> = all_row.split("<th>").skip(1).map(|c| c.trim_end_matches("</th>")).collect();
    let expected: Vec<String> = ["ok", "ng_offset", "ng_tilt", "ng_offset_tilt", "ng_missing"]
        .iter()
        .map(|c| counts.get(*c).copied().unwrap_or(0).to_string())
        .chain([f.records.len().to_string()])
        .collect();
    check(cells == expected, format!("totals row {cells:?}, manifest {expected:?}"))?;
    // Sheets per class and per defect type present in the dataset; histograms of the defect parameters
    // and of every randomized value; score results and the worst-images sheet.
    for class in counts.keys() {
        check(html.contains(&format!("img/sheet_{class}.png")), format!("no sheet for {class}"))?;
    }
    check(html.contains("img/sheet_ng.png"), "no NG sheet")?;
    let mut keys: Vec<String> = vec!["defect.grad.x".into(), "defect.dpos.z".into()];
    if let Some(Value::Object(m)) = f.records.iter().find_map(|r| r.get("randomize")) {
        for (k, v) in m {
            keys.push(match v {
                Value::Array(_) => format!("randomize.{k}[0]"),
                _ => format!("randomize.{k}"),
            });
        }
    }
    check(keys.len() > 8, format!("randomized scene draws too little: {keys:?}"))?;
    for k in &keys {
        check(html.contains(&format!("<title>{k}</title>")), format!("no histogram of {k}"))?;
    }
    check(
        html.contains("Heat-map scores") && html.contains("pointing_game") && html.contains("img/score_worst.png"),
        "no score section",
    )?;
    // Every image the page references exists and decodes; the worst sheet is score's own.
    let srcs = img_sources(&html);
    check(srcs.len() >= 8, format!("only {} images", srcs.len()))?;
    for s in &srcs {
        image::open(report.join(s)).map_err(|e| format!("{s}: {e}"))?;
    }
    check(
        std::fs::read(report.join("img/score_worst.png")).ok() == std::fs::read(f.dataset.join("score_worst.png")).ok(),
        "worst sheet differs from score's",
    )?;
    // The sheet of missing terminals shows the ghost outline (cyan) although nothing stands there.
    if counts.contains_key("ng_missing") {
        let sheet = image::open(report.join("img/sheet_ng_missing.png")).map_err(|e| e.to_string())?.to_rgb8();
        check(sheet.pixels().any(|p| p.0 == [0, 255, 255]), "no cyan outline on the missing-terminal sheet")?;
    }
    Ok(())
}

fn rerun_and_refusal(f: &Fixture) -> Result<(), Failed> {
    let again = f.tmp.path().join("again");
    let mut c = pinsynth();
    c.arg("report").arg(&f.dataset).arg("--out").arg(&again);
    run(c)?;
    let read = |d: &Path| -> BTreeMap<String, Vec<u8>> {
        let mut m = BTreeMap::new();
        for sub in ["", "img"] {
            for e in std::fs::read_dir(d.join(sub)).expect("dir") {
                let p = e.expect("entry").path();
                if p.is_file() {
                    m.insert(
                        format!("{sub}/{}", p.file_name().expect("n").to_string_lossy()),
                        std::fs::read(&p).expect("r"),
                    );
                }
            }
        }
        m
    };
    check(read(&again) == read(&f.dataset.join("report")), "second report differs")?;
    // An existing non-empty folder is kept unless --overwrite; a missing dataset is named.
    let o = pinsynth().arg("report").arg(&f.dataset).arg("--out").arg(&again).output().map_err(|e| e.to_string())?;
    let err = String::from_utf8_lossy(&o.stderr);
    check(o.status.code() == Some(1) && err.contains("again exists; pass --overwrite"), format!("{err}"))?;
    let o = pinsynth().args(["report", "/nonexistent/ds"]).output().map_err(|e| e.to_string())?;
    let err = String::from_utf8_lossy(&o.stderr);
    check(o.status.code() == Some(1) && err.contains("/nonexistent/ds is not a pinsynth dataset"), format!("{err}"))
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PINSYNTH_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n))).find(|p| p.is_file())
}

/// Runs headless Chromium on a page: its console lines and the screenshot.
fn browse(chromium: &Path, page: &Path, shot: &Path) -> Result<Vec<String>, String> {
    let profile = shot.with_extension("profile");
    let o = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"])
        .args(["--enable-logging=stderr", "--v=0", "--window-size=1200,2400"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", chromium.display()))?;
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    if !o.status.success() || !shot.is_file() {
        return Err(format!("chromium failed ({}): {stderr}", o.status));
    }
    Ok(stderr.lines().filter(|l| l.contains(":CONSOLE")).map(String::from).collect())
}

fn browser(f: &Fixture, chromium: &Path) -> Result<(), Failed> {
    let report = f.dataset.join("report");
    let shot = f.tmp.path().join("shot.png");
    let console = browse(chromium, &report.join("index.html"), &shot)?;
    check(console.is_empty(), format!("console messages: {console:?}"))?;
    // Not blank: the screenshot has real contrast and many non-white pixels.
    let img = image::open(&shot).map_err(|e| e.to_string())?.to_luma8();
    let n = img.len() as f64;
    let mean = img.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = img.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    let dark = img.iter().filter(|&&v| v < 128).count() as f64 / n;
    check(var > 400.0 && dark > 0.05, format!("screenshot looks blank: variance {var:.1}, dark share {dark:.3}"))?;
    // Every image resolves: the same page with a load-time check of document.images (a copy beside
    // it, so relative paths are the same).
    let html = std::fs::read_to_string(report.join("index.html")).map_err(|e| e.to_string())?;
    let probe = r#"<script>addEventListener("load",()=>{const b=[...document.images].filter(i=>!(i.complete&&i.naturalWidth>0));for(const i of b)console.log("broken image: "+i.getAttribute("src"));console.log("images: "+document.images.length+" loaded, "+b.length+" broken")});</script></body>"#;
    let check_page = report.join("check.html");
    std::fs::write(&check_page, html.replace("</body>", probe)).map_err(|e| e.to_string())?;
    let lines = browse(chromium, &check_page, &f.tmp.path().join("shot2.png"))?;
    std::fs::remove_file(&check_page).map_err(|e| e.to_string())?;
    let want = format!("\"images: {} loaded, 0 broken\"", img_sources(&html).len());
    check(lines.len() == 1 && lines[0].contains(&want), format!("expected {want}, console: {lines:?}"))
}

fn main() {
    let args = Arguments::from_args();
    let fixture = if args.list { None } else { Some(fixture().map(Arc::new)) };
    let get = move || -> Result<Arc<Fixture>, Failed> {
        match &fixture {
            Some(Ok(f)) => Ok(f.clone()),
            Some(Err(e)) => Err(format!("fixture failed: {e}").into()),
            None => Err("not prepared".into()),
        }
    };
    let g1 = get.clone();
    let g2 = get.clone();
    let mut trials = vec![
        Trial::test("page_has_counts_sheets_histograms_scores", move || content(&*g1()?)),
        Trial::test("rerun_identical_and_refusals", move || rerun_and_refusal(&*g2()?)),
    ];
    let name = "headless_chromium_loads_page";
    trials.push(match chromium() {
        Some(c) => Trial::test(name, move || browser(&*get()?, &c)),
        None if std::env::var_os("CI").is_some() => {
            Trial::test(name, || Err("chromium not found; .ci/run installs Debian's chromium".into()))
        }
        None => {
            let msg =
                format!("skipped: {name}: chromium not found (apt-get install chromium, or set PINSYNTH_CHROMIUM)");
            eprintln!("{msg}");
            Trial::test(name, move || Err(msg.into())).with_ignored_flag(true)
        }
    });
    libtest_mimic::run(&args, trials).exit();
}
