//! The wgpu renderer: one device, pipelines and buffers made once and reused; images are drawn in
//! batches, side by side in one atlas texture (one viewport each), so the fixed cost of a render pass,
//! a submission and a readback is paid once per batch. Each image only adds a uniform slot and its
//! instances. Out come an sRGB colour image and an 8-bit instance mask per image.
//!
//! Anti-aliasing of the colour image ([`Antialias`]):
//! * `msaa4` (default): a 4× multisampled colour pass, then the mask in a separate one-sample pass;
//! * `fxaa`: one pass writing colour and label, then FXAA on the CPU ([`fxaa`]): about twice as fast
//!   as msaa4 on lavapipe, but a perceptual smoothing, not a coverage estimate;
//! * `ssaa3`: one pass at 3W × 3H writing colour and label, resolved to W × H (mean of 9 colour samples,
//!   the label of the centre sample, which sits exactly on the pixel centre);
//! * `none`: one pass writing colour and label.
//!
//! The mask is always one sample at each pixel centre, nearest surface wins, never blended.

pub mod bake;
pub mod fxaa;
pub mod meshes;
mod pipelines;
mod readback;

use crate::geometry::{Nominal, Object, Posed, Shape, mesh};
use crate::spec::Antialias;
use bake::{Bake, BakeInputs};
use bytemuck::{Pod, Zeroable};
use glam::{DMat3, DMat4};
use pipelines::Pipelines;
use readback::Readback;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// Errors from the GPU side.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no GPU adapter found ({details}).\n  pinsynth renders with Vulkan (Metal on macOS, DX12 on Windows) and needs a driver even without a GPU.\n  On Debian/Ubuntu install the software Vulkan driver: `sudo apt-get install mesa-vulkan-drivers` (check with `vulkaninfo --summary` from vulkan-tools)."
    )]
    NoAdapter { details: String },
    #[error("the GPU adapter {adapter} refused to create a device: {message}")]
    Device { adapter: String, message: String },
    #[error("reading the rendered image back failed: {0}")]
    Readback(String),
    #[error(
        "image {width}×{height} with antialias = {antialias} needs a {needed}-pixel texture; this adapter allows {limit}"
    )]
    TooLarge { width: u32, height: u32, antialias: &'static str, needed: u32, limit: u32 },
}

/// An adapter and its device.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
}

impl Gpu {
    /// Opens the best adapter of the native backends (`WGPU_BACKEND` may narrow them). A missing driver
    /// is an error that says what to install, never a panic.
    pub fn new() -> Result<Gpu, RenderError> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        desc.backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
        let instance = wgpu::Instance::new(desc);
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        }))
        .map_err(|e| RenderError::NoAdapter { details: e.to_string() })?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("pinsynth"),
            required_features: wgpu::Features::empty(),
            required_limits: wgpu::Limits::default(),
            ..Default::default()
        }))
        .map_err(|e| RenderError::Device { adapter: info.name.clone(), message: e.to_string() })?;
        let limits = device.limits();
        Ok(Gpu { device, queue, info, limits })
    }

    /// One line naming the adapter, e.g. `llvmpipe (LLVM 15.0.6, 256 bits) (Cpu, Vulkan, …)`.
    pub fn describe(&self) -> String {
        let i = &self.info;
        format!("{} ({:?}, {:?}, {} {})", i.name, i.device_type, i.backend, i.driver, i.driver_info)
    }
}

/// Rendered pixels of one image: tightly packed RGB8 (sRGB) and the 8-bit label mask.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
    pub mask: Vec<u8>,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct FrameUniform {
    clip_from_world: [[f32; 4]; 4],
    camera_position: [f32; 4],
    to_sun: [f32; 4],
    light: [f32; 4],
    world: [f32; 4],
    pin_color: [f32; 4],
    housing_color: [f32; 4],
    occluders: [u32; 4],
    grid: [f32; 4],
    grid_u: [f32; 4],
    grid_v: [f32; 4],
}

