//! Reading a parsed scene table into a [`Scene`](super::Scene): one function per section, each
//! value checked against its allowed range, every problem collected.

use super::*;
use crate::conventions::{Bend, MAX_TERMINALS};
use schema::{ProblemKind, Problems, Section, found, show, type_name};
use toml::{Table, Value};

/// `key.path=value`: the value is read as TOML (`512`, `[1, 2]`, `"x"`, `true`), else as a bare string.
pub(super) fn apply_override(table: &mut Table, assignment: &str) -> Result<(), String> {
    let (key, raw) = assignment.split_once('=').ok_or("expected key.path=value")?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(|k| k.is_empty()) {
        return Err("empty key".into());
    }
    let value = format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.trim().to_string()));
    let parts: Vec<&str> = key.split('.').collect();
    let mut cur = table;
    for part in &parts[..parts.len() - 1] {
        let entry = cur.entry(part.to_string()).or_insert_with(|| Value::Table(Table::new()));
        cur = match entry {
            Value::Table(t) => t,
            other => return Err(format!("`{part}` is {}, not a table", type_name(other))),
        };
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

const COLOR_RANGE: (f64, f64) = (0.0, 1.0);

/// `scene_dir` is the scene file's folder: mesh paths are relative to it.
pub(super) fn read_scene(table: &Table, scene_dir: &Path, p: &mut Problems) -> Scene {
    let mut root = Section::root(table);

    let mut s = Section::child(&mut root, "image", p);
    let image = ImageSpec {
        width: s.int("width", 224, 8, MAX_IMAGE_SIDE, p) as u32,
        height: s.int("height", 224, 8, MAX_IMAGE_SIDE, p) as u32,
        background: s.floats("background", [0.05, 0.05, 0.05], COLOR_RANGE.0, COLOR_RANGE.1, p),
        antialias: s.named("antialias", Antialias::Exact, p),
    };
    s.finish(p);

    let layout = read_layout(&mut root, p);

    let mut s = Section::child(&mut root, "pin", p);
    let color = s.floats("color", [0.4, 0.8, 0.8], COLOR_RANGE.0, COLOR_RANGE.1, p);
    let (square, round, triangle, meshes) = terminal::read_shapes(&mut s, scene_dir, p);
    let pin = PinStyle { color, square, round, triangle, meshes };
    s.finish(p);
    check_mesh_letters(&layout, &pin, p);

    let mut s = Section::child(&mut root, "housing", p);
    let mesh = read_mesh_file(&mut s, "mesh", scene_dir, p);
    if mesh.is_some() {
        for key in ["size", "center"] {
            if let Some(v) = s.get(key) {
                p.invalid(
                    s.key_path(key),
                    show(v),
                    "not used with housing.mesh (the mesh file holds world coordinates)",
                );
            }
        }
    }
    let enabled = s.bool("enabled", true, p);
    let size = s.floats("size", [3.5, 9.5, 0.5], 0.01, 1000.0, p);
    let center = s.floats("center", [0.0, 0.0, -1.0], -1000.0, 1000.0, p);
    let color = s.floats("color", [0.15, 0.15, 0.15], COLOR_RANGE.0, COLOR_RANGE.1, p);
    let shape = housing::read_shape(&mut s, size, mesh.is_some(), p);
    let housing = Housing { enabled, size, center, color, mesh, shape };
    s.finish(p);

    let camera = read_camera(&mut root, p);

    let mut s = Section::child(&mut root, "light", p);
    let light = Light {
        sun_rotation_deg: s.floats("sun_rotation_deg", [30.0, 20.0, 0.0], -360.0, 360.0, p),
        sun_strength: s.f64("sun_strength", 3.0, 0.0, 100.0, p),
        sun_angle_deg: s.f64("sun_angle_deg", 0.526, 0.0, 90.0, p),
        shadows: s.bool("shadows", true, p),
        world_light: s.bool("world_light", true, p),
        bounce: s.bool("bounce", true, p),
        ambient: s.f64("ambient", 0.0, 0.0, 10.0, p),
    };
    s.finish(p);

    let mut s = Section::child(&mut root, "split", p);
    let split = SplitSpec {
        train: s.f64("train", 0.7, 0.0, 1.0, p),
        val: s.f64("val", 0.15, 0.0, 1.0, p),
        test: s.f64("test", 0.15, 0.0, 1.0, p),
    };
    let sum = split.train + split.val + split.test;
    if (sum - 1.0).abs() > SPLIT_SUM_TOLERANCE {
        p.invalid(
            s.path.clone(),
            format!("train {} + val {} + test {} = {sum}", split.train, split.val, split.test),
            "the fractions must sum to 1",
        );
    }
    s.finish(p);

    let mut s = Section::child(&mut root, "balance", p);
    let balance = BalanceSpec { ok_per_ng: s.f64("ok_per_ng", 0.0, 0.0, MAX_OK_PER_NG, p) };
    s.finish(p);

    let cases = read_cases(&mut root, &layout, p);
    let sweep = sweep::read_sweep(&mut root, &layout, p);
    // A sweep's ids are its zero-padded indices: a case may not take one of them.
    if let Some(sw) = &sweep {
        let width = sweep_id_width(sw.count);
        for (i, c) in cases.iter().enumerate() {
            if c.name.len() == width
                && c.name.bytes().all(|b| b.is_ascii_digit())
                && c.name.parse::<u64>().is_ok_and(|n| n < sw.count)
            {
                p.invalid(format!("case[{i}].name"), format!("{:?}", c.name), "collides with a sweep image id");
            }
        }
    }
    let randomize = randomize::read_randomize(&mut root, p);
    let mut s = Section::child(&mut root, "truth", p);
    let truth = TruthSpec { depth: s.bool("depth", false, p), amodal: s.bool("amodal", false, p) };
    s.finish(p);
    root.finish(p);
    // Whole-scene checks on values that passed their own: the randomized camera, then the image count.
    let clean = |p: &Problems, prefix: &str| !p.0.iter().any(|x| x.key.starts_with(prefix));
    if clean(p, "camera") && clean(p, "randomize") {
        randomize::check_view(&camera, &randomize, p);
    }
    if p.0.is_empty() && cases.is_empty() {
        match &sweep {
            None => p.push(
                "sweep.count",
                ProblemKind::Missing {
                    expected: "images: the scene has no [sweep] and no [[case]], so it renders nothing; add \
                               [sweep] with count = N for N seeded random images (or --set sweep.count=100), \
                               or one [[case]] table per image"
                        .into(),
                },
            ),
            Some(sw) if sw.count == 0 => p.invalid(
                "sweep.count",
                0,
                "the scene renders no images (no [[case]] either); set sweep.count to 1 or more \
                 (e.g. --set sweep.count=100) or add [[case]] tables",
            ),
            Some(_) => {}
        }
    }
    Scene { image, layout, pin, housing, camera, light, split, balance, cases, sweep, randomize, truth }
}

/// Reads the mesh file named by `key` (a path relative to the scene file's folder): any problem with
/// the file is a problem of the key, so it is reported, with the file, before anything is rendered.
pub(super) fn read_mesh_file(
    s: &mut Section<'_>,
    key: &'static str,
    scene_dir: &Path,
    p: &mut Problems,
) -> Option<MeshFile> {
    let key_path = s.key_path(key);
    match s.get(key)? {
        Value::String(written) => {
            let path = scene_dir.join(written);
            match crate::meshfile::load(&path) {
                Ok(mesh) => Some(MeshFile {
                    written: written.clone(),
                    resolved: std::path::absolute(&path).unwrap_or(path),
                    mesh: std::sync::Arc::new(mesh),
                }),
                Err(e) => {
                    p.invalid(key_path, format!("{written:?}"), e.to_string());
                    None
                }
            }
        }
        other => {
            p.push(
                key_path,
                ProblemKind::WrongType { expected: "a path to an .stl, .obj or .glb file".into(), found: found(other) },
            );
            None
        }
    }
}

/// Every pattern letter other than S, R, T must name a mesh of `[pin.meshes]`.
fn check_mesh_letters(layout: &Layout, pin: &PinStyle, p: &mut Problems) {
    let Some(rows) = layout.pattern.as_ref() else { return };
    let mut reported = std::collections::BTreeSet::new();
    for (i, row) in rows.iter().enumerate() {
        for c in row.chars() {
            // A letter whose file could not be read is reported there, not again here.
            let declared = p.0.iter().any(|x| x.key == format!("pin.meshes.{c}"));
            if !terminal::RESERVED_LETTERS.contains(&c)
                && !pin.meshes.contains_key(&c.to_string())
                && !declared
                && reported.insert(c)
            {
                let defined: Vec<&str> = pin.meshes.keys().map(String::as_str).collect();
                p.invalid(
                    format!("layout.pattern[{i}]"),
                    format!("{row:?}"),
                    format!(
                        "letter `{c}` names no terminal: use S, R, T, . or a letter of [pin.meshes] ({}), e.g. \
                         [pin.meshes] {c} = \"blade.stl\"",
                        if defined.is_empty() { "none defined".to_string() } else { defined.join(", ") }
                    ),
                );
            }
        }
    }
}

/// Digits in a sweep image id: at least 6, more for very large sweeps.
pub fn sweep_id_width(count: u64) -> usize {
    count.saturating_sub(1).to_string().len().max(6)
}

fn read_layout(root: &mut Section<'_>, p: &mut Problems) -> Layout {
    let mut s = Section::child(root, "layout", p);
    let kind = s.named("kind", LayoutKind::Mixed, p);
    let pattern_path = s.key_path("pattern");
    let pattern: Option<Vec<String>> = match s.get("pattern") {
        None => None,
        Some(Value::Array(rows)) => {
            let mut out = Vec::new();
            for (i, r) in rows.iter().enumerate() {
                match r {
                    Value::String(text)
                        if text.bytes().all(|b| b.is_ascii_uppercase() || b == b'.') && !text.is_empty() =>
                    {
                        out.push(text.clone())
                    }
                    Value::String(text) => p.invalid(
                        format!("{pattern_path}[{i}]"),
                        format!("{text:?}"),
                        "use only `S` (square), `R` (round), `T` (triangle), `.` (none) and the upper-case \
                         letters of [pin.meshes]",
                    ),
                    other => p.push(
                        format!("{pattern_path}[{i}]"),
                        ProblemKind::WrongType { expected: "a string".into(), found: found(other) },
                    ),
                }
            }
            Some(out)
        }
        Some(other) => {
            p.push(
                &pattern_path,
                ProblemKind::WrongType { expected: "an array of strings".into(), found: found(other) },
            );
            None
        }
    };
    let (default_cols, default_rows) = match (&pattern, kind) {
        (Some(rows), LayoutKind::Pattern) if !rows.is_empty() => (rows[0].len() as i64, rows.len() as i64),
        _ => (3, 9),
    };
    let columns = s.int("columns", default_cols, 1, 64, p) as u32;
    let rows = s.int("rows", default_rows, 1, 254, p) as u32;
    if columns * rows > MAX_TERMINALS {
        p.invalid(
            s.key_path("rows"),
            rows,
            format!("columns × rows = {} terminals; at most {MAX_TERMINALS} fit in the 8-bit mask", columns * rows),
        );
    }
    let pitch = s.f64("pitch", 1.0, 0.5, 100.0, p);
    match (kind, &pattern) {
        (LayoutKind::Pattern, None) => p.push(
            &pattern_path,
            ProblemKind::Missing {
                expected: "rows strings of columns characters (`S`, `R`, `T`, `.`) for kind = \"pattern\"".into(),
            },
        ),
        (LayoutKind::Pattern, Some(pat)) => {
            if pat.len() != rows as usize {
                p.invalid(
                    &pattern_path,
                    format!("[{} strings]", pat.len()),
                    format!("needs exactly {rows} strings (layout.rows = {rows})"),
                );
            }
            for (i, r) in pat.iter().enumerate() {
                if r.len() != columns as usize {
                    p.invalid(
                        format!("{pattern_path}[{i}]"),
                        format!("{r:?}"),
                        format!("needs exactly {columns} characters (layout.columns = {columns})"),
                    );
                }
            }
        }
        (_, Some(_)) => p.invalid(&pattern_path, "[…]", "only allowed with kind = \"pattern\""),
        _ => {}
    }
    s.finish(p);
    Layout { kind, columns, rows, pitch, pattern: if kind == LayoutKind::Pattern { pattern } else { None } }
}

fn read_camera(root: &mut Section<'_>, p: &mut Problems) -> CameraSpec {
    let mut s = Section::child(root, "camera", p);
    let cam = CameraSpec {
        location: s.floats("location", [0.0, 0.0, 14.0], -1000.0, 1000.0, p),
        look_at: s.floats("look_at", [0.0, 0.0, 0.0], -1000.0, 1000.0, p),
        up: s.floats("up", [0.0, 1.0, 0.0], -1.0, 1.0, p),
        fov_y_deg: s.f64("fov_y_deg", 45.0, 1.0, 170.0, p),
        near: s.f64("near", 0.1, 1e-4, 1000.0, p),
        far: s.f64("far", 100.0, 1e-3, 100_000.0, p),
    };
    if cam.far <= cam.near {
        p.invalid(s.key_path("far"), cam.far, format!("must be greater than camera.near = {}", cam.near));
    }
    // One rule with the randomized camera (`randomize::ViewExtremes`), here without jitter.
    let d0 = [0, 1, 2].map(|i| cam.look_at[i] - cam.location[i]);
    let up = glam::DVec3::from(cam.up);
    let view = randomize::ViewExtremes::of_box(d0, [0.0; 3], if up.length() > 0.0 { cam.up } else { [0.0, 1.0, 0.0] });
    if !view.distance_ok(cam.near) {
        p.invalid(
            s.key_path("look_at"),
            format!("{:?}", cam.look_at),
            format!(
                "must be farther than camera.near = {} from camera.location (it lies on the optical axis)",
                cam.near
            ),
        );
    } else if up.length() < 1e-9 || !view.up_ok() {
        p.invalid(
            s.key_path("up"),
            format!("{:?}", cam.up),
            "must be non-zero and not parallel to the viewing direction",
        );
    }
    s.finish(p);
    cam
}

pub(crate) fn read_pin(path: &str, v: &Value, layout: &Layout, p: &mut Problems) -> Option<[u32; 2]> {
    let Value::Array(a) = v else {
        p.push(path, ProblemKind::WrongType { expected: "[x, y]".into(), found: found(v) });
        return None;
    };
    let xy: Vec<i64> = a.iter().filter_map(|v| v.as_integer()).collect();
    if a.len() != 2 || xy.len() != 2 {
        p.push(path, ProblemKind::WrongType { expected: "[x, y] (two integers)".into(), found: show(v) });
        return None;
    }
    let (x, y) = (xy[0], xy[1]);
    let (cols, rows) = (layout.columns as i64, layout.rows as i64);
    if !(0..cols).contains(&x) || !(0..rows).contains(&y) {
        p.out_of_range(
            path,
            show(v),
            format!("x in 0..={}, y in 0..={} (layout is {cols} × {rows})", cols - 1, rows - 1),
        );
        return None;
    }
    if layout.kind_at(x as u32, y as u32).is_none() {
        p.invalid(path, show(v), "the layout pattern has no terminal there");
        return None;
    }
    Some([x as u32, y as u32])
}

fn read_cases(root: &mut Section<'_>, layout: &Layout, p: &mut Problems) -> Vec<Case> {
    let items = match root.get("case") {
        None => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            p.push(
                "case",
                ProblemKind::WrongType { expected: "an array of tables ([[case]])".into(), found: found(other) },
            );
            return Vec::new();
        }
    };
    let mut cases = Vec::new();
    let mut names = std::collections::HashSet::new();
    let mut keys: std::collections::HashMap<String, (usize, String)> = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("case[{i}]");
        let Value::Table(t) = item else {
            p.push(&path, ProblemKind::WrongType { expected: "a table".into(), found: found(item) });
            continue;
        };
        let mut s = Section::of_table(path.clone(), t);
        let name = match s.get("name") {
            Some(Value::String(n)) if crate::conventions::valid_file_name(n) => n.clone(),
            Some(Value::String(n)) => {
                p.invalid(
                    format!("{path}.name"),
                    format!("{n:?}"),
                    "use 1-128 letters, digits, `_`, `-` and `.` (no path separators, not starting with `.`)",
                );
                n.clone()
            }
            Some(other) => {
                p.push(
                    format!("{path}.name"),
                    ProblemKind::WrongType { expected: "a string".into(), found: found(other) },
                );
                String::new()
            }
            None => {
                p.push(
                    format!("{path}.name"),
                    ProblemKind::Missing { expected: "a name (it becomes the image id)".into() },
                );
                String::new()
            }
        };
        if !name.is_empty() && !names.insert(name.clone()) {
            p.invalid(format!("{path}.name"), format!("{name:?}"), "another case has the same name");
        } else if !name.is_empty() {
            // WebDataset keys turn `.` into `_`: two names that meet there would share one key.
            let key = crate::conventions::wds_key(&name);
            match keys.get(&key) {
                Some((j, other)) if other != &name => p.invalid(
                    format!("{path}.name"),
                    format!("{name:?}"),
                    format!(
                        "becomes the same WebDataset key {key:?} as case[{j}].name = {other:?} (`.` turns into `_`); \
                         rename one of them"
                    ),
                ),
                _ => {
                    keys.entry(key).or_insert((i, name.clone()));
                }
            }
        }
        let defect = match s.get("defect") {
            None => None,
            Some(Value::Table(d)) => read_defect(Section::of_table(format!("{path}.defect"), d), layout, p),
            Some(other) => {
                p.push(
                    format!("{path}.defect"),
                    ProblemKind::WrongType { expected: "a table".into(), found: found(other) },
                );
                None
            }
        };
        s.finish(p);
        cases.push(Case { name, defect });
    }
    cases
}

