//! The wgpu renderer: one device, pipelines and buffers made once and reused; images are drawn in
//! batches, side by side in one atlas texture (one viewport each), so the fixed cost of a render pass,
//! a submission and a readback is paid once per batch. Each image only adds a uniform slot and its
//! instances. Out come an sRGB colour image and an 8-bit instance mask per image.
//!
//! Anti-aliasing of the colour image ([`Antialias`]):
//! * `exact` (default): one pass writing colour and label, then the pixels edges cross resolved on the
//!   CPU from the exact geometry on 8 × 8 samples, coloured by the GPU's shading ([`exact`]);
//! * `msaa4`: a 4× multisampled colour pass, then the mask in a separate one-sample pass;
//! * `fxaa`: one pass writing colour and label, then FXAA on the CPU ([`fxaa`]): about twice as fast
//!   as msaa4 on lavapipe, but a perceptual smoothing, not a coverage estimate;
//! * `ssaa3`: one pass at 3W × 3H writing colour and label, resolved to W × H (mean of 9 colour samples,
//!   the label of the centre sample, which sits exactly on the pixel centre);
//! * `none`: one pass writing colour and label.
//!
//! The mask is always one sample at each pixel centre, nearest surface wins, never blended.

pub mod exact;
pub mod fxaa;
mod pipelines;
mod readback;
mod srgb;
mod vertex;

use crate::geometry::{MeshObject, Object, Posed, Shape};
use crate::meshfile::TriangleMesh;
use crate::spec::Antialias;
use bytemuck::{Pod, Zeroable};
use glam::{DMat3, DMat4};
use pipelines::{ModePipelines, Pipelines};
use readback::Readback;
use std::ops::Range;
use std::sync::Arc;
use vertex::GpuVertex;
use wgpu::util::DeviceExt;

/// Errors from the GPU side. Each keeps wgpu's error as its source.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no GPU adapter found ({source}).\n  pinsynth renders with Vulkan (Metal on macOS, DX12 on Windows) and needs a driver even without a GPU.\n  On Debian/Ubuntu install the software Vulkan driver: `sudo apt-get install mesa-vulkan-drivers` (check with `vulkaninfo --summary` from vulkan-tools)."
    )]
    NoAdapter {
        #[source]
        source: wgpu::RequestAdapterError,
    },
    #[error("the GPU adapter {adapter} refused to create a device: {source}")]
    Device {
        adapter: String,
        #[source]
        source: wgpu::RequestDeviceError,
    },
    #[error("reading the rendered image back failed: waiting for the GPU: {0}")]
    Poll(#[from] wgpu::PollError),
    #[error("reading the rendered image back failed: mapping the readback buffer: {0}")]
    Map(#[from] wgpu::BufferAsyncError),
    #[error("reading the rendered image back failed: the readback buffer's mapped range: {0}")]
    MappedRange(#[from] wgpu::MapRangeError),
    #[error("reading the rendered image back failed: wgpu dropped the map callback without calling it")]
    MapCallbackDropped(#[from] std::sync::mpsc::RecvError),
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
        .map_err(|source| RenderError::NoAdapter { source })?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("pinsynth"),
            required_features: wgpu::Features::empty(),
            required_limits: wgpu::Limits::default(),
            ..Default::default()
        }))
        .map_err(|source| RenderError::Device { adapter: info.name.clone(), source })?;
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
}

/// Per-instance vertex data.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Instance {
    model: [[f32; 4]; 4],
    rotation: [[f32; 3]; 3],
    color: [f32; 4],
    label: u32,
}

/// At most 254 terminals + the housing per image (a shroud: up to 6 boxes; or one mesh).
const MAX_INSTANCES: usize = 264;
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
    color_readback: Readback,
    label_readback: Readback,
    /// What only this anti-aliasing mode draws with.
    mode: ModeTargets,
}

