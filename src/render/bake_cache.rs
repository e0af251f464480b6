//! Bakes kept on disk between runs, as Mesa keeps its compiled shaders: a scene's light maps
//! ([`super::bake`]) depend only on its nominal objects and light, and baking them takes ~0.1 s of CPU
//! at every start (~5 % of a 1,000-image run's CPU time here, and again in every DataLoader worker
//! process). A later run of the same scene reads them back instead.
//!
//! A file holds the bake's inputs (every bit of them) and its light maps, with a checksum. It is used
//! only when the inputs are bit for bit this run's, the checksum holds and it was made by this
//! version of the bake on this platform (`fingerprint`: the source that decides the light maps and
//! the maths library's sines and cosines it uses): a read-back bake is the same bytes as baking
//! afresh. Any other file (foreign, damaged, truncated, stale) is baked afresh and replaced. The
//! cache never fails a run: a directory that cannot be read or written just means baking every time.
//!
//! Where: `PINSYNTH_CACHE_DIR` (empty: no cache), else `$XDG_CACHE_HOME/pinsynth`, else
//! `~/.cache/pinsynth`. At most [`MAX_FILES`] bakes are kept (those used longest ago go).

use super::bake::{Bake, BakeInputs};
use crate::geometry::Shape;
use crate::seed::{FNV_OFFSET, fnv1a64};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

const MAGIC: &[u8; 14] = b"pinsynth bake\n";
/// The file layout's version.
const FORMAT: u32 = 1;
/// Bakes kept at most; each is ~0.1–1 MB.
pub const MAX_FILES: usize = 64;

/// What decides a bake's bytes besides its inputs: the source of the bake itself, the shapes'
/// cross-sections and the objects' frames, and the bits of the sines and cosines it takes from the
/// platform's maths library (its rays, the round and triangular cross-sections). A change in any of
/// them makes older files stale.
fn fingerprint() -> u64 {
    static FINGERPRINT: OnceLock<u64> = OnceLock::new();
    *FINGERPRINT.get_or_init(|| {
        let sources = [
            env!("CARGO_PKG_VERSION"),
            include_str!("bake.rs"),
            include_str!("../conventions.rs"),
            include_str!("../geometry/mod.rs"),
        ];
        let h = sources.iter().fold(fnv1a64(&FORMAT.to_le_bytes(), FNV_OFFSET), |h, s| fnv1a64(s.as_bytes(), h));
        let rays = super::bake::directions().into_iter().flat_map(|d| d.to_array());
        let rings =
            crate::conventions::round_ring().chain(crate::conventions::triangle_ring()).flat_map(|(x, y)| [x, y]);
        rays.chain(rings).fold(h, |h, v| fnv1a64(&v.to_le_bytes(), h))
    })
}

/// A directory of bakes.
#[derive(Clone, Debug)]
pub struct BakeCache {
    dir: PathBuf,
}

impl BakeCache {
    pub fn at(dir: impl Into<PathBuf>) -> BakeCache {
        BakeCache { dir: dir.into() }
    }

    /// The process's cache directory (see the module's doc), `None` when there is none.
    pub fn from_env() -> Option<BakeCache> {
        static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
        let dir = DIR.get_or_init(|| {
            let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
            match std::env::var_os("PINSYNTH_CACHE_DIR") {
                Some(d) if d.is_empty() => None,
                Some(d) => Some(PathBuf::from(d)),
                None => {
                    var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache"))).map(|c| c.join("pinsynth"))
                }
            }
        });
        dir.clone().map(BakeCache::at)
    }

    /// The bake of `inputs` from the cache, else baked (and stored for the next run).
    pub fn load_or_bake(cache: Option<&BakeCache>, inputs: BakeInputs) -> Bake {
        if let Some(bake) = cache.and_then(|c| c.load(&inputs)) {
            return bake;
        }
        let bake = Bake::new(inputs);
        if let Some(c) = cache {
            let _ = c.store(&bake); // ok: a cache that cannot be written only means baking next time too
        }
        bake
    }

    fn path(&self, encoded: &[u8]) -> PathBuf {
        self.dir.join(format!("bake-{:016x}.bin", fnv1a64(encoded, fingerprint())))
    }

