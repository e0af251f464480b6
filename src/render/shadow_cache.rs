//! Shadow maps that images of a scene share. A shadow map holds, per texel, the nearest back face
//! any caster draws there: the minimum over the casters' fragments, which does not depend on the
//! order they are drawn in or on how they are split into passes. So an image's map can start as a
//! copy of a map of some of its casters (drawn earlier, kept here) and get only the others drawn on
//! top, with the same bytes as drawing them all.
//!
//! What is kept: for a scene's nominal casters (no defect, no randomization), the map of those the
//! image shares with the nominal scene, keyed by the map's size and placement and the nominal
//! casters the image lacks. Images of a sweep without randomization differ from the nominal scene
//! by one terminal (moved, bent or missing), so a handful of kept maps serve every image and each
//! image draws one terminal into its map instead of all of them. A key is kept only once it has been
//! seen before, so runs whose images never repeat one (a randomized sun or terminals) draw as before.

use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// One caster as the shadow pass draws it: its mesh (index into the renderer's unit shapes) and its
/// model matrix's bits as uploaded.
pub type CasterKey = (u32, [u32; 16]);

/// What a kept map is a map of.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// The map's size in texels.
    pub size: [u32; 2],
    /// The map's placement (`shadow_from_world`'s bits as uploaded).
    pub placement: [u32; 16],
    /// The scene's nominal casters, sorted.
    pub nominal: Arc<[CasterKey]>,
    /// The nominal casters the image lacks, sorted; the map holds the others.
    pub missing: Vec<CasterKey>,
}

/// How one image's shadow map is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Plan {
    /// Every caster, into a cleared map.
    #[default]
    Direct,
    /// A copy of kept map `entry`, then the casters it lacks.
    Kept { entry: usize },
    /// Like `Kept`, but the kept map is drawn first (from this image's shared casters).
    Make { entry: usize },
}

struct Entry {
    key: Key,
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    /// When it was last used ([`ShadowCache::clock`]).
    used: u64,
}

/// Kept maps of one renderer, at most [`ShadowCache::MAX_BYTES`] of them. When they are full, a new
/// one replaces the least recently used only if that has not been used for [`ShadowCache::STALE`]
/// images (a new scene): replacing maps still in use would make maps over and over (large images,
/// ssaa3) at a cost above drawing directly.
#[derive(Default)]
pub struct ShadowCache {
    entries: Vec<Entry>,
    /// Hashes of keys seen lately (a key is kept the second time it is seen).
    seen: VecDeque<u64>,
    clock: u64,
    /// The clock when the current batch began: maps used since are not dropped (the batch's plans
    /// refer to them).
    batch_start: u64,
    /// The last plan made (for the tests).
    #[cfg(test)]
    last: Plan,
}

impl ShadowCache {
    /// At most this many bytes of kept maps (a 224² image's map is ~190 KB, a 512² one ~1 MB).
    const MAX_BYTES: u64 = 32 << 20;
    /// Keys remembered as seen.
    const SEEN: usize = 1024;
    /// Plans after which an unused kept map may be replaced.
    const STALE: u64 = 1024;

    /// Starts planning a batch of images.
    pub fn begin_batch(&mut self) {
        self.clock += 1;
        self.batch_start = self.clock;
    }

    /// How to draw the map of an image whose key is `key`; makes the kept map's texture when one is
    /// to be made. `None` keys (nothing to share) are drawn directly.
    pub fn plan(&mut self, device: &wgpu::Device, format: wgpu::TextureFormat, key: Option<Key>) -> Plan {
        let plan = self.plan_for(device, format, key);
        #[cfg(test)]
        {
            self.last = plan;
        }
        plan
    }

