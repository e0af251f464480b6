//! The one way the library reports progress: a render, a merge and an augmentation all call a
//! [`Progress`]; the command line shows it as a bar, a library user may ignore it ([`Quiet`]).

/// Told about progress. `advance` may be called from several threads.
pub trait Progress: Sync {
    /// Work of `total` items starts; `what` says on what (the GPU adapter of a render, `merge`, …).
    fn start(&self, _total: u64, _what: &str) {}
    /// `n` more items are done.
    fn advance(&self, _n: u64) {}
}

/// Progress that says nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// CPU seconds this process has used so far, all its threads (the GPU driver's too: a software
/// rasteriser's work counts), from Linux's `/proc/self/stat` (clock ticks of 1/100 s); `None`
/// elsewhere. On a shared machine, CPU time per image is a steadier measure than the wall clock.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
    // utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

#[cfg(test)]
mod tests {
    /// The CPU time read grows with CPU work (a spin of at least 50 ms of it), within a wall-clock
    /// bound generous for a loaded machine.
    #[cfg(target_os = "linux")]
    #[test]
    fn process_cpu_seconds_grows_with_work() {
        let start = super::process_cpu_seconds().expect("Linux has /proc/self/stat");
        let wall = std::time::Instant::now();
        let mut x = 0u64;
        while super::process_cpu_seconds().unwrap() < start + 0.05 {
            for i in 0..100_000u64 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
            }
            assert!(wall.elapsed().as_secs() < 30, "no CPU time counted after 30 s of spinning");
        }
    }
}