fn read_defect(mut s: Section<'_>, layout: &Layout, p: &mut Problems) -> Option<DefectSpec> {
    let pin_path = s.key_path("pin");
    let pin = match s.get("pin") {
        Some(v) => read_pin(&pin_path, v, layout, p),
        None => {
            p.push(&pin_path, ProblemKind::Missing { expected: "[x, y], the defective terminal".into() });
            None
        }
    };
    let dpos = s.floats("dpos", [0.0; 3], -MAX_DPOS, MAX_DPOS, p);
    let grad = s.floats("grad", [0.0; 2], -MAX_GRAD_DEG, MAX_GRAD_DEG, p);
    let missing = s.bool("missing", false, p);
    let bend = match s.get("bend") {
        None => None,
        Some(Value::Table(t)) => read_bend(Section::of_table(s.key_path("bend"), t), p),
        Some(other) => {
            p.push(
                s.key_path("bend"),
                ProblemKind::WrongType {
                    expected: "a table { height = …, angle_deg = …, azimuth_deg = … }".into(),
                    found: found(other),
                },
            );
            None
        }
    };
    // A bend given (even an invalid one, reported above) counts as an effect.
    let moved = dpos.iter().chain(grad.iter()).any(|v| *v != 0.0) || s.get("bend").is_some();
    if missing && moved {
        p.invalid(s.key_path("missing"), true, "a missing terminal cannot also have dpos, grad or bend");
    } else if !missing && !moved && pin.is_some() {
        p.invalid(
            &s.path,
            "{…}",
            "a defect needs a non-zero dpos or grad, a bend, or missing = true (leave `defect` out for an OK image)",
        );
    }
    s.finish(p);
    pin.map(|pin| DefectSpec { pin, dpos, grad, missing, bend })
}

/// `bend = { height = 1.0, angle_deg = 30, azimuth_deg = 0 }`: `angle_deg` is required and not 0.
fn read_bend(mut s: Section<'_>, p: &mut Problems) -> Option<Bend> {
    let height = s.f64("height", 1.0, 0.0, MAX_BEND_HEIGHT, p);
    let angle_deg = s.f64("angle_deg", 0.0, -MAX_BEND_DEG, MAX_BEND_DEG, p);
    let azimuth_deg = s.f64("azimuth_deg", 0.0, -MAX_AZIMUTH_DEG, MAX_AZIMUTH_DEG, p);
    let ok = match s.get("angle_deg") {
        None => {
            p.push(s.key_path("angle_deg"), ProblemKind::Missing { expected: "the bend angle in degrees".into() });
            false
        }
        Some(v) if schema::number(v) == Some(0.0) => {
            p.invalid(s.key_path("angle_deg"), 0, "a bend needs a non-zero angle (leave `bend` out for no bend)");
            false
        }
        Some(_) => true,
    };
    s.finish(p);
    ok.then_some(Bend { height, angle_deg, azimuth_deg })
}