/// Cells per side of an image's shadow grid.
const GRID_CELLS: u32 = 16;
/// u32 words of one image's shadow grid: cell headers, then at worst every object in every cell.
const GRID_WORDS: usize = (2 * GRID_CELLS * GRID_CELLS) as usize * (1 + MAX_INSTANCES / 2);

/// An object as a shadow caster (see `shaders/scene.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Occluder {
    rows: [[f32; 4]; 3],
    info: [u32; 4],
}

/// Per-instance vertex data.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Instance {
    model: [[f32; 4]; 4],
    rotation: [[f32; 3]; 3],
    color: [f32; 4],
    /// Label, and the offset from this object's mesh's vertices to its baked light.
    label: [u32; 2],
}

/// At most 254 terminals + the housing per image.
const MAX_INSTANCES: usize = 256;
/// Uniform slots are 256 bytes apart (wgpu's minimum dynamic-offset alignment).
const FRAME_SLOT: u64 = 256;
const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;
const LABEL_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R8Uint;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// Atlas textures and readback buffers for one image size.
struct Targets {
    width: u32,
    height: u32,
    /// Tiles per atlas row; the atlas holds `batch` tiles.
    columns: u32,
    color_texture: wgpu::Texture,
    label_texture: wgpu::Texture,
    color: wgpu::TextureView,
    label: wgpu::TextureView,
    /// What the geometry pass draws into where that is not the final target.
    color_draw: Option<wgpu::TextureView>,
    label_draw: Option<wgpu::TextureView>,
    depth: wgpu::TextureView,
    /// msaa4's one-sample depth for the label pass.
    depth_label: Option<wgpu::TextureView>,
    resolve_bind: Option<wgpu::BindGroup>,
    color_readback: Readback,
    label_readback: Readback,
}

/// A reusable renderer bound to one device.
pub struct Renderer {
    gpu: Gpu,
    antialias: Antialias,
    /// Images drawn per submission.
    batch: usize,
    pipelines: Pipelines,
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    /// Index range of each [`Shape`]'s mesh in the shared index buffer.
    mesh_indices: [Range<u32>; 3],
    /// First vertex of each [`Shape`]'s mesh in the shared vertex buffer.
    mesh_base: [u32; 3],
    frames: wgpu::Buffer,
    occluders: wgpu::Buffer,
    grid: wgpu::Buffer,
    grid_scratch: Vec<u32>,
    /// Baked light of the current scene, its GPU copy and the bind group that uses it.
    bake: Option<(Arc<Bake>, wgpu::Buffer, wgpu::BindGroup)>,
    instances: wgpu::Buffer,
    targets: Option<Targets>,
    frame_scratch: Vec<u8>,
    instance_scratch: Vec<Instance>,
    times: StageTimes,
}

/// Where this renderer's time went so far (wall clock, summed over images).
#[derive(Clone, Copy, Debug, Default)]
pub struct StageTimes {
    /// Baking the scenes' light (once per scene and process; zero when another renderer did it).
    pub bake: std::time::Duration,
    /// Uploading, drawing and waiting for the GPU (msaa4's and ssaa3's anti-aliasing happen here).
    pub render: std::time::Duration,
    /// Copying pixels out of the mapped readback buffers.
    pub readback: std::time::Duration,
    /// CPU anti-aliasing (fxaa).
    pub antialias: std::time::Duration,
}

impl Renderer {
    /// Opens the GPU and builds pipelines and meshes for batches of up to `batch` images.
    pub fn new(antialias: Antialias, batch: usize) -> Result<Renderer, RenderError> {
        Ok(Renderer::with_gpu(Gpu::new()?, antialias, batch))
    }

