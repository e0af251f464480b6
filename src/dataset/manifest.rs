//! `manifest.jsonl`: one JSON record per image, in index order, streamed to a `.partial` file and
//! renamed into place when the run completes.

use super::files::PartialFile;
use super::{LayoutWriter, Sample, WriteError};
use std::path::Path;

pub struct Manifest {
    out: Option<PartialFile>,
}

impl Manifest {
    pub fn create(root: &Path) -> Result<Manifest, WriteError> {
        Ok(Manifest { out: Some(PartialFile::create(&root.join("manifest.jsonl"))?) })
    }
}

impl LayoutWriter for Manifest {
    fn name(&self) -> &'static str {
        "manifest"
    }

    fn write(&mut self, sample: &Sample<'_>) -> Result<(), WriteError> {
        if let Some(out) = self.out.as_mut() {
            let mut line =
                sample.record.to_json().map_err(|source| WriteError::Json { path: out.tmp().to_path_buf(), source })?;
            line.push('\n');
            out.write(line.as_bytes())?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), WriteError> {
        if let Some(out) = self.out.take() {
            out.commit()?;
        }
        Ok(())
    }
}