    /// The stored bake of `inputs`, if a sound file made by this version holds exactly these inputs.
    pub fn load(&self, inputs: &BakeInputs) -> Option<Bake> {
        let encoded = encode(inputs);
        let path = self.path(&encoded);
        let bytes = fs::read(&path).ok()?;
        let (body, crc) = bytes.split_last_chunk::<4>()?;
        if crc32fast::hash(body) != u32::from_le_bytes(*crc) {
            return None;
        }
        let mut r = Reader(body);
        if r.take(MAGIC.len())? != MAGIC || r.u32()? != FORMAT || r.u64()? != fingerprint() {
            return None;
        }
        let n = r.u32()? as usize;
        if r.take(n)? != encoded {
            return None;
        }
        let count = r.u32()? as usize;
        let data =
            (0..count).map(|_| Some([r.f32()?, r.f32()?, r.f32()?, r.f32()?])).collect::<Option<Vec<[f32; 4]>>>()?;
        if !r.0.is_empty() {
            return None;
        }
        let bake = Bake::from_data(inputs.clone(), data)?;
        // Used now: the last to go ([`prune`]).
        let now = std::time::SystemTime::now();
        let _ = fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(now)); // ok: only the order files go in
        Some(bake)
    }

    /// Stores `bake` ([`crate::atomic`]: another process reading or writing the same bake meanwhile
    /// sees the old file or the new one, never half of one); then drops the files used longest ago
    /// beyond [`MAX_FILES`].
    pub fn store(&self, bake: &Bake) -> io::Result<()> {
        let encoded = encode(&bake.inputs);
        let mut out = Vec::with_capacity(64 + encoded.len() + bake.data.len() * 16);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&fingerprint().to_le_bytes());
        out.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        out.extend_from_slice(&encoded);
        out.extend_from_slice(&(bake.data.len() as u32).to_le_bytes());
        for v in &bake.data {
            v.iter().for_each(|c| out.extend_from_slice(&c.to_le_bytes()));
        }
        out.extend_from_slice(&crc32fast::hash(&out).to_le_bytes());
        fs::create_dir_all(&self.dir)?;
        let path = self.path(&encoded);
        // A name of this process and call: two processes baking the same scene at once each write
        // their own.
        static CALLS: AtomicU64 = AtomicU64::new(0);
        let tmp =
            path.with_extension(format!("{}-{}.partial", std::process::id(), CALLS.fetch_add(1, Ordering::Relaxed)));
        crate::atomic::write_through(&tmp, &path, &out).map_err(crate::atomic::Failed::into_io)?;
        prune(&self.dir, MAX_FILES)
    }
}

/// Removes the bakes of `dir` used longest ago (stored or read back) beyond `keep`.
fn prune(dir: &Path, keep: usize) -> io::Result<()> {
    let mut bakes: Vec<(std::time::SystemTime, PathBuf)> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with("bake-") && n.ends_with(".bin")))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if bakes.len() > keep {
        bakes.sort();
        for (_, p) in &bakes[..bakes.len() - keep] {
            let _ = fs::remove_file(p); // ok: another process may have removed it already
        }
    }
    Ok(())
}

/// Every bit of `inputs`, in a fixed order.
fn encode(inputs: &BakeInputs) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + inputs.objects.len() * 200);
    fn f64s(out: &mut Vec<u8>, v: &[f64]) {
        v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    }
    out.extend_from_slice(&(inputs.objects.len() as u32).to_le_bytes());
    for o in &inputs.objects {
        out.push(Shape::ALL.iter().position(|s| *s == o.shape).unwrap_or(usize::MAX) as u8);
        f64s(&mut out, &o.rigid.to_cols_array());
        f64s(&mut out, &o.half_extents.to_array());
        f64s(&mut out, &o.color);
        out.push(o.label);
    }
    f64s(&mut out, &inputs.to_sun.to_array());
    f64s(&mut out, &[inputs.sun]);
    f64s(&mut out, &inputs.world);
    f64s(&mut out, &inputs.pin_color);
    f64s(&mut out, &inputs.housing_color);
    out.push(u8::from(inputs.shadows));
    out.push(u8::from(inputs.bounce));
    out
}