/// Per anti-aliasing mode: the targets (and pipelines) the geometry pass draws with besides the
/// one-sample colour and label atlases.
enum ModeTargets {
    /// `none`, `fxaa` and `exact`: one pass writes colour and label straight into the atlases.
    Direct { depth: wgpu::TextureView },
    /// A 4-sample colour pass resolved into the colour atlas, then a one-sample label pass.
    Msaa4 {
        color: wgpu::TextureView,
        depth: wgpu::TextureView,
        label_pipeline: wgpu::RenderPipeline,
        label_depth: wgpu::TextureView,
    },
    /// One pass into 3× atlases, then a full-screen resolve into the one-sample atlases.
    Ssaa3 {
        color: wgpu::TextureView,
        label: wgpu::TextureView,
        depth: wgpu::TextureView,
        resolve: wgpu::RenderPipeline,
        resolve_bind: wgpu::BindGroup,
    },
}

/// Per anti-aliasing mode: the pass over the read-back pixels.
enum CpuPass {
    Nothing,
    Fxaa,
    Exact(Box<exact::Exact>),
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
    mesh_indices: [Range<u32>; Shape::ALL.len()],
    /// Meshes from files, uploaded the first time an image uses them (once per run): the mesh, its
    /// vertex and 32-bit index buffers ([`vertex::double_sided`]) and its index count.
    file_meshes: Vec<(Arc<TriangleMesh>, wgpu::Buffer, wgpu::Buffer, u32)>,
    /// Meshes made per image (bent terminals), rewritten every batch; grown when a batch needs more.
    image_meshes: ImageMeshes,
    frames: wgpu::Buffer,
    frame_bind: wgpu::BindGroup,
    instances: wgpu::Buffer,
    targets: Option<Targets>,
    /// What runs on the CPU after readback.
    cpu_pass: CpuPass,
    frame_scratch: Vec<u8>,
    instance_scratch: Vec<Instance>,
}

impl Renderer {
    /// Opens the GPU and builds pipelines and meshes for batches of up to `batch` images.
    pub fn new(antialias: Antialias, batch: usize) -> Result<Renderer, RenderError> {
        Ok(Renderer::with_gpu(Gpu::new()?, antialias, batch))
    }

