//! `imagefolder/<split>/<class>/<id>.png`: the layout torchvision's `ImageFolder` and Keras'
//! `image_dataset_from_directory` read as they are (class = folder name: `ok`/`ng`, or with
//! `ng_by_type` `ok`, `ng_offset`, `ng_tilt`, `ng_offset_tilt`, `ng_missing`, `ng_bent`). Files are hard links to
//! `images/` where the file system allows. A class folder is created with its first image: torchvision
//! refuses empty class folders.

use super::files::create_dir;
use super::{LayoutWriter, Sample, WriteError, link_or_copy};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub struct ImageFolder {
    dir: PathBuf,
    ng_by_type: bool,
    made: HashSet<PathBuf>,
}

impl ImageFolder {
    pub fn create(root: &Path, ng_by_type: bool) -> Result<ImageFolder, WriteError> {
        let dir = root.join("imagefolder");
        create_dir(&dir)?;
        Ok(ImageFolder { dir, ng_by_type, made: HashSet::new() })
    }
}

/// The class folder of a record.
pub fn class_name(defect_type: Option<&str>, ng_by_type: bool) -> String {
    match (defect_type, ng_by_type) {
        (None, _) => "ok".to_string(),
        (Some(_), false) => "ng".to_string(),
        (Some(t), true) => format!("ng_{t}"),
    }
}

impl LayoutWriter for ImageFolder {
    fn name(&self) -> &'static str {
        "imagefolder"
    }

    fn write(&mut self, sample: &Sample<'_>) -> Result<(), WriteError> {
        if !sample.in_layouts() {
            return Ok(());
        }
        let r = sample.record;
        let class_dir = self.dir.join(sample.split().as_str()).join(class_name(r.defect_type(), self.ng_by_type));
        if !self.made.contains(&class_dir) {
            create_dir(&class_dir)?;
            self.made.insert(class_dir.clone());
        }
        link_or_copy(&sample.image_path(), &class_dir.join(format!("{}.png", r.id)))
    }

    fn finish(&mut self) -> Result<(), WriteError> {
        Ok(())
    }
}
