//! Where the time goes: renders the default sweep on one renderer with no files written, timing
//! render + readback alone, then PNG encoding. `cargo run --release --example throughput -- [count] [size] [aa] [key=value…]`
use pinsynth::geometry::pose;
use pinsynth::params::Planner;
use pinsynth::render::{Pixels, Renderer};
use pinsynth::spec::Scene;
use std::path::Path;
use std::time::Instant;

fn cpu_seconds() -> f64 {
    pinsynth::progress::process_cpu_seconds().unwrap_or(0.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let count: u64 = args.get(1).map_or(Ok(500), |s| s.parse())?;
    let size: u32 = args.get(2).map_or(Ok(224), |s| s.parse())?;
    let aa = args.get(3).cloned().unwrap_or_else(|| "exact".into());
    let mut sets = vec![
        format!("image.width={size}"),
        format!("image.height={size}"),
        format!("image.antialias=\"{aa}\""),
        format!("sweep.count={count}"),
    ];
    sets.extend(args.iter().skip(4).cloned());
    let scene = Scene::parse(include_str!("../scenes/default.toml"), Path::new("default.toml"), &sets)?;
    let mut renderer = Renderer::new(scene.image.antialias, 1)?;
    let mut pixels = Pixels::default();
    let planner = Planner::new(&scene);
    let terminals = pinsynth::geometry::Terminals::new(&scene.pin);
    let posed: Vec<_> = (0..count).map(|i| pose(&scene, &terminals, &planner.image(i))).collect();
    renderer.render(&posed[0], &mut pixels)?; // warm-up
    let (t, cpu0) = (Instant::now(), cpu_seconds());
    for p in &posed {
        renderer.render(p, &mut pixels)?;
    }
    let render_s = t.elapsed().as_secs_f64();
    let render_cpu = cpu_seconds() - cpu0;
    let t = Instant::now();
    for _ in 0..count {
        let _ = pinsynth::codec::png_rgb(&pixels.rgb, size, size)?;
        let _ = pinsynth::codec::png_gray(&pixels.mask, size, size)?;
    }
    let encode_s = t.elapsed().as_secs_f64();
    let per = |s: f64| s * 1e3 / count as f64;
    println!(
        "{size}² {aa}: render+readback {:.3} ms/image wall ({:.0}/s), {:.3} ms CPU (all threads); PNG encode {:.3} ms/image",
        per(render_s),
        count as f64 / render_s,
        per(render_cpu),
        per(encode_s)
    );
    Ok(())
}