    pub fn with_gpu(gpu: Gpu, antialias: Antialias, batch: usize) -> Renderer {
        // Images are drawn one per submission whatever `batch` asks: side by side in an atlas, the
        // interpolated world positions the shadow rays start from round differently at a tile's offset,
        // and the output bytes would depend on the batch size (measured). The atlas code stays for a
        // future per-layer target.
        let _ = batch;
        let batch = 1;
        let device = &gpu.device;
        let pipelines = Pipelines::new(device, antialias);
        // All meshes in one vertex and one index buffer (indices rebased onto the shared vertices).
        let mut all: Vec<mesh::Vertex> = Vec::new();
        let mut indices: Vec<u16> = Vec::new();
        let mut mesh_base = [0u32; 3];
        let mesh_indices = Shape::ALL.map(|shape| {
            let m = meshes::of(shape);
            mesh_base[Shape::ALL.iter().position(|s| *s == shape).unwrap_or(0)] = all.len() as u32;
            let (base, start) = (all.len() as u16, indices.len() as u32);
            all.extend(&m.vertices);
            indices.extend(m.indices.iter().map(|i| i + base));
            start..indices.len() as u32
        });
        if indices.len() % 2 == 1 {
            indices.push(0); // buffer writes are whole 4-byte words; the pad index is never drawn
        }
        let buffer = |label: &str, usage: wgpu::BufferUsages, size: u64| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage: usage | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let vertices =
            buffer("mesh vertices", wgpu::BufferUsages::VERTEX, (all.len() * size_of::<mesh::Vertex>()) as u64);
        gpu.queue.write_buffer(&vertices, 0, bytemuck::cast_slice(&all));
        let index_buffer = buffer("mesh indices", wgpu::BufferUsages::INDEX, indices.len() as u64 * 2);
        gpu.queue.write_buffer(&index_buffer, 0, bytemuck::cast_slice(&indices));
        let frames = buffer("frames", wgpu::BufferUsages::UNIFORM, FRAME_SLOT * batch as u64);
        let instances =
            buffer("instances", wgpu::BufferUsages::VERTEX, (batch * MAX_INSTANCES * size_of::<Instance>()) as u64);
        let occluders =
            buffer("occluders", wgpu::BufferUsages::STORAGE, (batch * MAX_INSTANCES * size_of::<Occluder>()) as u64);
        let grid = buffer("shadow grid", wgpu::BufferUsages::STORAGE, (batch * GRID_WORDS * 4) as u64);
        Renderer {
            mesh_base,
            occluders,
            grid,
            grid_scratch: Vec::new(),
            bake: None,
            antialias,
            batch,
            pipelines,
            vertices,
            indices: index_buffer,
            mesh_indices,
            frames,
            instances,
            targets: None,
            frame_scratch: vec![0; FRAME_SLOT as usize * batch],
            instance_scratch: Vec::with_capacity(batch * MAX_INSTANCES),
            times: StageTimes::default(),
            gpu,
        }
    }

    /// Time spent per stage so far.
    pub fn stage_times(&self) -> StageTimes {
        self.times
    }

    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The most images [`Renderer::render_batch`] takes at once.
    pub fn batch(&self) -> usize {
        self.batch
    }

