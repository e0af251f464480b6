//! `wds/<split>-000000.tar, …`: WebDataset shards. Each sample is four consecutive members sharing the
//! key `<id>`: `<id>.png` (image), `<id>.mask.png` (instance mask), `<id>.json` (the manifest record),
//! `<id>.cls` (`0` OK, `1` NG, as text). Headers are deterministic (ustar, mtime 0, uid/gid 0,
//! mode 0644, owner `pinsynth`), so the same dataset gives byte-identical shards. A shard is written as
//! `<name>.partial` and renamed when it is full or the run ends; at most one shard per split is open.
//! WebDataset splits a member name at its first dot, so dots in an id become `_` in the key.

use super::files::{PartialFile, create_dir, io_err};
use super::{LayoutWriter, Sample, Split, WriteError};
use std::path::{Path, PathBuf};

/// An open shard: the tar crate's `Builder` owns the partial file for the shard's life, so member
/// padding and the archive's end blocks are the crate's.
struct Shard {
    tar: tar::Builder<PartialFile>,
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
        if let Some(shard) = self.open[split as usize].take() {
            let tmp = shard.tar.get_ref().tmp().to_path_buf();
            // `into_inner` ends the archive (two zero blocks) and hands the file back to be renamed.
            shard.tar.into_inner().map_err(io_err("write", &tmp))?.commit()?;
        }
        Ok(())
    }
}

/// The name of shard `n` of a split.
pub fn shard_name(split: Split, n: u32) -> String {
    format!("{}-{n:06}.tar", split.as_str())
}

pub use crate::conventions::wds_key as key;

/// One tar member with a deterministic header (ustar, mtime 0, uid/gid 0, mode 0644, owner
/// `pinsynth`). A name longer than the ustar header holds (ids allow 128 characters) gets a GNU
/// long-name entry (`././@LongLink`) before its header, which Python's `tarfile` and so WebDataset read
/// back in full; the `Builder` writes both, the checksum and the padding.
pub fn append_member<W: std::io::Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_username("pinsynth")?;
    h.set_groupname("pinsynth")?;
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, name, data)
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
            self.open[slot] = Some(Shard { tar: tar::Builder::new(PartialFile::create(&path)?), samples: 0 });
        }
        let members = members(sample)?;
        let shard = self.open[slot].as_mut().expect("opened above"); // ok: set above
        for (name, data) in &members {
            append_member(&mut shard.tar, name, data).map_err(|e| io_err("write", shard.tar.get_ref().tmp())(e))?;
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

    /// The bytes of an archive holding `members`, ended as a shard is.
    fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in members {
            append_member(&mut tar, name, data).unwrap();
        }
        tar.into_inner().unwrap()
    }

    #[test]
    fn members_are_deterministic_ustar_blocks_the_tar_crate_reads_back() {
        let buf = archive(&[("000001.png", b"abc"), ("000001.cls", b"1")]);
        assert_eq!(buf.len(), 4 * 512 + 1024, "header + padded data per member, then the end blocks");
        assert_eq!(buf[..1024], archive(&[("000001.png", b"abc")])[..1024], "byte-identical headers");
        // The header as pinsynth always wrote it: ustar, mode 0644, uid/gid 0, owner pinsynth.
        assert_eq!(&buf[257..263], b"ustar\0");
        assert_eq!(&buf[100..107], b"0000644");
        assert_eq!(&buf[265..273], b"pinsynth");
        assert!(buf[515..1024].iter().all(|b| *b == 0), "data padded with zeros to the block");
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
        let buf = archive(&names.iter().map(|n| (n.as_str(), &b"abc"[..])).collect::<Vec<_>>());
        // Long member: long-name header + one block of name + header + data block; short: header + data.
        assert_eq!(buf.len(), 2 * 4 * 512 + 2 * 512 + 1024);
        let mut archive_ = tar::Archive::new(&buf[..]);
        let got: Vec<String> =
            archive_.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(got, names);
        // A short name's bytes do not depend on the long members before it.
        let short = archive(&[("000001.cls", b"abc")]);
        assert_eq!(&buf[2 * 4 * 512..2 * 4 * 512 + 1024], &short[..1024]);
    }

    #[test]
    fn names_and_keys() {
        assert_eq!(shard_name(Split::Val, 12), "val-000012.tar");
        assert_eq!(key("case.v2"), "case_v2");
    }
}