/// Reads a file's fields in turn; `None` past its end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn f32(&mut self) -> Option<f32> {
        Some(f32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Nominal, Terminals};
    use crate::spec::Scene;

    fn inputs(toml: &str) -> BakeInputs {
        let scene = Scene::parse(toml, Path::new("test.toml"), &[]).unwrap();
        let terminals = Terminals::new(&scene.pin);
        super::super::bake_inputs(&Nominal::of(&scene, &terminals))
    }

    fn bits(b: &Bake) -> Vec<u32> {
        b.data.iter().flat_map(|v| v.map(f32::to_bits)).collect()
    }

    #[test]
    fn a_bake_read_back_is_the_bake_baked_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BakeCache::at(dir.path());
        let inputs = inputs("[sweep]\n");
        assert!(cache.load(&inputs).is_none(), "an empty cache has nothing");
        let baked = BakeCache::load_or_bake(Some(&cache), inputs.clone());
        let path = cache.path(&encode(&inputs));
        let long_ago = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        fs::File::options().write(true).open(&path).unwrap().set_modified(long_ago).unwrap();
        let read = cache.load(&inputs).expect("stored by load_or_bake");
        assert!(fs::metadata(&path).unwrap().modified().unwrap() > long_ago, "a bake read back counts as used");
        assert_eq!(bits(&read), bits(&baked));
        assert_eq!(read.inputs, baked.inputs);
        for label in 0..=255u8 {
            assert_eq!(read.map_of(label), baked.map_of(label), "label {label}");
        }
        assert_eq!(read.atlas().texels, baked.atlas().texels);
        // Other inputs (another sun) are another bake.
        let mut other = inputs.clone();
        other.to_sun = (other.to_sun + glam::DVec3::new(0.0, 1e-12, 0.0)).normalize();
        assert_ne!(other.to_sun, inputs.to_sun);
        assert!(cache.load(&other).is_none(), "a bake of other inputs is not used");
    }

    #[test]
    fn a_damaged_truncated_or_foreign_file_is_baked_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BakeCache::at(dir.path());
        let inputs = inputs("[sweep]\n[layout]\nkind = \"round\"\n");
        let fresh = Bake::new(inputs.clone());
        cache.store(&fresh).unwrap();
        let path = cache.path(&encode(&inputs));
        let good = fs::read(&path).unwrap();
        let mut broken = Vec::new();
        // A flipped bit in the light maps, in the inputs, in the checksum; cut short; empty.
        for at in [good.len() / 2, MAGIC.len() + 20, good.len() - 1] {
            let mut b = good.clone();
            b[at] ^= 0x10;
            broken.push(b);
        }
        broken.push(good[..good.len() - 9].to_vec());
        broken.push(Vec::new());
        for (k, b) in broken.iter().enumerate() {
            fs::write(&path, b).unwrap();
            assert!(cache.load(&inputs).is_none(), "damaged file {k} was used");
            let again = BakeCache::load_or_bake(Some(&cache), inputs.clone());
            assert_eq!(bits(&again), bits(&fresh), "file {k}");
            assert_eq!(fs::read(&path).unwrap(), good, "file {k} was not replaced");
        }
        // A file whose checksum holds but made by another version of the bake.
        let mut stale = good.clone();
        let at = MAGIC.len() + 4;
        stale[at..at + 8].copy_from_slice(&(fingerprint() ^ 1).to_le_bytes());
        let n = stale.len() - 4;
        let crc = crc32fast::hash(&stale[..n]);
        stale[n..].copy_from_slice(&crc.to_le_bytes());
        fs::write(&path, &stale).unwrap();
        assert!(cache.load(&inputs).is_none(), "a stale file was used");
    }

    #[test]
    fn the_oldest_bakes_go_beyond_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        for k in 0..5u32 {
            let name = dir.path().join(format!("bake-{k:016x}.bin"));
            fs::write(&name, b"x").unwrap();
            let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000 + u64::from(k));
            fs::File::options().write(true).open(&name).unwrap().set_modified(t).unwrap();
        }
        fs::write(dir.path().join("other.txt"), b"kept").unwrap();
        prune(dir.path(), 3).unwrap();
        let mut left: Vec<String> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(
            left,
            ["bake-0000000000000002.bin", "bake-0000000000000003.bin", "bake-0000000000000004.bin", "other.txt"]
        );
    }
}
