//! `pinsynth report`: one static HTML page about a dataset (`index.html` plus its PNGs in `img/`,
//! opens from disk without a server, no script): image counts per split × label × defect type,
//! contact sheets per class and per defect type with the terminals' mask outlines (the defective one in
//! cyan, its box in yellow), histograms of the defect parameters and of every randomized value,
//! full-size examples with keypoints and boxes, and `score`'s results when it has written them.

mod svg;

use crate::dataset::{WriteError, write_atomic};
use crate::score::sheet::{self, BOX, OUTLINE};
use crate::score::{ScoreError, read_manifest, read_mask, region};
use crate::truth::Record;
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_circle_mut, draw_hollow_rect_mut};
use imageproc::rect::Rect;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Options of `report`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportOptions {
    /// Output folder (default `DATASET/report`).
    pub out: PathBuf,
    pub overwrite: bool,
    /// `score`'s JSON to show (default `DATASET/score.json` when it exists).
    pub score: Option<PathBuf>,
    /// Images per contact sheet.
    pub per_sheet: usize,
    /// Full-size examples.
    pub examples: usize,
}

const TERMINAL: Rgb<u8> = Rgb([60, 200, 90]);
const TOP: Rgb<u8> = Rgb([255, 40, 40]);
const BOTTOM: Rgb<u8> = Rgb([60, 120, 255]);
const THUMB: u32 = 160;

/// HTML-escapes text.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn class_of(r: &Record) -> String {
    r.defect_type().map_or_else(|| "ok".to_string(), |t| format!("ng_{t}"))
}

/// The image with every terminal's mask outline (green), the defect region (cyan) and box (yellow).
fn outlined(dataset: &Path, r: &Record) -> Result<RgbImage, ScoreError> {
    let mut img = sheet::read_image(dataset, r)?;
    let mask = read_mask(dataset, r)?;
    for p in &r.pins {
        let reg: Vec<bool> = mask.iter().map(|&m| m == p.label).collect();
        if p.pixels > 0 && !p.defective {
            sheet::outline_blend(&mut img, &reg, TERMINAL, 0.4);
        }
    }
    if let Some(b) = crate::score::box_flags(r) {
        sheet::outline(&mut img, &b, BOX);
    }
    if let Some(reg) = region(r, Some(&mask)) {
        sheet::outline(&mut img, &reg, OUTLINE);
    }
    Ok(img)
}

fn thumb(img: &RgbImage) -> RgbImage {
    let s = (THUMB as f64 / img.width().max(img.height()) as f64).min(1.0);
    let (w, h) = (((img.width() as f64 * s).round() as u32).max(1), ((img.height() as f64 * s).round() as u32).max(1));
    image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle)
}

/// A full-size example: outlines, plus every terminal's keypoints (top red, bottom blue) and mask box.
fn example(dataset: &Path, r: &Record) -> Result<RgbImage, ScoreError> {
    let mut img = outlined(dataset, r)?;
    let radius = if r.width.max(r.height) < 200 { 1 } else { 2 };
    for p in &r.pins {
        if let Some([x, y, w, h]) = p.bbox {
            draw_hollow_rect_mut(&mut img, Rect::at(x as i32 - 1, y as i32 - 1).of_size(w + 2, h + 2), TERMINAL);
        }
        for (pt, c) in [(p.bottom_px, BOTTOM), (p.top_px, TOP)] {
            draw_filled_circle_mut(&mut img, (pt[0].floor() as i32, pt[1].floor() as i32), radius, c);
        }
    }
    Ok(img)
}

fn write_png(path: &Path, img: &RgbImage) -> Result<(), ScoreError> {
    let png = crate::codec::png_rgb(img.as_raw(), img.width(), img.height())
        .map_err(|source| WriteError::Encode { path: path.to_path_buf(), source })?;
    Ok(write_atomic(path, &png)?)
}