    fn ensure_targets(&mut self, width: u32, height: u32) -> Result<(), RenderError> {
        if self.targets.as_ref().is_some_and(|t| t.width == width && t.height == height) {
            return Ok(());
        }
        let factor = if self.antialias == Antialias::Ssaa3 { 3 } else { 1 };
        let limit = self.gpu.limits.max_texture_dimension_2d;
        let needed = width.max(height) * factor;
        if needed > limit {
            return Err(RenderError::TooLarge { width, height, antialias: self.antialias.as_str(), needed, limit });
        }
        // Tiles in rows of `columns`, as many rows as the batch needs, within the texture limit.
        let columns = (limit / (width * factor)).clamp(1, self.batch as u32);
        let rows = (self.batch as u32).div_ceil(columns).min(limit / (height * factor)).max(1);
        self.batch = self.batch.min((columns * rows) as usize);
        let size = (width * columns, height * rows);
        let device = &self.gpu.device;
        let texture = |label: &str, format, (w, h): (u32, u32), samples: u32, usage| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: samples,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
        };
        let view = |t: &wgpu::Texture| t.create_view(&Default::default());
        let attach = wgpu::TextureUsages::RENDER_ATTACHMENT;
        let color_texture = texture("color", COLOR_FORMAT, size, 1, attach | wgpu::TextureUsages::COPY_SRC);
        let label_texture = texture("label", LABEL_FORMAT, size, 1, attach | wgpu::TextureUsages::COPY_SRC);
        let depth1 = || view(&texture("depth", DEPTH_FORMAT, size, 1, attach));
        let (color_draw, label_draw, depth, depth_label, resolve_bind) = match self.antialias {
            Antialias::None | Antialias::Fxaa => (None, None, depth1(), None, None),
            Antialias::Msaa4 => (
                Some(view(&texture("color msaa", COLOR_FORMAT, size, 4, attach))),
                None,
                view(&texture("depth msaa", DEPTH_FORMAT, size, 4, attach)),
                Some(depth1()),
                None,
            ),
            Antialias::Ssaa3 => {
                let big = (size.0 * 3, size.1 * 3);
                let sampled = attach | wgpu::TextureUsages::TEXTURE_BINDING;
                let c = view(&texture("color 3x", COLOR_FORMAT, big, 1, sampled));
                let l = view(&texture("label 3x", LABEL_FORMAT, big, 1, sampled));
                let (_, layout) = self.pipelines.resolve.as_ref().expect("ssaa3 has a resolve pipeline"); // ok: Pipelines::new makes it for Ssaa3
                let tex = |binding, view| wgpu::BindGroupEntry {
                    binding,
                    resource: wgpu::BindingResource::TextureView(view),
                };
                let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("resolve ssaa3"),
                    layout,
                    entries: &[tex(0, &c), tex(1, &l)],
                });
                (Some(c), Some(l), view(&texture("depth 3x", DEPTH_FORMAT, big, 1, attach)), None, Some(bind))
            }
        };
        self.targets = Some(Targets {
            width,
            height,
            columns,
            color: view(&color_texture),
            label: view(&label_texture),
            color_readback: Readback::new(device, size.0, size.1, 4, "color readback"),
            label_readback: Readback::new(device, size.0, size.1, 1, "label readback"),
            color_texture,
            label_texture,
            color_draw,
            label_draw,
            depth,
            depth_label,
            resolve_bind,
        });
        Ok(())
    }

    /// Renders one image into `out`.
    pub fn render(&mut self, posed: &Posed, out: &mut Pixels) -> Result<(), RenderError> {
        self.render_batch(std::slice::from_ref(posed), std::slice::from_mut(out))
    }

    /// Renders up to [`Renderer::batch`] images of one size (and one background colour) together; longer
    /// slices are split. Output buffers are reused.
    pub fn render_batch(&mut self, posed: &[Posed], out: &mut [Pixels]) -> Result<(), RenderError> {
        assert_eq!(posed.len(), out.len(), "one output per posed image");
        let Some(first) = posed.first() else { return Ok(()) };
        let (width, height) = (first.camera.width, first.camera.height);
        self.ensure_targets(width, height)?;
        // Images of another size or background than the first go in their own batches.
        let same = |p: &Posed| {
            p.camera.width == width
                && p.camera.height == height
                && p.background == first.background
                && (Arc::ptr_eq(&p.nominal, &first.nominal) || p.nominal == first.nominal)
        };
        let n = posed.iter().take(self.batch).take_while(|p| same(p)).count();
        let (start, baked_before) = (std::time::Instant::now(), self.times.bake);
        self.draw(&posed[..n])?;
        let drawn = std::time::Instant::now();
        let t = self.targets.as_ref().expect("ensure_targets made them"); // ok: set just above
        let origins: Vec<(u32, u32)> = (0..n).map(|tile| tile_origin(tile, t.columns, width, height)).collect();
        let size = (width, height);
        t.color_readback.read_tiles(3, size, origins.iter().copied().zip(out[..n].iter_mut().map(|p| &mut p.rgb)))?;
        t.label_readback.read_tiles(1, size, origins.iter().copied().zip(out[..n].iter_mut().map(|p| &mut p.mask)))?;
        let read = std::time::Instant::now();
        self.times.render += (drawn - start).saturating_sub(self.times.bake - baked_before);
        self.times.readback += read - drawn;
        for px in out[..n].iter_mut() {
            px.width = width;
            px.height = height;
            if self.antialias == Antialias::Fxaa {
                fxaa::apply(&mut px.rgb, width, height);
            }
        }
        self.times.antialias += read.elapsed();
        if n < posed.len() { self.render_batch(&posed[n..], &mut out[n..]) } else { Ok(()) }
    }

    /// Uploads, draws and reads back one batch (all of one size and background); leaves the readback
    /// buffers mapped.
    fn draw(&mut self, posed: &[Posed]) -> Result<(), RenderError> {
        self.ensure_bake(&posed[0].nominal);
        let ranges = self.upload(posed);
        let t = self.targets.as_ref().expect("ensure_targets made them"); // ok: called after ensure_targets
        let frame_bind = &self.bake.as_ref().expect("ensure_bake made it").2; // ok: set just above
        let p = &self.pipelines;
        let [r, g, b] = posed[0].background;
        let clear = wgpu::Color { r, g, b, a: 1.0 };
        let color_att = |view, resolve_target, store| {
            Some(wgpu::RenderPassColorAttachment {
                view,
                depth_slice: None,
                resolve_target,
                ops: wgpu::Operations { load: wgpu::LoadOp::Clear(clear), store },
            })
        };
        let label_att = |view| {
            Some(wgpu::RenderPassColorAttachment {
                view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                    store: wgpu::StoreOp::Store,
                },
            })
        };
        let scale = if self.antialias == Antialias::Ssaa3 { 3 } else { 1 };
        let geometry_pass = |encoder: &mut wgpu::CommandEncoder,
                             colors: &[Option<wgpu::RenderPassColorAttachment>],
                             depth,
                             pipeline: &wgpu::RenderPipeline| {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                color_attachments: colors,
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: depth,
                    depth_ops: Some(wgpu::Operations { load: wgpu::LoadOp::Clear(1.0), store: wgpu::StoreOp::Discard }),
                    stencil_ops: None,
                }),
                ..Default::default()
            });
            pass.set_pipeline(pipeline);
            pass.set_vertex_buffer(0, self.vertices.slice(..));
            pass.set_vertex_buffer(1, self.instances.slice(..));
            pass.set_index_buffer(self.indices.slice(..), wgpu::IndexFormat::Uint16);
            for (tile, shapes) in ranges.iter().enumerate() {
                let (x, y) = tile_origin(tile, t.columns, t.width * scale, t.height * scale);
                pass.set_viewport(x as f32, y as f32, (t.width * scale) as f32, (t.height * scale) as f32, 0.0, 1.0);
                pass.set_scissor_rect(x, y, t.width * scale, t.height * scale);
                pass.set_bind_group(0, frame_bind, &[tile as u32 * FRAME_SLOT as u32]);
                for (mesh, instances) in self.mesh_indices.iter().zip(shapes) {
                    if !instances.is_empty() {
                        pass.draw_indexed(mesh.clone(), 0, instances.clone());
                    }
                }
            }
        };
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        // Each mode's draw targets were made for it in ensure_targets.
        let missing = "target made by ensure_targets for this mode";
        match self.antialias {
            Antialias::None | Antialias::Fxaa => geometry_pass(
                &mut encoder,
                &[color_att(&t.color, None, wgpu::StoreOp::Store), label_att(&t.label)],
                &t.depth,
                &p.geometry,
            ),
            Antialias::Msaa4 => {
                let msaa = t.color_draw.as_ref().expect(missing); // ok: ensure_targets made this mode's targets
                geometry_pass(
                    &mut encoder,
                    &[color_att(msaa, Some(&t.color), wgpu::StoreOp::Discard)],
                    &t.depth,
                    &p.geometry,
                );
                let label = p.label.as_ref().expect(missing); // ok: ensure_targets made this mode's targets
                geometry_pass(&mut encoder, &[label_att(&t.label)], t.depth_label.as_ref().expect(missing), label); // ok: ensure_targets made this mode's targets
            }
            Antialias::Ssaa3 => {
                let (c, l) = (t.color_draw.as_ref().expect(missing), t.label_draw.as_ref().expect(missing)); // ok: ensure_targets made this mode's targets
                geometry_pass(
                    &mut encoder,
                    &[color_att(c, None, wgpu::StoreOp::Store), label_att(l)],
                    &t.depth,
                    &p.geometry,
                );
                let (pipeline, _) = p.resolve.as_ref().expect(missing); // ok: ensure_targets made this mode's targets
                let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                    color_attachments: &[color_att(&t.color, None, wgpu::StoreOp::Store), label_att(&t.label)],
                    ..Default::default()
                });
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, t.resolve_bind.as_ref(), &[]);
                pass.draw(0..3, 0..1);
            }
        }
        t.color_readback.copy(&mut encoder, &t.color_texture);
        t.label_readback.copy(&mut encoder, &t.label_texture);
        self.gpu.queue.submit([encoder.finish()]);
        readback::map_all(&self.gpu.device, &[&t.color_readback, &t.label_readback])
    }

    /// Writes each image's frame uniform slot and its instances grouped by shape; returns each image's
    /// instance range per shape.
    fn upload(&mut self, posed: &[Posed]) -> Vec<[Range<u32>; 3]> {
        self.instance_scratch.clear();
        let mut occluders: Vec<Occluder> = Vec::with_capacity(posed.len() * MAX_INSTANCES);
        self.grid_scratch.clear();
        let bake = &self.bake.as_ref().expect("ensure_bake runs first").0; // ok: draw calls ensure_bake first
        let mut ranges = Vec::with_capacity(posed.len());
        for (tile, p) in posed.iter().enumerate() {
            let cam = &p.camera;
            let light = &p.light;
            let nominal_sun = p.nominal.light.sun_strength;
            // Baked bounce light scales with this image's sun (the bake used the scene's own).
            let bounce = if nominal_sun > 0.0 { light.sun_strength / nominal_sun } else { 1.0 } as f32;
            let rgb = |c: [f64; 3], k: f32| [c[0] as f32 * k, c[1] as f32 * k, c[2] as f32 * k, 0.0];
            let objects: Vec<Object> = p.pins.iter().map(|pin| pin.object(p.pin_color)).chain(p.housing).collect();
            let first = occluders.len() as u32;
            occluders.extend(objects.iter().map(occluder));
            let to_sun = -p.sun_direction;
            let tan_r = (light.sun_angle_deg.to_radians() / 2.0).tan();
            let grid = shadow_grid(&objects, to_sun, tan_r, first, &mut self.grid_scratch);
            let uniform = FrameUniform {
                clip_from_world: cam.clip_from_world().as_mat4().to_cols_array_2d(),
                camera_position: cam.position().as_vec3().extend(1.0).to_array(),
                to_sun: (-p.sun_direction)
                    .as_vec3()
                    .extend((light.sun_angle_deg.to_radians() / 2.0).tan() as f32)
                    .to_array(),
                light: [
                    (light.sun_strength / std::f64::consts::PI) as f32,
                    light.ambient as f32,
                    if light.shadows { 1.0 } else { 0.0 },
                    0.0,
                ],
                world: {
                    let mut w = rgb(p.background, 1.0);
                    w[3] = if light.world_light { 1.0 } else { 0.0 };
                    w
                },
                pin_color: rgb(p.pin_color, bounce),
                housing_color: rgb(p.housing.map_or([0.0; 3], |h| h.color), bounce),
                occluders: [first, objects.len() as u32, grid.start, GRID_CELLS],
                grid: grid.origin_scale,
                grid_u: grid.u,
                grid_v: grid.v,
            };
            let slot = tile * FRAME_SLOT as usize;
            self.frame_scratch[slot..slot + size_of::<FrameUniform>()].copy_from_slice(bytemuck::bytes_of(&uniform));
            // Each object's baked light: the nominal object with its label (a defective terminal keeps
            // the light of its place).
            let base = |o: &Object| {
                let offset = bake.offset_of(o.label).unwrap_or(bake.fallback);
                let shape = Shape::ALL.iter().position(|s| *s == o.shape).unwrap_or(0);
                offset.wrapping_sub(self.mesh_base[shape])
            };
            ranges.push(Shape::ALL.map(|shape| {
                let start = self.instance_scratch.len() as u32;
                self.instance_scratch.extend(objects.iter().filter(|o| o.shape == shape).map(|o| instance(o, base(o))));
                start..self.instance_scratch.len() as u32
            }));
        }
        let queue = &self.gpu.queue;
        queue.write_buffer(&self.frames, 0, &self.frame_scratch[..posed.len() * FRAME_SLOT as usize]);
        queue.write_buffer(&self.instances, 0, bytemuck::cast_slice(&self.instance_scratch));
        queue.write_buffer(&self.occluders, 0, bytemuck::cast_slice(&occluders));
        queue.write_buffer(&self.grid, 0, bytemuck::cast_slice(&self.grid_scratch));
        ranges
    }

    /// Makes sure the baked light of `nominal`'s scene is on the GPU (baked once per process and scene).
    fn ensure_bake(&mut self, nominal: &Nominal) {
        let inputs = bake_inputs(nominal);
        if self.bake.as_ref().is_some_and(|(b, _, _)| b.inputs == inputs) {
            return;
        }
        let start = std::time::Instant::now();
        let bake = baked(inputs);
        self.times.bake += start.elapsed();
        let device = &self.gpu.device;
        let data = bake.gpu_data();
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("baked light"),
            size: (data.len() * 16).max(16) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.gpu.queue.write_buffer(&buffer, 0, bytemuck::cast_slice(&data));
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("frame"),
            layout: &self.pipelines.frame_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &self.frames,
                        offset: 0,
                        size: wgpu::BufferSize::new(size_of::<FrameUniform>() as u64),
                    }),
                },
                wgpu::BindGroupEntry { binding: 1, resource: self.occluders.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: buffer.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 3, resource: self.grid.as_entire_binding() },
            ],
        });
        self.bake = Some((bake, buffer, bind));
    }
}