    pub fn with_gpu(gpu: Gpu, antialias: Antialias, batch: usize) -> Renderer {
        let batch = batch.max(1);
        let device = &gpu.device;
        let pipelines = Pipelines::new(device, antialias);
        // All meshes in one vertex and one index buffer (indices rebased onto the shared vertices).
        let mut all: Vec<GpuVertex> = Vec::new();
        let mut indices: Vec<u16> = Vec::new();
        let mesh_indices = Shape::ALL.map(|shape| {
            let m = shape.mesh();
            let (base, start) = (all.len() as u32, indices.len() as u32);
            all.extend(m.vertices.iter().map(|&v| GpuVertex::from(v)));
            // The unit meshes hold ~800 vertices together: 16-bit indices.
            indices.extend(m.indices.iter().map(|i| u16::try_from(i + base).expect("unit meshes are small"))); // ok: fixed meshes
            start..indices.len() as u32
        });
        let buffer = |label: &str, usage: wgpu::BufferUsages, size: u64| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage: usage | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        // Written once: created with their contents (padded to whole 4-byte words by wgpu).
        let vertices = upload(device, "mesh vertices", wgpu::BufferUsages::VERTEX, bytemuck::cast_slice(&all));
        let index_buffer = upload(device, "mesh indices", wgpu::BufferUsages::INDEX, bytemuck::cast_slice(&indices));
        let frames = buffer("frames", wgpu::BufferUsages::UNIFORM, FRAME_SLOT * batch as u64);
        let instances =
            buffer("instances", wgpu::BufferUsages::VERTEX, (batch * MAX_INSTANCES * size_of::<Instance>()) as u64);
        let frame_bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("frame"),
            layout: &pipelines.frame_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &frames,
                    offset: 0,
                    size: wgpu::BufferSize::new(size_of::<FrameUniform>() as u64),
                }),
            }],
        });
        Renderer {
            antialias,
            batch,
            pipelines,
            vertices,
            indices: index_buffer,
            mesh_indices,
            file_meshes: Vec::new(),
            image_meshes: ImageMeshes::default(),
            frames,
            frame_bind,
            instances,
            targets: None,
            cpu_pass: match antialias {
                Antialias::Fxaa => CpuPass::Fxaa,
                Antialias::Exact => CpuPass::Exact(Box::default()),
                Antialias::None | Antialias::Msaa4 | Antialias::Ssaa3 => CpuPass::Nothing,
            },
            frame_scratch: vec![0; FRAME_SLOT as usize * batch],
            instance_scratch: Vec::with_capacity(batch * MAX_INSTANCES),
            gpu,
        }
    }

    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The most images [`Renderer::render_batch`] takes at once.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Makes the atlas targets for images of `width × height`; may lower `batch` to what fits.
    fn make_targets(&mut self, width: u32, height: u32) -> Result<Targets, RenderError> {
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
        let mode = match &self.pipelines.mode {
            ModePipelines::Direct => ModeTargets::Direct { depth: depth1() },
            ModePipelines::Msaa4 { label } => ModeTargets::Msaa4 {
                color: view(&texture("color msaa", COLOR_FORMAT, size, 4, attach)),
                depth: view(&texture("depth msaa", DEPTH_FORMAT, size, 4, attach)),
                label_pipeline: label.clone(),
                label_depth: depth1(),
            },
            ModePipelines::Ssaa3 { resolve, resolve_layout } => {
                let big = (size.0 * 3, size.1 * 3);
                let sampled = attach | wgpu::TextureUsages::TEXTURE_BINDING;
                let color = view(&texture("color 3x", COLOR_FORMAT, big, 1, sampled));
                let label = view(&texture("label 3x", LABEL_FORMAT, big, 1, sampled));
                let tex = |binding, view| wgpu::BindGroupEntry {
                    binding,
                    resource: wgpu::BindingResource::TextureView(view),
                };
                let resolve_bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("resolve ssaa3"),
                    layout: resolve_layout,
                    entries: &[tex(0, &color), tex(1, &label)],
                });
                let depth = view(&texture("depth 3x", DEPTH_FORMAT, big, 1, attach));
                ModeTargets::Ssaa3 { color, label, depth, resolve: resolve.clone(), resolve_bind }
            }
        };
        Ok(Targets {
            width,
            height,
            columns,
            color: view(&color_texture),
            label: view(&label_texture),
            color_readback: Readback::new(device, size.0, size.1, 4, "color readback"),
            label_readback: Readback::new(device, size.0, size.1, 1, "label readback"),
            color_texture,
            label_texture,
            mode,
        })
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
        // The targets are taken out while drawing and put back afterwards, even on an error.
        let t = match self.targets.take() {
            Some(t) if t.width == width && t.height == height => t,
            _ => self.make_targets(width, height)?,
        };
        // Images of another size or background than the first go in their own batches.
        let same = |p: &Posed| p.camera.width == width && p.camera.height == height && p.background == first.background;
        let n = posed.iter().take(self.batch).take_while(|p| same(p)).count();
        let drawn = self.draw(&t, &posed[..n]).and_then(|()| {
            let origins: Vec<(u32, u32)> = (0..n).map(|tile| tile_origin(tile, t.columns, width, height)).collect();
            let size = (width, height);
            t.color_readback.read_tiles(
                3,
                size,
                origins.iter().copied().zip(out[..n].iter_mut().map(|p| &mut p.rgb)),
            )?;
            t.label_readback.read_tiles(1, size, origins.iter().copied().zip(out[..n].iter_mut().map(|p| &mut p.mask)))
        });
        self.targets = Some(t);
        drawn?;
        for (px, p) in out[..n].iter_mut().zip(posed) {
            px.width = width;
            px.height = height;
            match &mut self.cpu_pass {
                CpuPass::Nothing => {}
                CpuPass::Fxaa => fxaa::apply(&mut px.rgb, width, height),
                CpuPass::Exact(pass) => pass.apply(p, px),
            }
        }
        if n < posed.len() { self.render_batch(&posed[n..], &mut out[n..]) } else { Ok(()) }
    }

    /// Uploads, draws and reads back one batch (all of one size and background); leaves the readback
    /// buffers mapped.
    fn draw(&mut self, t: &Targets, posed: &[Posed]) -> Result<(), RenderError> {
        let (ranges, file_draws, image_draws) = self.upload(posed);
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
                pass.set_bind_group(0, &self.frame_bind, &[tile as u32 * FRAME_SLOT as u32]);
                pass.set_vertex_buffer(0, self.vertices.slice(..));
                for (mesh, instances) in self.mesh_indices.iter().zip(shapes) {
                    if !instances.is_empty() {
                        pass.draw_indexed(mesh.clone(), 0, instances.clone());
                    }
                }
                for (file_mesh, instances) in &file_draws[tile] {
                    let (_, vertices, indices, count) = &self.file_meshes[*file_mesh];
                    pass.set_vertex_buffer(0, vertices.slice(..));
                    pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
                    pass.draw_indexed(0..*count, 0, instances.clone());
                    pass.set_index_buffer(self.indices.slice(..), wgpu::IndexFormat::Uint16);
                }
                if let Some((vertices, indices)) = self.image_meshes.buffers() {
                    for (range, instance) in &image_draws[tile] {
                        pass.set_vertex_buffer(0, vertices.slice(..));
                        pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
                        pass.draw_indexed(range.clone(), 0, *instance..*instance + 1);
                    }
                    pass.set_index_buffer(self.indices.slice(..), wgpu::IndexFormat::Uint16);
                }
            }
        };
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        match &t.mode {
            ModeTargets::Direct { depth } => geometry_pass(
                &mut encoder,
                &[color_att(&t.color, None, wgpu::StoreOp::Store), label_att(&t.label)],
                depth,
                &p.geometry,
            ),
            ModeTargets::Msaa4 { color, depth, label_pipeline, label_depth } => {
                geometry_pass(
                    &mut encoder,
                    &[color_att(color, Some(&t.color), wgpu::StoreOp::Discard)],
                    depth,
                    &p.geometry,
                );
                geometry_pass(&mut encoder, &[label_att(&t.label)], label_depth, label_pipeline);
            }
            ModeTargets::Ssaa3 { color, label, depth, resolve, resolve_bind } => {
                geometry_pass(
                    &mut encoder,
                    &[color_att(color, None, wgpu::StoreOp::Store), label_att(label)],
                    depth,
                    &p.geometry,
                );
                let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                    color_attachments: &[color_att(&t.color, None, wgpu::StoreOp::Store), label_att(&t.label)],
                    ..Default::default()
                });
                pass.set_pipeline(resolve);
                pass.set_bind_group(0, resolve_bind, &[]);
                pass.draw(0..3, 0..1);
            }
        }
        t.color_readback.copy(&mut encoder, &t.color_texture);
        t.label_readback.copy(&mut encoder, &t.label_texture);
        self.gpu.queue.submit([encoder.finish()]);
        readback::map_all(&self.gpu.device, &[&t.color_readback, &t.label_readback])
    }

    /// Writes each image's frame uniform slot and its instances grouped by shape; returns each image's
    /// instance range per shape, per image the file meshes to draw (index into `file_meshes`,
    /// instances), and per image the per-image meshes (index range in `image_meshes`, instance).
    #[allow(clippy::type_complexity)]
    fn upload(
        &mut self,
        posed: &[Posed],
    ) -> (Vec<[Range<u32>; Shape::ALL.len()]>, Vec<Vec<(usize, Range<u32>)>>, Vec<Vec<(Range<u32>, u32)>>) {
        self.instance_scratch.clear();
        self.image_meshes.clear();
        let mut ranges = Vec::with_capacity(posed.len());
        let mut file_draws = Vec::with_capacity(posed.len());
        let mut image_draws = Vec::with_capacity(posed.len());
        for (tile, p) in posed.iter().enumerate() {
            let cam = &p.camera;
            let light = &p.light;
            let uniform = FrameUniform {
                clip_from_world: cam.clip_from_world().as_mat4().to_cols_array_2d(),
                camera_position: cam.position().as_vec3().extend(1.0).to_array(),
                to_sun: (-p.sun_direction).as_vec3().extend(0.0).to_array(),
                light: [
                    (light.sun_strength / std::f64::consts::PI) as f32,
                    light.ambient as f32,
                    light.specular as f32,
                    light.shininess as f32,
                ],
            };
            let slot = tile * FRAME_SLOT as usize;
            self.frame_scratch[slot..slot + size_of::<FrameUniform>()].copy_from_slice(bytemuck::bytes_of(&uniform));
            // Bent terminals have a mesh of their own (drawn below); the others are instances.
            let (objects, meshes) = p.drawables();
            ranges.push(Shape::ALL.map(|shape| {
                let start = self.instance_scratch.len() as u32;
                self.instance_scratch.extend(objects.iter().filter(|o| o.shape == shape).map(instance));
                start..self.instance_scratch.len() as u32
            }));
            // One draw per mesh with all its instances (every terminal of a mesh kind shares one mesh),
            // in the order of first use.
            let mut draws: Vec<(usize, Range<u32>)> = Vec::new();
            let mut order: Vec<usize> = Vec::new();
            let which: Vec<usize> = meshes.iter().map(|m| self.file_mesh(&m.mesh, m.closed)).collect();
            for &i in &which {
                if !order.contains(&i) {
                    order.push(i);
                }
            }
            for i in order {
                let start = self.instance_scratch.len() as u32;
                self.instance_scratch
                    .extend(meshes.iter().zip(&which).filter(|(_, w)| **w == i).map(|(m, _)| mesh_instance(m)));
                draws.push((i, start..self.instance_scratch.len() as u32));
            }
            file_draws.push(draws);
            let mut draws = Vec::new();
            for pin in p.bent_pins() {
                let instance = self.instance_scratch.len() as u32;
                self.instance_scratch.push(rigid_instance(&pin.transform, p.pin_color, pin.label));
                draws.push((self.image_meshes.push(&pin.local_mesh()), instance));
            }
            image_draws.push(draws);
        }
        let queue = &self.gpu.queue;
        queue.write_buffer(&self.frames, 0, &self.frame_scratch[..posed.len() * FRAME_SLOT as usize]);
        queue.write_buffer(&self.instances, 0, bytemuck::cast_slice(&self.instance_scratch));
        self.image_meshes.upload(&self.gpu.device, queue);
        (ranges, file_draws, image_draws)
    }

    /// The index of `mesh` in `file_meshes`, uploading it the first time.
    fn file_mesh(&mut self, mesh: &Arc<TriangleMesh>, closed: bool) -> usize {
        if let Some(i) = self.file_meshes.iter().position(|(m, ..)| Arc::ptr_eq(m, mesh)) {
            return i;
        }
        let (vertices, indices) = if closed { vertex::single_sided(mesh) } else { vertex::double_sided(mesh) };
        let device = &self.gpu.device;
        let v = upload(device, "file mesh vertices", wgpu::BufferUsages::VERTEX, bytemuck::cast_slice(&vertices));
        let i = upload(device, "file mesh indices", wgpu::BufferUsages::INDEX, bytemuck::cast_slice(&indices));
        self.file_meshes.push((mesh.clone(), v, i, indices.len() as u32));
        self.file_meshes.len() - 1
    }
}