/// The values to draw histograms of: the defect parameters of the NG images whose type uses them,
/// then every randomized value (arrays by component), by name.
fn histogram_values(records: &[Record]) -> BTreeMap<String, Vec<f64>> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in records {
        if let Some(d) = &r.defect {
            let t = d.defect_type.as_str();
            if t.starts_with("offset") {
                for (k, v) in ["x", "y", "z"].iter().zip(d.dpos) {
                    out.entry(format!("defect.dpos.{k}")).or_default().push(v);
                }
            }
            if t.ends_with("tilt") {
                for (k, v) in ["x", "y"].iter().zip(d.grad) {
                    out.entry(format!("defect.grad.{k}")).or_default().push(v);
                }
            }
        }
        if let Some(Ok(serde_json::Value::Object(m))) = r.randomize.as_ref().map(serde_json::to_value) {
            for (k, v) in m {
                match v {
                    serde_json::Value::Number(n) => out.entry(format!("randomize.{k}")).or_default().extend(n.as_f64()),
                    serde_json::Value::Array(a) => {
                        for (i, x) in a.iter().enumerate() {
                            out.entry(format!("randomize.{k}[{i}]")).or_default().extend(x.as_f64());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

fn counts_table(records: &[Record]) -> String {
    // Every defect type's column; one that no image has and that datasets made before it never had
    // (bent) is left out, so older reports stay as they were.
    let present: std::collections::BTreeSet<String> = records.iter().map(class_of).collect();
    let classes: Vec<String> = std::iter::once("ok".to_string())
        .chain(crate::conventions::DefectType::ALL.iter().map(|t| format!("ng_{}", t.as_str())))
        .filter(|c| c != "ng_bent" || present.contains(c))
        .collect();
    let mut rows: BTreeMap<(u8, String), BTreeMap<String, usize>> = BTreeMap::new();
    for r in records {
        let (order, name) = match (r.excluded, r.split) {
            (true, _) => (4, "excluded (balance)".to_string()),
            (false, s) => (s as u8, s.as_str().to_string()),
        };
        *rows.entry((order, name)).or_default().entry(class_of(r)).or_default() += 1;
    }
    let mut s = String::from("<table><tr><th>split</th>");
    for c in &classes {
        let _ = write!(s, "<th>{c}</th>");
    }
    s.push_str("<th>total</th></tr>");
    let mut totals = BTreeMap::<String, usize>::new();
    for ((_, name), counts) in &rows {
        let _ = write!(s, "<tr><td>{}</td>", esc(name));
        for c in &classes {
            let n = counts.get(c).copied().unwrap_or(0);
            *totals.entry(c.clone()).or_default() += n;
            let _ = write!(s, "<td>{n}</td>");
        }
        let _ = write!(s, "<td>{}</td></tr>", counts.values().sum::<usize>());
    }
    s.push_str("<tr><th>all</th>");
    for c in &classes {
        let _ = write!(s, "<th>{}</th>", totals.get(c).copied().unwrap_or(0));
    }
    let _ = write!(s, "<th>{}</th></tr></table>", records.len());
    s
}

fn score_section(score_json: &Path, out_img: &Path) -> Result<String, ScoreError> {
    let text = std::fs::read_to_string(score_json).map_err(|source| ScoreError::Io {
        action: "read",
        path: score_json.to_path_buf(),
        source,
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| ScoreError::Manifest {
        path: score_json.to_path_buf(),
        line: e.line(),
        reason: e.to_string(),
    })?;
    let metrics = crate::score::output::METRICS;
    let mut s = format!(
        "<h2 id=\"score\">Heat-map scores</h2><p>From <code>{}</code>: {} images scored (tolerance {} px), {} without a map.</p>",
        esc(&score_json.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()),
        v["images"],
        v["tolerance"],
        v["missing_maps"].as_array().map_or(0, |a| a.len())
    );
    s.push_str("<table><tr><th>group</th><th>NG</th>");
    for m in metrics {
        let _ = write!(s, "<th>{m}</th>");
    }
    s.push_str("<th>OK</th><th>OK peak</th><th>OK total</th></tr>");
    let mut groups = vec![("overall".to_string(), v["overall"].clone())];
    for key in ["by_type", "by_split"] {
        if let Some(m) = v[key].as_object() {
            groups.extend(m.iter().map(|(k, g)| (format!("{} {k}", &key[3..]), g.clone())));
        }
    }
    let num = |x: &serde_json::Value| x.as_f64().map_or_else(|| "–".to_string(), |f| format!("{f:.3}"));
    for (name, g) in groups {
        let _ = write!(s, "<tr><td>{}</td><td>{}</td>", esc(&name), g["ng"]);
        for m in metrics {
            let _ = write!(s, "<td>{}</td>", num(&g[m]));
        }
        let _ = write!(s, "<td>{}</td><td>{}</td><td>{}</td></tr>", g["ok"], num(&g["ok_peak"]), num(&g["ok_total"]));
    }
    s.push_str("</table>");
    let sheet = crate::score::sheet_path(score_json);
    if sheet.is_file() {
        let dst = out_img.join("score_worst.png");
        let bytes =
            std::fs::read(&sheet).map_err(|source| ScoreError::Io { action: "read", path: sheet.clone(), source })?;
        write_atomic(&dst, &bytes)?;
        let worst: Vec<String> =
            v["worst"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).map(esc).collect()).unwrap_or_default();
        let _ = write!(
            s,
            "<h3>Worst-scored images</h3><p>Lowest relevance mass first: {}. Map over the image, defect outlined in cyan, its box in yellow, the map's peak as a white cross.</p><img src=\"img/score_worst.png\" alt=\"worst-scored images\">",
            worst.join(", ")
        );
    }
    Ok(s)
}

/// Writes the report; returns the path of `index.html`.
pub fn report(dataset: &Path, opts: &ReportOptions) -> Result<PathBuf, ScoreError> {
    let records = read_manifest(dataset)?;
    let out = &opts.out;
    if out.exists() {
        let non_empty = std::fs::read_dir(out)
            .map_err(|source| ScoreError::Io { action: "list", path: out.clone(), source })?
            .next()
            .is_some();
        if non_empty && !opts.overwrite {
            return Err(ScoreError::Exists { path: out.clone() });
        }
    }
    let score_json = match &opts.score {
        Some(p) if !p.is_file() => {
            return Err(ScoreError::Io {
                action: "read",
                path: p.clone(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        Some(p) => Some(p.clone()),
        None => Some(dataset.join("score.json")).filter(|p| p.is_file()),
    };
    let img_dir = out.join("img");
    if opts.overwrite && img_dir.is_dir() {
        // The previous report's pictures (a class may have gone); other files in OUT are left alone.
        std::fs::remove_dir_all(&img_dir).map_err(|source| ScoreError::Io {
            action: "remove",
            path: img_dir.clone(),
            source,
        })?;
    }
    std::fs::create_dir_all(&img_dir).map_err(|source| ScoreError::Io {
        action: "create directory",
        path: img_dir.clone(),
        source,
    })?;

    let name = dataset.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pinsynth report: {n}</title><link rel="icon" href="data:,">
<style>body{{font-family:sans-serif;margin:1.5em;max-width:1400px;color:#222}} table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #bbb;padding:3px 8px;text-align:right}} td:first-child,th:first-child{{text-align:left}}
img{{max-width:100%;image-rendering:pixelated;border:1px solid #ccc}} .hist svg{{margin:4px;border:1px solid #ddd;background:#fafafa}}
figure{{display:inline-block;margin:6px}} figcaption{{font-size:12px}}</style></head><body>
<h1>pinsynth report: {n}</h1><p>{count} images, {w} × {h}. Outlines: terminals green, defective terminal (or where a missing one would stand) cyan, its projected box yellow; keypoints: top-face centre red, bottom-face centre blue.</p>
<h2>Counts per split × label × defect type</h2>{table}"#,
        n = esc(&name),
        count = records.len(),
        w = records.first().map_or(0, |r| r.width),
        h = records.first().map_or(0, |r| r.height),
        table = counts_table(&records),
    );

    // Contact sheets: per class (ok, ng) and per defect type, first images in index order.
    html.push_str("<h2>Contact sheets</h2>");
    let mut groups: Vec<(String, Vec<&Record>)> = vec![
        ("ok".into(), records.iter().filter(|r| r.is_ok()).collect()),
        ("ng".into(), records.iter().filter(|r| !r.is_ok()).collect()),
    ];
    for t in crate::conventions::DefectType::ALL {
        groups.push((
            format!("ng_{}", t.as_str()),
            records.iter().filter(|r| r.defect_type() == Some(t.as_str())).collect(),
        ));
    }
    for (name, rs) in groups.iter().filter(|(_, rs)| !rs.is_empty()) {
        let cells = rs
            .iter()
            .take(opts.per_sheet)
            .map(|r| outlined(dataset, r).map(|i| thumb(&i)))
            .collect::<Result<Vec<_>, _>>()?;
        let file = format!("sheet_{name}.png");
        write_png(&img_dir.join(&file), &sheet::grid(&cells, 8, 3))?;
        let _ = write!(
            html,
            "<h3>{name} ({} images, first {} shown)</h3><img src=\"img/{file}\" alt=\"contact sheet {name}\">",
            rs.len(),
            cells.len()
        );
    }

    html.push_str("<h2>Histograms</h2><div class=\"hist\">");
    let values = histogram_values(&records);
    if values.is_empty() {
        html.push_str("<p>No defect parameters or randomized values.</p>");
    }
    for (k, v) in &values {
        html.push_str(&svg::histogram(k, v, 20));
    }
    html.push_str("</div>");

    html.push_str("<h2>Examples at full size</h2>");
    let mut picked: Vec<&Record> = Vec::new();
    for t in crate::conventions::DefectType::ALL {
        picked.extend(records.iter().find(|r| r.defect_type() == Some(t.as_str())));
    }
    picked.extend(records.iter().find(|r| r.is_ok()));
    for r in picked.into_iter().take(opts.examples) {
        let file = format!("example_{}.png", r.id);
        write_png(&img_dir.join(&file), &example(dataset, r)?)?;
        let what = match &r.defect {
            Some(d) => format!(
                "{} {}, terminal [{}, {}], dpos [{:.3}, {:.3}, {:.3}], grad [{:.2}, {:.2}]",
                esc(&r.id),
                d.defect_type.as_str(),
                d.pin[0],
                d.pin[1],
                d.dpos[0],
                d.dpos[1],
                d.dpos[2],
                d.grad[0],
                d.grad[1]
            ),
            None => format!("{} ok", esc(&r.id)),
        };
        // Small images are shown enlarged (pixels kept sharp) so that keypoints are visible.
        let zoom = (512 / r.width.max(r.height).max(1)).clamp(1, 4);
        let _ = write!(
            html,
            "<figure><img src=\"img/{file}\" alt=\"{id}\" width=\"{w}\"><figcaption>{what}</figcaption></figure>",
            id = esc(&r.id),
            w = r.width * zoom
        );
    }

    if let Some(p) = &score_json {
        html.push_str(&score_section(p, &img_dir)?);
    } else {
        html.push_str(
            "<h2>Heat-map scores</h2><p>No score results (run <code>pinsynth score DATASET --maps DIR</code>).</p>",
        );
    }
    html.push_str("</body></html>\n");
    let index = out.join("index.html");
    write_atomic(&index, html.as_bytes())?;
    Ok(index)
}