    fn plan_for(&mut self, device: &wgpu::Device, format: wgpu::TextureFormat, key: Option<Key>) -> Plan {
        let Some(key) = key else { return Plan::Direct };
        self.clock += 1;
        if let Some(entry) = self.entries.iter().position(|e| e.key == key) {
            self.entries[entry].used = self.clock;
            return Plan::Kept { entry };
        }
        let hash = {
            let mut h = DefaultHasher::new();
            key.hash(&mut h);
            h.finish()
        };
        if !self.seen.contains(&hash) {
            if self.seen.len() == Self::SEEN {
                self.seen.pop_front();
            }
            self.seen.push_back(hash);
            return Plan::Direct;
        }
        // A new map goes into a new slot while they fit, else replaces a stale one (never one this
        // batch uses: slots never move, the batch's plans name them).
        let bytes = |size: [u32; 2]| u64::from(size[0]) * u64::from(size[1]) * 2;
        let total: u64 = self.entries.iter().map(|e| bytes(e.key.size)).sum::<u64>() + bytes(key.size);
        let slot = if total <= Self::MAX_BYTES {
            self.entries.len()
        } else {
            let stale = |i: &usize| {
                let used = self.entries[*i].used;
                used < self.batch_start && self.clock - used > Self::STALE
            };
            match (0..self.entries.len()).filter(stale).min_by_key(|&i| self.entries[i].used) {
                Some(i) if total - bytes(self.entries[i].key.size) <= Self::MAX_BYTES => i,
                _ => return Plan::Direct,
            }
        };
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("kept shadow map"),
            size: wgpu::Extent3d { width: key.size[0], height: key.size[1], depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&Default::default());
        let entry = Entry { key, texture, view, used: self.clock };
        if slot == self.entries.len() {
            self.entries.push(entry);
        } else {
            self.entries[slot] = entry;
        }
        Plan::Make { entry: slot }
    }

    pub fn texture(&self, entry: usize) -> &wgpu::Texture {
        &self.entries[entry].texture
    }

    pub fn view(&self, entry: usize) -> &wgpu::TextureView {
        &self.entries[entry].view
    }
}

#[cfg(test)]
mod tests {
    use super::Plan;
    use crate::geometry::{Terminals, pose};
    use crate::params::Planner;
    use crate::render::{Pixels, Renderer};
    use crate::spec::{Antialias, Scene};
    use std::path::Path;

    /// An OK image, then a terminal tilted, offset, bent and missing (each differs from the nominal
    /// pose by one terminal), the sun low enough for the terminals' shadows to reach the housing.
    const SCENE: &str = "[image]\nwidth = 128\nheight = 128\n[sweep]\ncount = 0\n\
        [[case]]\nname = \"ok\"\n\
        [[case]]\nname = \"tilt\"\ndefect = { pin = [0, 4], grad = [20, 10] }\n\
        [[case]]\nname = \"offset\"\ndefect = { pin = [2, 8], dpos = [0.1, -0.2, 0.1] }\n\
        [[case]]\nname = \"bent\"\ndefect = { pin = [1, 2], bend = { angle_deg = 40, azimuth_deg = 120 } }\n\
        [[case]]\nname = \"missing\"\ndefect = { pin = [1, 5], missing = true }\n";

    /// Kept maps give the bytes of drawing every caster: each image drawn by a fresh renderer (every
    /// caster into a cleared map) and three times by one renderer (drawn directly, then making its
    /// kept map, then from the kept map), the four outputs identical.
    #[test]
    fn kept_shadow_maps_give_the_bytes_of_drawing_every_caster() {
        let scene = Scene::parse(SCENE, Path::new("kept.toml"), &[]).unwrap();
        let (planner, terminals) = (Planner::new(&scene), Terminals::new(&scene.pin));
        let mut kept = Renderer::new(Antialias::None, 1).expect("a Vulkan adapter");
        // Every image drawn (kept frames would copy the repeated ones).
        kept.frame_memo = None;
        for index in 0..planner.image_count() {
            let posed = pose(&scene, &terminals, &planner.image(index));
            let mut expected = Pixels::default();
            Renderer::new(Antialias::None, 1).unwrap().render(&posed, &mut expected).unwrap();
            for (round, plan) in ["direct", "make", "kept"].into_iter().enumerate() {
                let mut out = Pixels::default();
                kept.render(&posed, &mut out).unwrap();
                let wanted = match round {
                    0 => Plan::Direct,
                    1 => Plan::Make { entry: index as usize },
                    _ => Plan::Kept { entry: index as usize },
                };
                assert_eq!(kept.shadow_cache.last, wanted, "image {index}, round {round}");
                assert!(out == expected, "image {index}: the {plan} shadow map changed the pixels");
            }
        }
    }
}