/// What the bake of `n`'s scene depends on.
pub fn bake_inputs(n: &Nominal) -> BakeInputs {
    let l = &n.light;
    BakeInputs {
        objects: n.objects.clone(),
        to_sun: -n.sun_direction,
        sun: l.sun_strength / std::f64::consts::PI,
        world: if l.world_light { n.background } else { [0.0; 3] },
        pin_color: n.pin_color,
        housing_color: n.housing_color,
        shadows: l.shadows,
        bounce: l.bounce,
    }
}

/// Bakes are shared by every renderer of the process (each worker has its own), made once per scene.
fn baked(inputs: BakeInputs) -> Arc<Bake> {
    static CACHE: Mutex<Vec<Arc<Bake>>> = Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(b) = cache.iter().find(|b| b.inputs == inputs) {
        return b.clone();
    }
    let b = Arc::new(Bake::new(inputs));
    if cache.len() >= 4 {
        cache.remove(0);
    }
    cache.push(b.clone());
    b
}

/// Top-left pixel of tile `tile` in an atlas `columns` tiles wide.
fn tile_origin(tile: usize, columns: u32, width: u32, height: u32) -> (u32, u32) {
    ((tile as u32 % columns) * width, (tile as u32 / columns) * height)
}

/// Where an image's shadow grid is and how it maps world points to cells.
struct Grid {
    start: u32,
    origin_scale: [f32; 4],
    u: [f32; 4],
    v: [f32; 4],
}

