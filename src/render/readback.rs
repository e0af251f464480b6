//! Copying a render target back to the CPU. The only place that knows wgpu's 256-byte row alignment:
//! one staging buffer per target, made once and reused for every image (allocating per frame was
//! several times slower on lavapipe).

use super::RenderError;
use super::influence::Rect;
use std::sync::mpsc;

/// A pooled staging buffer for `images` W × H images of `bytes_per_pixel`, one below the other.
pub struct Readback {
    buffer: wgpu::Buffer,
    width: u32,
    height: u32,
    bytes_per_pixel: u32,
    padded_row: u32,
}

impl Readback {
    pub fn new(device: &wgpu::Device, width: u32, height: u32, images: u32, bytes_per_pixel: u32, label: &str) -> Self {
        let unpadded = width * bytes_per_pixel;
        let align = wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let padded_row = unpadded.div_ceil(align) * align;
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: padded_row as u64 * height as u64 * images as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        Readback { buffer, width, height, bytes_per_pixel, padded_row }
    }

    /// Records the copy of `texture` (one image) into slot `image` of the staging buffer: its rows
    /// `image · H ..`; of `rect` only when given (its texels land where the whole image's would).
    pub fn copy(&self, encoder: &mut wgpu::CommandEncoder, texture: &wgpu::Texture, image: u32, rect: Option<Rect>) {
        let rect = rect.unwrap_or(Rect { x0: 0, y0: 0, x1: self.width, y1: self.height });
        if rect.is_empty() {
            return;
        }
        let row = self.padded_row as u64;
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture,
                mip_level: 0,
                origin: wgpu::Origin3d { x: rect.x0, y: rect.y0, z: 0 },
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &self.buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: row * (self.height as u64 * image as u64 + rect.y0 as u64)
                        + (rect.x0 * self.bytes_per_pixel) as u64,
                    bytes_per_row: Some(self.padded_row),
                    rows_per_image: Some(rect.y1 - rect.y0),
                },
            },
            wgpu::Extent3d { width: rect.x1 - rect.x0, height: rect.y1 - rect.y0, depth_or_array_layers: 1 },
        );
    }

    /// Asks for the buffer to be mapped; the result arrives on `done` once the device is polled.
    pub fn request_map(&self, done: mpsc::Sender<Result<(), wgpu::BufferAsyncError>>) {
        self.buffer.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = done.send(r);
        });
    }

    /// After the map completed: copies each `(x0, y0)` tile of `width × height` (within it, its
    /// `Tile::rect` only, when given: the rest of the output is left as it was) into its output as
    /// tightly packed pixels of `out_bytes_per_pixel` (the first channels of each texel: 4 → 3 drops
    /// alpha), and its alpha into `Tile::alpha` when given, then unmaps.
    pub fn read_tiles<'a>(
        &self,
        out_bytes_per_pixel: u32,
        (width, height): (u32, u32),
        tiles: impl Iterator<Item = Tile<'a>>,
    ) -> Result<(), RenderError> {
        let (w, bpp, obpp) = (width as usize, self.bytes_per_pixel as usize, out_bytes_per_pixel as usize);
        {
            let view = self.buffer.get_mapped_range(..)?;
            for Tile { origin: (x0, y0), rect, out, mut alpha } in tiles {
                // A whole image is written row by row as it grows (each row zeroed just before it is
                // written, while in cache, not the whole buffer first); a part lands on what is there.
                let whole = rect.is_none();
                if whole {
                    out.clear();
                    out.reserve(w * height as usize * obpp);
                } else {
                    out.resize(w * height as usize * obpp, 0);
                }
                if let Some(a) = alpha.as_mut() {
                    a.resize(w * height as usize, 0);
                }
                let r = rect.unwrap_or(Rect { x0: 0, y0: 0, x1: width, y1: height });
                let (rx0, rx1) = (r.x0 as usize, r.x1 as usize);
                for y in r.y0 as usize..r.y1 as usize {
                    let at = (y0 as usize + y) * self.padded_row as usize + x0 as usize * bpp;
                    let src = &view[at + rx0 * bpp..at + rx1 * bpp];
                    if whole {
                        out.resize((y + 1) * w * obpp, 0);
                    }
                    let dst = &mut out[(y * w + rx0) * obpp..(y * w + rx1) * obpp];
                    if let Some(a) = alpha.as_mut() {
                        for (s, a) in src.chunks_exact(bpp).zip(&mut a[y * w + rx0..y * w + rx1]) {
                            *a = s[bpp - 1];
                        }
                    }
                    if bpp == obpp {
                        dst.copy_from_slice(src);
                    } else if (bpp, obpp) == (4, 3) {
                        // RGBA -> RGB with the sizes known here (a per-pixel copy of unknown length
                        // was a call per pixel).
                        for (s, d) in src.as_chunks::<4>().0.iter().zip(dst.as_chunks_mut::<3>().0) {
                            *d = [s[0], s[1], s[2]];
                        }
                    } else {
                        for (s, d) in src.chunks_exact(bpp).zip(dst.chunks_exact_mut(obpp)) {
                            d.copy_from_slice(&s[..obpp]);
                        }
                    }
                }
            }
        }
        self.buffer.unmap();
        Ok(())
    }
}

/// Maps every buffer and waits once for all of them.
pub fn map_all(device: &wgpu::Device, buffers: &[&Readback]) -> Result<(), RenderError> {
    let (tx, rx) = mpsc::channel();
    for b in buffers {
        b.request_map(tx.clone());
    }
    drop(tx);
    device.poll(wgpu::PollType::wait_indefinitely())?;
    for _ in buffers {
        rx.recv()??;
    }
    Ok(())
}

/// One image's tile of a readback buffer and where it goes: its top-left texel, the tightly packed
/// pixels, and optionally the last channel (alpha) on its own.
pub struct Tile<'a> {
    pub origin: (u32, u32),
    /// The pixels to read (all when `None`).
    pub rect: Option<Rect>,
    pub out: &'a mut Vec<u8>,
    pub alpha: Option<&'a mut Vec<u8>>,
}
