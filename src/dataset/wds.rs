//! `wds/<split>-000000.tar, …`: WebDataset shards. Each sample is four consecutive members sharing the
//! key `<id>`: `<id>.png` (image), `<id>.mask.png` (instance mask), `<id>.json` (the manifest record),
//! `<id>.cls` (`0` OK, `1` NG, as text). Headers are deterministic (ustar, mtime 0, uid/gid 0,
//! mode 0644, owner `pinsynth`), so the same dataset gives byte-identical shards. A shard is written as
//! `<name>.partial` and renamed when it is full or the run ends; at most one shard per split is open.
//! WebDataset splits a member name at its first dot, so dots in an id become `_` in the key.

use super::files::{PartialFile, create_dir, io_err};
use super::{LayoutWriter, Sample, Split, WriteError};
use std::path::{Path, PathBuf};

struct Shard {
    file: PartialFile,
    samples: usize,
}

pub struct WebDataset {
    dir: PathBuf,
    shard_size: usize,
    open: [Option<Shard>; 3],
    next: [u32; 3],
}

impl WebDataset {
    pub fn create(root: &Path, shard_size: usize) -> Result<WebDataset, WriteError> {
        let dir = root.join("wds");
        create_dir(&dir)?;
        Ok(WebDataset { dir, shard_size: shard_size.max(1), open: [None, None, None], next: [0; 3] })
    }

    fn close(&mut self, split: Split) -> Result<(), WriteError> {
        if let Some(mut shard) = self.open[split as usize].take() {
            // The end of a tar archive: two zero blocks.
            shard.file.write(&[0u8; 1024])?;
            shard.file.commit()?;
        }
        Ok(())
    }
}

/// The name of shard `n` of a split.
pub fn shard_name(split: Split, n: u32) -> String {
    format!("{}-{n:06}.tar", split.as_str())
}

pub use crate::conventions::wds_key as key;

/// One tar member with a deterministic header. A name that fits the ustar header (ids up to about 90
/// characters) is written as it always was; a longer one (ids allow 128) gets a GNU long-name entry
/// (`././@LongLink`, written by the tar crate's `Builder`) before its header, which Python's `tarfile`
/// and so WebDataset read back in full.
pub fn append_member(out: &mut impl std::io::Write, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_username("pinsynth")?;
    h.set_groupname("pinsynth")?;
    h.set_entry_type(tar::EntryType::Regular);
    if h.set_path(name).is_err() {
        let mut builder = tar::Builder::new(Vec::new());
        builder.append_data(&mut h, name, data)?;
        let mut bytes = builder.into_inner()?;
        // into_inner ends the archive with two zero blocks; the shard writes its own end when it closes.
        bytes.truncate(bytes.len().saturating_sub(1024));
        return out.write_all(&bytes);
    }
    h.set_cksum();
    out.write_all(h.as_bytes())?;
    out.write_all(data)?;
    let pad = (512 - data.len() % 512) % 512;
    out.write_all(&[0u8; 512][..pad])
}

/// The members of one sample, in order: image, mask, record, class.
pub fn members(sample: &Sample<'_>) -> Result<Vec<(String, Vec<u8>)>, WriteError> {
    let r = sample.record;
    let k = key(&r.id);
    let read = |p: PathBuf| std::fs::read(&p).map_err(io_err("read", &p));
    Ok(vec![
        (format!("{k}.png"), read(sample.image_path())?),
        (format!("{k}.mask.png"), read(sample.root.join(&r.mask))?),
        (
            format!("{k}.json"),
            r.to_json().map_err(|source| WriteError::Json { path: sample.root.join("wds"), source })?.into_bytes(),
        ),
        (format!("{k}.cls"), if r.is_ok() { b"0".to_vec() } else { b"1".to_vec() }),
    ])
}

impl LayoutWriter for WebDataset {
    fn name(&self) -> &'static str {
        "wds"
    }

    fn write(&mut self, sample: &Sample<'_>) -> Result<(), WriteError> {
        if !sample.in_layouts() {
            return Ok(());
        }
        let split = sample.split();
        let slot = split as usize;
        if self.open[slot].is_none() {
            let path = self.dir.join(shard_name(split, self.next[slot]));
            self.next[slot] += 1;
            self.open[slot] = Some(Shard { file: PartialFile::create(&path)?, samples: 0 });
        }
        let members = members(sample)?;
        let shard = self.open[slot].as_mut().expect("opened above"); // ok: set above
        for (name, data) in &members {
            let tmp = shard.file.tmp().to_path_buf();
            append_member(shard.file.inner(), name, data).map_err(io_err("write", &tmp))?;
        }
        shard.samples += 1;
        if shard.samples >= self.shard_size {
            self.close(split)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), WriteError> {
        Split::ALL.into_iter().try_for_each(|s| self.close(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_deterministic_ustar_blocks_the_tar_crate_reads_back() {
        let mut buf = Vec::new();
        append_member(&mut buf, "000001.png", b"abc").unwrap();
        append_member(&mut buf, "000001.cls", b"1").unwrap();
        buf.extend_from_slice(&[0u8; 1024]);
        assert_eq!(buf.len(), 4 * 512 + 1024, "header + padded data per member, then the end blocks");
        let mut again = Vec::new();
        append_member(&mut again, "000001.png", b"abc").unwrap();
        assert_eq!(buf[..1024], again[..], "byte-identical headers");
        let mut archive = tar::Archive::new(&buf[..]);
        let got: Vec<(String, u64, u32, u64, Vec<u8>)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut data).unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    h.mtime().unwrap(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    data,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("000001.png".to_string(), 0, 0o644, 0, b"abc".to_vec()),
                ("000001.cls".to_string(), 0, 0o644, 0, b"1".to_vec()),
            ]
        );
    }

    #[test]
    fn long_names_get_a_gnu_long_name_entry_and_read_back_in_full() {
        let id = "x".repeat(128);
        let names = [format!("{id}.png"), format!("{id}.mask.png"), "000001.cls".to_string()];
        let mut buf = Vec::new();
        for n in &names {
            append_member(&mut buf, n, b"abc").unwrap();
        }
        buf.extend_from_slice(&[0u8; 1024]);
        // Long member: long-name header + one block of name + header + data block; short: header + data.
        assert_eq!(buf.len(), 2 * 4 * 512 + 2 * 512 + 1024);
        let mut archive = tar::Archive::new(&buf[..]);
        let got: Vec<String> =
            archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(got, names);
        // A short name's bytes do not change (the default dataset's shards stay as they were).
        let mut short = Vec::new();
        append_member(&mut short, "000001.cls", b"abc").unwrap();
        assert_eq!(&buf[2 * 4 * 512..2 * 4 * 512 + 1024], &short[..]);
    }

    #[test]
    fn names_and_keys() {
        assert_eq!(shard_name(Split::Val, 12), "val-000012.tar");
        assert_eq!(key("case.v2"), "case_v2");
    }
}