/// Appends an image's shadow grid to `out`: a [`GRID_CELLS`]² grid over the plane across the sun's
/// rays, each cell listing the objects (as indices from `first`) whose projection along the rays
/// (grown by their penumbra) overlaps it. A point can only be shadowed by an object whose projection
/// contains its own, so the shader tests just the objects of its cell.
fn shadow_grid(objects: &[Object], to_sun: glam::DVec3, tan_r: f64, first: u32, out: &mut Vec<u32>) -> Grid {
    let u = to_sun.any_orthonormal_vector();
    let v = to_sun.cross(u);
    let boxes: Vec<[f64; 4]> = objects
        .iter()
        .map(|o| {
            let m = o.rigid * DMat4::from_scale(o.half_extents);
            let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
            for i in 0..8 {
                let c = glam::DVec3::new(
                    if i & 1 == 0 { -1.0 } else { 1.0 },
                    if i & 2 == 0 { -1.0 } else { 1.0 },
                    if i & 4 == 0 { -1.0 } else { 1.0 },
                );
                let w = m.transform_point3(c);
                let (a, bb) = (w.dot(u), w.dot(v));
                b = [b[0].min(a), b[1].min(bb), b[2].max(a), b[3].max(bb)];
            }
            // The penumbra reaches 2·t·tan r past the edge, t at most the object's own size plus the
            // scene's (bounded here by the grid's extent, measured below, times a safe factor).
            b
        })
        .collect();
    let mut all = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for b in &boxes {
        all = [all[0].min(b[0]), all[1].min(b[1]), all[2].max(b[2]), all[3].max(b[3])];
    }
    let extent = (all[2] - all[0]).max(all[3] - all[1]).max(1e-6);
    let margin = 1e-4 * extent + 4.0 * tan_r * extent;
    let all = [all[0] - margin, all[1] - margin, all[2] + margin, all[3] + margin];
    let n = GRID_CELLS as usize;
    let scale = [n as f64 / (all[2] - all[0]), n as f64 / (all[3] - all[1])];
    let start = out.len();
    out.resize(start + 2 * n * n, 0);
    let cell_range = |lo: f64, hi: f64, origin: f64, k: f64| {
        let a = (((lo - margin - origin) * k).floor().max(0.0) as usize).min(n - 1);
        let b = (((hi + margin - origin) * k).floor().max(0.0) as usize).min(n - 1);
        a..=b
    };
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); n * n];
    for (i, b) in boxes.iter().enumerate() {
        for y in cell_range(b[1], b[3], all[1], scale[1]) {
            for x in cell_range(b[0], b[2], all[0], scale[0]) {
                lists[y * n + x].push(first + i as u32);
            }
        }
    }
    for (c, list) in lists.iter().enumerate() {
        out[start + 2 * c] = out.len() as u32;
        out[start + 2 * c + 1] = list.len() as u32;
        out.extend(list);
    }
    let f = |x: glam::DVec3| [x.x as f32, x.y as f32, x.z as f32, 0.0];
    Grid {
        start: start as u32,
        origin_scale: [all[0] as f32, all[1] as f32, scale[0] as f32, scale[1] as f32],
        u: f(u),
        v: f(v),
    }
}

fn occluder(o: &Object) -> Occluder {
    let local = (o.rigid * DMat4::from_scale(o.half_extents)).inverse().as_mat4();
    let r = local.transpose().to_cols_array_2d(); // rows of `local`
    Occluder { rows: [r[0], r[1], r[2]], info: [(o.shape == Shape::Cylinder) as u32, o.label as u32, 0, 0] }
}

fn instance(o: &Object, bake_offset: u32) -> Instance {
    let model = o.rigid * DMat4::from_scale(o.half_extents);
    Instance {
        model: model.as_mat4().to_cols_array_2d(),
        rotation: DMat3::from_mat4(o.rigid).as_mat3().to_cols_array_2d(),
        color: [o.color[0] as f32, o.color[1] as f32, o.color[2] as f32, 1.0],
        label: [o.label as u32, bake_offset],
    }
}