/// Meshes that change from image to image (bent terminals): gathered per batch on the CPU, written
/// into one vertex and one 32-bit index buffer, which grow (to the next power of two) when a batch
/// needs more. Scenes without such meshes never create them.
#[derive(Default)]
struct ImageMeshes {
    vertices: Vec<GpuVertex>,
    indices: Vec<u32>,
    buffers: Option<(wgpu::Buffer, wgpu::Buffer)>,
}

impl ImageMeshes {
    fn clear(&mut self) {
        self.vertices.clear();
        self.indices.clear();
    }

    /// Adds a mesh; returns its index range.
    fn push(&mut self, m: &crate::geometry::mesh::Mesh) -> Range<u32> {
        let (base, start) = (self.vertices.len() as u32, self.indices.len() as u32);
        self.vertices.extend(m.vertices.iter().map(|&v| GpuVertex::from(v)));
        self.indices.extend(m.indices.iter().map(|&i| base + i));
        start..self.indices.len() as u32
    }

    fn upload(&mut self, device: &wgpu::Device, queue: &wgpu::Queue) {
        if self.indices.is_empty() {
            return;
        }
        let (vertex_bytes, index_bytes) = (self.vertices.len() * size_of::<GpuVertex>(), self.indices.len() * 4);
        let fits = self
            .buffers
            .as_ref()
            .is_some_and(|(v, i)| v.size() as usize >= vertex_bytes && i.size() as usize >= index_bytes);
        if !fits {
            let buffer = |label, usage, bytes: usize| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size: bytes.next_power_of_two().max(4096) as u64,
                    usage: usage | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            };
            self.buffers = Some((
                buffer("image mesh vertices", wgpu::BufferUsages::VERTEX, vertex_bytes),
                buffer("image mesh indices", wgpu::BufferUsages::INDEX, index_bytes),
            ));
        }
        let (v, i) = self.buffers.as_ref().expect("made above"); // ok: just created or kept
        queue.write_buffer(v, 0, bytemuck::cast_slice(&self.vertices));
        queue.write_buffer(i, 0, bytemuck::cast_slice(&self.indices));
    }

    fn buffers(&self) -> Option<(&wgpu::Buffer, &wgpu::Buffer)> {
        self.buffers.as_ref().filter(|_| !self.indices.is_empty()).map(|(v, i)| (v, i))
    }
}

/// A buffer created holding `contents`, for data written once.
fn upload(device: &wgpu::Device, label: &str, usage: wgpu::BufferUsages, contents: &[u8]) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(label), contents, usage })
}

/// Top-left pixel of tile `tile` in an atlas `columns` tiles wide.
fn tile_origin(tile: usize, columns: u32, width: u32, height: u32) -> (u32, u32) {
    ((tile as u32 % columns) * width, (tile as u32 / columns) * height)
}

fn mesh_instance(m: &MeshObject) -> Instance {
    rigid_instance(&m.transform, m.color, m.label)
}

/// An instance whose mesh is already at its real size: the model matrix is the rigid transform.
fn rigid_instance(transform: &DMat4, color: [f64; 3], label: u8) -> Instance {
    Instance {
        model: transform.as_mat4().to_cols_array_2d(),
        rotation: DMat3::from_mat4(*transform).as_mat3().to_cols_array_2d(),
        color: [color[0] as f32, color[1] as f32, color[2] as f32, 1.0],
        label: label as u32,
    }
}

fn instance(o: &Object) -> Instance {
    let model = o.rigid * DMat4::from_scale(o.half_extents);
    Instance {
        model: model.as_mat4().to_cols_array_2d(),
        rotation: DMat3::from_mat4(o.rigid).as_mat3().to_cols_array_2d(),
        color: [o.color[0] as f32, o.color[1] as f32, o.color[2] as f32, 1.0],
        label: o.label as u32,
    }
}
