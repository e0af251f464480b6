//! The wgpu renderer: one device, pipelines and buffers made once and reused; images are drawn in
//! batches, one submission and one readback per batch: each image is drawn into the same one-image
//! targets (so its bytes never depend on its place in a batch) and copied into its slot of the
//! readback buffers. Each image only adds a uniform slot and its instances. Out come an sRGB colour
//! image and an 8-bit instance mask per image.
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
//!
//! Light (`shaders/scene.wgsl`): Lambert sun with shadows from a shadow map drawn per image (a depth
//! pass from the sun before the geometry pass; an image that differs from its scene's nominal pose by
//! a few casters, as a defect does, starts from a copy of a kept map of the others, [`shadow_cache`]),
//! plus the world and bounce light baked once per scene into light maps ([`bake`]).

pub mod bake;
pub mod bake_cache;
pub mod exact;
mod frame_memo;
pub mod fxaa;
mod influence;
mod pipelines;
pub mod polygon;
mod readback;
mod shading;
mod shadow_cache;
mod srgb;
mod sun_rays;
mod vertex;

use crate::geometry::{MeshObject, Nominal, Object, Posed, Shape};
use crate::meshfile::TriangleMesh;
use crate::spec::Antialias;
use bake::{Atlas, Bake, BakeInputs};
use bytemuck::{Pod, Zeroable};
use exact::Role;
use frame_memo::{Consult, Frame, FrameMemo, Key};
use glam::{DMat3, DMat4, DVec3, DVec4};
use influence::Rect;
use pipelines::{ModePipelines, Pipelines};
use readback::Readback;
use shading::Shading;
use shadow_cache::{CasterKey, Plan, ShadowCache};
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
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
        // An instance per device, not one per process: lavapipe's devices of one instance share its
        // rasteriser, so two workers' images were drawn one at a time (measured: a 1,000-image render
        // 5 % slower, two Python renderers no faster than one).
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
#[derive(Clone, Debug, Default)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
    pub mask: Vec<u8>,
    /// Set when these pixels are those of a frame the renderer keeps ([`frame_memo`]) outside a band
    /// of rows, so that their encoding can reuse the kept frame's. `None` says nothing. Not part of
    /// the value (`==` compares the pixels).
    pub like: Option<Like>,
}

impl PartialEq for Pixels {
    fn eq(&self, o: &Pixels) -> bool {
        (self.width, self.height) == (o.width, o.height) && self.rgb == o.rgb && self.mask == o.mask
    }
}

/// A frame a renderer keeps: a number no other kept frame of this process has, and its finished
/// pixels.
#[derive(Default)]
pub struct KeptFrame {
    pub id: u64,
    pub pixels: Pixels,
}

/// Pixels equal to `frame`'s outside the pixel rows `rows` (all of them when `rows` is empty).
#[derive(Clone)]
pub struct Like {
    pub frame: Arc<KeptFrame>,
    pub rows: Range<u32>,
}

impl std::fmt::Debug for Like {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Like {{ frame: {}, rows: {:?} }}", self.frame.id, self.rows)
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct FrameUniform {
    clip_from_world: [[f32; 4]; 4],
    shadow_from_world: [[f32; 4]; 4],
    to_sun: [f32; 4],
    light: [f32; 4],
    shadow: [f32; 4],
    world: [f32; 4],
    pin_color: [f32; 4],
    housing_color: [f32; 4],
    light_maps: [f32; 4],
}

/// Per-instance vertex data.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Instance {
    model: [[f32; 4]; 4],
    rotation: [[f32; 3]; 3],
    color: [f32; 4],
    /// Label; where the object's light map starts; its cells along x, y, z (8 bits each, 0 = none).
    label: [u32; 4],
}

/// At most 254 terminals + the housing per image (a shroud: up to 6 boxes; or one mesh); an image drawn
/// in part lists those in its rectangle again (twice as many in the buffer).
const MAX_INSTANCES: usize = 264;
/// Uniform slots are 256 bytes apart (wgpu's minimum dynamic-offset alignment).
const FRAME_SLOT: u64 = 256;
const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;
const LABEL_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R8Uint;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
const SHADOW_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth16Unorm;
/// Shadow-map depth bias (in the map's 0..1 depth): back faces are stored, so this only has to absorb
/// rounding.
const SHADOW_BIAS: f32 = 2e-4;
/// How far across the sun's rays, in shadow-map texels, a shadow lookup reaches besides the sun's
/// disc (`scene.wgsl`'s `sun_visibility`): along each of the map's axes the pixel's footprint (at most
/// `FOOTPRINT_TEXELS` = 2 for each of its two axes) and a bilinear tap's texel, 5 texels; 7.1 along a
/// diagonal.
const SHADOW_REACH_TEXELS: f64 = 8.0;

/// Targets of one image size and readback buffers for a batch of them.
struct Targets {
    width: u32,
    height: u32,
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
    /// The pass, and per image of a batch the sun visibility the shader wrote into alpha.
    Exact(Box<exact::Exact>, Vec<Vec<u8>>),
}

/// The CPU's pass over drawn image `job` of a batch (`px` as read back), as `role` says; the edge
/// pixels `exact` resolved.
fn cpu_pass(
    pass: &mut CpuPass,
    bake: &Option<(Arc<Bake>, Atlas, wgpu::TextureView)>,
    p: &Posed,
    px: &mut Pixels,
    job: usize,
    role: Role,
) -> exact::Edges {
    match pass {
        CpuPass::Nothing => exact::Edges::default(),
        CpuPass::Fxaa => {
            fxaa::apply(&mut px.rgb, px.width, px.height);
            exact::Edges::default()
        }
        CpuPass::Exact(pass, sun) => {
            let (_, atlas, _) = bake.as_ref().expect("draw made the bake"); // ok: render_batch calls ensure_bake
            pass.apply(p, px, &mut sun[job], atlas, role)
        }
    }
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
    /// vertex and 32-bit index buffers ([`vertex::single_sided`] for closed solids, else
    /// [`vertex::double_sided`]), its index count, its bounds and whether it is closed.
    #[allow(clippy::type_complexity)]
    file_meshes: Vec<(Arc<TriangleMesh>, wgpu::Buffer, wgpu::Buffer, u32, [DVec3; 2], bool)>,
    /// Meshes made per image (bent terminals), rewritten every batch; grown when a batch needs more.
    image_meshes: ImageMeshes,
    frames: wgpu::Buffer,
    /// The frame uniform alone, for the shadow pass.
    shadow_bind: wgpu::BindGroup,
    shadow_sampler: wgpu::Sampler,
    /// The geometry pass's group 0 (frame uniform, light maps, shadow maps, sampler); made again when the
    /// targets or the bake change.
    frame_bind: Option<wgpu::BindGroup>,
    /// The shadow map (drawn again for every image before its geometry pass) and its size, which
    /// follows the image size and the scene's extent across the sun's rays ([`shadow_map_size`]).
    shadow: Option<([u32; 2], wgpu::Texture, wgpu::TextureView)>,
    /// Shadow maps of the casters images share with their scene's nominal pose ([`shadow_cache`]).
    shadow_cache: ShadowCache,
    /// The last scene's nominal casters, sorted.
    nominal_casters: Option<(Arc<Nominal>, Arc<[CasterKey]>)>,
    /// Baked light of the current scene, its light-map atlas and the atlas's texture.
    bake: Option<(Arc<Bake>, Atlas, wgpu::TextureView)>,
    light_sampler: wgpu::Sampler,
    instances: wgpu::Buffer,
    targets: Option<Targets>,
    /// What runs on the CPU after readback.
    cpu_pass: CpuPass,
    /// The kept base frame ([`frame_memo`]); `None` for the modes it does not serve (fxaa's pass
    /// reaches far along edges; msaa4 and ssaa3 resolve whole images).
    frame_memo: Option<FrameMemo>,
    /// Whether the CPU draws the changing pixels of images over a base ([`frame_memo::Frame::Cpu`]):
    /// with `exact` on a software adapter (lavapipe), whose GPU work is CPU work too, and costs more
    /// per submission than the CPU does for those few pixels (measured: ~0.26 ms against ~0.47 ms
    /// an image at 224²). On a hardware GPU the GPU draws them.
    cpu_regions: bool,
    /// What the GPU drew of the batch's images drawn in part (within their scissors), read back here
    /// and put together with their base's pixels ([`Renderer::finish`]): buffers kept from batch to
    /// batch, so that an image's own buffers are written once, not zeroed first.
    part_scratch: Vec<Pixels>,
    /// The share of the sun of an image drawn in part on the CPU ([`frame_memo::Frame::Cpu`]): its
    /// base's, then its own within its region.
    fill_sun: Vec<u8>,
    frame_scratch: Vec<u8>,
    instance_scratch: Vec<Instance>,
    times: StageTimes,
}

/// Where a renderer's time went so far (wall clock, summed over images).
#[derive(Clone, Copy, Debug, Default)]
pub struct StageTimes {
    /// Baking scenes' light (once per scene and process; zero when another renderer did it first).
    pub bake: Duration,
    /// Uploading, drawing (shadow map, geometry; msaa4's and ssaa3's anti-aliasing) and waiting for the GPU.
    pub render: Duration,
    /// Copying pixels out of the mapped readback buffers.
    pub readback: Duration,
    /// CPU anti-aliasing (exact, fxaa).
    pub antialias: Duration,
    /// Images drawn whole, copied from a kept base frame, and drawn in part over one
    /// ([`frame_memo`]); base frames drawn (not among the images); pixels drawn in part (the GPU's
    /// scissor rectangles).
    pub whole: u64,
    pub copied: u64,
    /// Images that were the same frame as one drawn in part before over the same base, copied from it
    /// ([`frame_memo::Repeat`]).
    pub repeated: u64,
    pub partial: u64,
    pub bases: u64,
    pub partial_pixels: u64,
    /// Images whose changing pixels the CPU drew over their base, nothing on the GPU
    /// ([`frame_memo::Frame::Cpu`]), and those pixels.
    pub traced: u64,
    pub traced_pixels: u64,
    /// Of the images drawn in part (by the GPU or the CPU) with `exact`: their edge pixels resolved,
    /// and those that kept the base's colour ([`exact::Part`]).
    pub partial_edges: exact::Edges,
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
            buffer("instances", wgpu::BufferUsages::VERTEX, (batch * 2 * MAX_INSTANCES * size_of::<Instance>()) as u64);
        let shadow_bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("shadow"),
            layout: &pipelines.shadow_layout,
            entries: &[frame_entry(&frames)],
        });
        // Bilinear comparison: each tap is a 2×2 percentage-closer filter.
        let shadow_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("shadow"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            compare: Some(wgpu::CompareFunction::LessEqual),
            ..Default::default()
        });
        let light_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("light maps"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
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
            shadow_bind,
            shadow_sampler,
            frame_bind: None,
            bake: None,
            shadow: None,
            shadow_cache: ShadowCache::default(),
            nominal_casters: None,
            light_sampler,
            instances,
            targets: None,
            cpu_pass: match antialias {
                Antialias::Fxaa => CpuPass::Fxaa,
                Antialias::Exact => CpuPass::Exact(Box::default(), Vec::new()),
                Antialias::ExactGeometry => CpuPass::Exact(Box::new(exact::Exact::geometry_only()), Vec::new()),
                Antialias::None | Antialias::Msaa4 | Antialias::Ssaa3 => CpuPass::Nothing,
            },
            frame_memo: matches!(antialias, Antialias::None | Antialias::Exact | Antialias::ExactGeometry)
                .then(FrameMemo::default),
            cpu_regions: antialias == Antialias::Exact && gpu.info.device_type == wgpu::DeviceType::Cpu,
            part_scratch: Vec::new(),
            fill_sun: Vec::new(),
            frame_scratch: vec![0; FRAME_SLOT as usize * batch],
            instance_scratch: Vec::with_capacity(batch * MAX_INSTANCES),
            times: StageTimes::default(),
            gpu,
        }
    }

    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// Time spent per stage so far.
    pub fn stage_times(&self) -> StageTimes {
        self.times
    }

    /// The most images [`Renderer::render_batch`] takes at once.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Lets each of `renderers` copy the images the others made over a base it keeps too (a sweep's
    /// missing terminals, a defect drawn from a few values; [`frame_memo::Repeats`]), as it copies
    /// its own. Renderers of another anti-aliasing mode draw other frames: only those of the first's
    /// mode share.
    pub fn share_frames(renderers: &mut [Renderer]) {
        let store = Arc::new(frame_memo::Repeats::default());
        let mode = renderers.first().map(|r| r.antialias);
        for r in renderers.iter_mut().filter(|r| Some(r.antialias) == mode) {
            if let Some(memo) = &mut r.frame_memo {
                memo.share(store.clone());
            }
        }
    }

    /// Makes the atlas targets for images of `width × height`; may lower `batch` to what fits.
    fn make_targets(&mut self, width: u32, height: u32) -> Result<Targets, RenderError> {
        let factor = if self.antialias == Antialias::Ssaa3 { 3 } else { 1 };
        let limit = self.gpu.limits.max_texture_dimension_2d;
        let needed = width.max(height) * factor;
        if needed > limit {
            return Err(RenderError::TooLarge { width, height, antialias: self.antialias.as_str(), needed, limit });
        }
        // Every image is drawn into the same one-image targets (at the same pixel positions, so an image's
        // bytes never depend on its place in a batch) and copied into its slot of the readback buffers,
        // which stack the batch's images (at most 256 MiB of colour).
        let per_image = u64::from(width.div_ceil(64) * 64) * u64::from(height) * 4;
        self.batch = self.batch.min(((256 << 20) / per_image).max(1) as usize);
        let size = (width, height);
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
            color: view(&color_texture),
            label: view(&label_texture),
            color_readback: Readback::new(device, width, height, self.batch as u32, 4, "color readback"),
            label_readback: Readback::new(device, width, height, self.batch as u32, 1, "label readback"),
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
            _ => {
                self.frame_bind = None;
                self.make_targets(width, height)?
            }
        };
        // Images of another size, background or scene than the first go in their own batches.
        let same = |p: &Posed| {
            p.camera.width == width
                && p.camera.height == height
                && p.background == first.background
                && (Arc::ptr_eq(&p.nominal, &first.nominal) || p.nominal == first.nominal)
        };
        let n = posed.iter().take(self.batch).take_while(|p| same(p)).count();
        let (start, baked_before) = (Instant::now(), self.times.bake);
        self.ensure_bake(&first.nominal);
        self.ensure_shadow_map(&first.nominal, width, height);
        let (make, frames) = self.plan_frames(&posed[..n]);
        let n = frames.len();
        let mut base = Pixels::default();
        let mut drawn_at = start;
        let drawn = self.draw_frames(&t, make.as_ref().map(|(_, b)| b), &posed[..n], &frames).and_then(|scissors| {
            drawn_at = Instant::now();
            // The pixels of each image drawn: the base's first, then the images not copied (of those
            // drawn in part, into the scratch buffers).
            let parts = frames.iter().filter(|f| matches!(f, Frame::Region { .. })).count();
            let mut kept = std::mem::take(&mut self.part_scratch);
            kept.resize_with(kept.len().max(parts), Pixels::default);
            let mut scratch = kept.iter_mut();
            let images = out[..n].iter_mut().zip(&frames).filter_map(|(o, f)| match f {
                Frame::Full => Some(o),
                Frame::Region { .. } => scratch.next(),
                Frame::Copy | Frame::Repeat(_) | Frame::Cpu { .. } => None,
            });
            let outs: Vec<&mut Pixels> = make.as_ref().map(|_| &mut base).into_iter().chain(images).collect();
            let read = self.read_back(&t, outs, &scissors);
            self.part_scratch = kept;
            read
        });
        self.targets = Some(t);
        drawn?;
        let read = Instant::now();
        self.times.render += (drawn_at - start).saturating_sub(self.times.bake - baked_before);
        self.times.readback += read - drawn_at;
        self.finish(make.map(|(key, pose)| (key, pose, base)), &posed[..n], frames, &mut out[..n]);
        self.times.antialias += read.elapsed();
        if n < posed.len() { self.render_batch(&posed[n..], &mut out[n..]) } else { Ok(()) }
    }

    /// Draws what `frames` says of `posed` (after the base frame `base`, if one is made now): every
    /// image not copied, within its scissor rectangle if it has one.
    fn draw_frames(
        &mut self,
        t: &Targets,
        base: Option<&Posed>,
        posed: &[Posed],
        frames: &[Frame],
    ) -> Result<Vec<Option<Rect>>, RenderError> {
        let mut jobs: Vec<&Posed> = base.into_iter().collect();
        let mut scissors: Vec<Option<Rect>> = jobs.iter().map(|_| None).collect();
        for (p, frame) in posed.iter().zip(frames) {
            let scissor = match frame {
                Frame::Copy | Frame::Repeat(_) | Frame::Cpu { .. } => continue,
                Frame::Full => None,
                Frame::Region { scissor, .. } => Some(*scissor),
            };
            jobs.push(p);
            scissors.push(scissor);
        }
        if !jobs.is_empty() {
            self.draw(t, &jobs, &scissors)?;
        }
        Ok(scissors)
    }

    /// Reads the images drawn into `outs` (in the order drawn), and for the exact pass the sun's share
    /// the shader left in alpha (shadow edges).
    fn read_back(
        &mut self,
        t: &Targets,
        mut outs: Vec<&mut Pixels>,
        rects: &[Option<Rect>],
    ) -> Result<(), RenderError> {
        if outs.is_empty() {
            return Ok(());
        }
        let size = (t.width, t.height);
        let mut alphas = match &mut self.cpu_pass {
            CpuPass::Exact(_, sun) => {
                sun.resize_with(outs.len(), Vec::new);
                Some(sun.iter_mut())
            }
            _ => None,
        };
        let origin = |tile: usize| (0, tile as u32 * t.height);
        let tiles = outs.iter_mut().enumerate().map(|(tile, p)| readback::Tile {
            origin: origin(tile),
            rect: rects[tile],
            out: &mut p.rgb,
            alpha: alphas.as_mut().and_then(|a| a.next()),
        });
        t.color_readback.read_tiles(3, size, tiles)?;
        let tiles = outs.iter_mut().enumerate().map(|(tile, p)| readback::Tile {
            origin: origin(tile),
            rect: rects[tile],
            out: &mut p.mask,
            alpha: None,
        });
        t.label_readback.read_tiles(1, size, tiles)
    }

    /// After readback: keeps the base frame made now (its key, pose and pixels as drawn), then
    /// finishes each image as its frame says — the CPU pass over what was drawn (within the region of
    /// an image drawn in part, the base's pixels elsewhere), or the base copied.
    fn finish(&mut self, made: Option<(Key, Posed, Pixels)>, posed: &[Posed], frames: Vec<Frame>, out: &mut [Pixels]) {
        let (mut job, mut part) = (0, 0);
        // The images drawn in part, kept for their repeats after the batch (the batch's repeats were
        // planned with the ones kept before it).
        let mut repeats = Vec::new();
        if let Some((key, pose, mut px)) = made {
            self.times.bases += 1;
            (px.width, px.height) = (pose.camera.width, pose.camera.height);
            let mut kept = self.frame_memo.as_mut().and_then(|m| m.take_base()).unwrap_or_default();
            kept.rgb.clone_from(&px.rgb);
            if let CpuPass::Exact(_, sun) = &self.cpu_pass {
                kept.sun.clone_from(&sun[0]);
            }
            cpu_pass(&mut self.cpu_pass, &self.bake, &pose, &mut px, 0, Role::Base);
            kept.shared = Arc::new(KeptFrame { id: frame_memo::new_id(), pixels: Pixels { like: None, ..px } });
            if let Some(memo) = &mut self.frame_memo {
                memo.keep(key, kept);
            }
            job = 1;
        }
        for (i, ((px, p), frame)) in out.iter_mut().zip(posed).zip(frames).enumerate() {
            (px.width, px.height) = (p.camera.width, p.camera.height);
            px.like = None;
            let memo = &self.frame_memo;
            let base = || memo.as_ref().and_then(|m| m.base()).expect("planned with a base"); // ok: plan_frame
            match frame {
                Frame::Full => {
                    self.times.whole += 1;
                    cpu_pass(&mut self.cpu_pass, &self.bake, p, px, job, Role::Whole);
                    job += 1;
                }
                Frame::Copy => {
                    self.times.copied += 1;
                    let base = base();
                    px.rgb.clear();
                    px.rgb.extend_from_slice(base.done());
                    px.mask.clear();
                    px.mask.extend_from_slice(base.mask());
                    px.like = Some(Like { frame: base.shared.clone(), rows: 0..0 });
                }
                Frame::Repeat(repeat) => {
                    self.times.repeated += 1;
                    let memo = self.frame_memo.as_ref().expect("planned with a base"); // ok: plan_frame
                    let kept = memo.repeat(&repeat).expect("planned with a kept repeat"); // ok: see made
                    px.rgb.clone_from(&kept.rgb);
                    px.mask.clone_from(&kept.mask);
                    px.like = Some(Like { frame: base().shared.clone(), rows: kept.rows.clone() });
                }
                Frame::Region { scissor, exact, touched } => {
                    self.times.partial += 1;
                    self.times.partial_pixels += scissor.area();
                    let (base, w) = (base(), px.width);
                    let drawn = &self.part_scratch[part];
                    part += 1;
                    // The mask as drawn within the scissor; the colour as drawn where the exact pass
                    // reads it (the GPU's within the scissor, the base's as drawn outside it), as
                    // finished elsewhere.
                    px.mask.clear();
                    px.mask.extend_from_slice(base.mask());
                    frame_memo::copy_between(&drawn.mask, &mut px.mask, w, 1, scissor, Rect::EMPTY);
                    px.rgb.clear();
                    px.rgb.extend_from_slice(base.done());
                    frame_memo::copy_region(&drawn.rgb, &base.rgb, &mut px.rgb, 3, &exact, scissor);
                    if let CpuPass::Exact(_, sun) = &mut self.cpu_pass {
                        frame_memo::copy_outside(&base.sun, &mut sun[job], w, 1, scissor);
                    }
                    let part = exact::Part { region: &exact, touched: &touched, base, fill: None };
                    let edges = cpu_pass(&mut self.cpu_pass, &self.bake, p, px, job, Role::Part(&part));
                    self.times.partial_edges.resolved += edges.resolved;
                    self.times.partial_edges.kept += edges.kept;
                    job += 1;
                    // The colour differs from the base's within `exact` only, the mask within the
                    // scissor only.
                    let (e, s) = (exact.bounds, scissor);
                    let rows = if e.is_empty() { s.y0..s.y1 } else { e.y0.min(s.y0)..e.y1.max(s.y1) };
                    px.like = Some(Like { frame: base.shared.clone(), rows: rows.clone() });
                    repeats.extend(frame_memo::repeat_of(p).map(|r| (r, i, rows)));
                }
                Frame::Cpu { region, exact, touched } => {
                    self.times.traced += 1;
                    self.times.traced_pixels += region.count();
                    let base = base();
                    // The base's frame (as drawn where the exact pass reads it, as finished elsewhere),
                    // whose changing pixels the pass draws first.
                    px.mask.clear();
                    px.mask.extend_from_slice(base.mask());
                    px.rgb.clear();
                    px.rgb.extend_from_slice(base.done());
                    frame_memo::copy_region(&base.rgb, &base.rgb, &mut px.rgb, 3, &exact, Rect::EMPTY);
                    let mut sun = std::mem::take(&mut self.fill_sun);
                    sun.clone_from(&base.sun);
                    let part = exact::Part { region: &exact, touched: &touched, base, fill: Some(&region) };
                    let edges = match &mut self.cpu_pass {
                        CpuPass::Exact(pass, _) => {
                            let (_, atlas, _) = self.bake.as_ref().expect("draw made the bake"); // ok: render_batch calls ensure_bake
                            pass.apply(p, px, &mut sun, atlas, Role::Part(&part))
                        }
                        _ => unreachable!("planned for the exact pass alone"), // ok: plan_frame
                    };
                    self.fill_sun = sun;
                    self.times.partial_edges.resolved += edges.resolved;
                    self.times.partial_edges.kept += edges.kept;
                    let e = exact.bounds;
                    let rows = if e.is_empty() { region.bounds.y0..region.bounds.y1 } else { e.y0..e.y1 };
                    px.like = Some(Like { frame: base.shared.clone(), rows: rows.clone() });
                    repeats.extend(frame_memo::repeat_of(p).map(|r| (r, i, rows)));
                }
            }
        }
        if let Some(memo) = &mut self.frame_memo {
            memo.release();
            for (repeat, i, rows) in repeats {
                memo.made(repeat, &out[i].rgb, &out[i].mask, rows);
            }
        }
    }

    /// How each of `posed` (one batch) is made ([`frame_memo`]), and the base to draw first — its key
    /// and its pose — when one is made now; then the batch may hold one image fewer (the frames say
    /// how many).
    fn plan_frames(&mut self, posed: &[Posed]) -> (Option<(Key, Posed)>, Vec<Frame>) {
        let (mut make, mut on_kept) = (None, false);
        let mut keys: Vec<Option<Keyed>> = match self.frame_memo {
            Some(_) => posed.iter().map(|p| self.frame_key(p)).collect(),
            None => posed.iter().map(|_| None).collect(),
        };
        let mut frames = Vec::with_capacity(posed.len());
        for (i, p) in posed.iter().enumerate() {
            // A base is worth making at once when a later image of the batch has it too.
            let again = keys[i].as_ref().is_some_and(|k| keys[i + 1..].iter().flatten().any(|l| l.key == k.key));
            match self.plan_frame(p, keys[i].take(), again, &mut make, &mut on_kept) {
                Some(frame) => frames.push(frame),
                // It needs another base than the batch's: it starts the next batch.
                None => break,
            }
        }
        let drawn = frames.iter().filter(|f| f.is_drawn()).count();
        if make.is_some() && drawn + 1 > self.batch {
            // Every image is drawn (none is copied): the last waits for the next batch.
            frames.pop();
        }
        (make, frames)
    }

    /// The base frame image `p` could be drawn over (`None`: it is drawn whole).
    fn frame_key(&mut self, p: &Posed) -> Option<Keyed> {
        let base = p.without_defect();
        let fit = self.shadow_fit(p);
        let placement = fit.placement();
        let casts = housing_can_shadow(p);
        if placement != self.shadow_fit(&base).placement() || casts != housing_can_shadow(&base) {
            return None;
        }
        Some(Keyed { key: Key::of(&base, placement, casts)?, base, fit })
    }

    /// How image `p` is made, drawn over the base `keyed` ([`Renderer::frame_key`]); `again`: a later
    /// image of the batch has the same base. `make` gets the base to draw first when this image's is
    /// made now. `on_kept`: whether an image of the batch before it leans on the base kept now. The
    /// base made in a batch replaces the kept one before the batch's images are finished, so a batch
    /// does not have both.
    ///
    /// Where the CPU draws images in part ([`Renderer::cpu_regions`]), an image of a scene without
    /// randomization is made over its base whenever it can be ([`Frame::Cpu`]; its base made first if
    /// not kept), so that its bytes are the same whatever the renderer kept; `None` when this batch
    /// makes or leans on another base (it starts the next).
    fn plan_frame(
        &mut self,
        p: &Posed,
        keyed: Option<Keyed>,
        again: bool,
        make: &mut Option<(Key, Posed)>,
        on_kept: &mut bool,
    ) -> Option<Frame> {
        let cpu = self.cpu_regions && !p.randomized;
        let (Some(Keyed { key, base, fit }), Some(memo)) = (keyed, self.frame_memo.as_mut()) else {
            return Some(Frame::Full);
        };
        // An image that would be drawn whole instead.
        let whole = if cpu { None } else { Some(Frame::Full) };
        match if cpu { memo.need(&key) } else { memo.consult(&key, again) } {
            Consult::Full => return whole,
            Consult::Kept if make.is_some() => return whole,
            Consult::Kept => {
                *on_kept = true;
                if let Some(repeat) = frame_memo::repeat_of(p).filter(|r| memo.hold(r)) {
                    return Some(Frame::Repeat(repeat));
                }
            }
            Consult::Make => match make {
                Some((k, _)) if *k == key => {}
                Some(_) => return whole,
                None if *on_kept => return whole,
                None => *make = Some((key, base)),
            },
        }
        let defective = p.pins.iter().find(|q| q.defective);
        let changed: Vec<[DVec3; 8]> =
            defective.into_iter().chain(&p.nominal_defect_pin).map(|q| q.corners()).collect();
        if changed.is_empty() {
            return Some(Frame::Copy);
        }
        let (objects, meshes) = p.nominal_drawables();
        // Boxes and the housing's slab are their own bounding boxes: only their faces can show.
        let is_box = |o: &Object| matches!(o.shape, Shape::Box | Shape::Slab);
        let mut receivers: Vec<([DVec3; 8], bool)> = objects.iter().map(|o| (object_corners(o), is_box(o))).collect();
        for m in &meshes {
            receivers.push((self.mesh_corners(m), false));
        }
        receivers.extend(defective.map(|q| (q.corners(), false)));
        let sun = p.light.shadows.then(|| {
            let size = self.shadow.as_ref().expect("render_batch makes the shadow map first").0; // ok: see render_batch
            let texel = (fit.extent[0] / f64::from(size[0])).max(fit.extent[1] / f64::from(size[1]));
            let tan_r = (p.light.sun_angle_deg.to_radians() / 2.0).tan();
            influence::SunReach {
                to_sun: -p.sun_direction,
                margin: 2.0 * tan_r * fit.depth + SHADOW_REACH_TEXELS * texel,
            }
        });
        Some(match influence::region(&p.camera, &changed, &receivers, sun) {
            None => Frame::Full,
            Some((_, r)) if r.is_empty() => Frame::Copy,
            Some((own, r)) if cpu => Frame::Cpu {
                exact: r.grown(frame_memo::EXACT_MARGIN),
                touched: own.grown(frame_memo::EXACT_MARGIN),
                region: r,
            },
            Some((own, r)) => Frame::Region {
                scissor: r.bounds,
                exact: r.grown(frame_memo::EXACT_MARGIN),
                touched: own.grown(frame_memo::EXACT_MARGIN),
            },
        })
    }

    /// Image `p`'s shadow map placement ([`ShadowFit::around`]).
    fn shadow_fit(&mut self, p: &Posed) -> ShadowFit {
        let nominal: Vec<DVec3> = p.nominal.objects.iter().flat_map(object_corners).collect();
        ShadowFit::around(&nominal, &self.image_corners(p), -p.sun_direction)
    }

    /// The corners of the bounding boxes of everything image `p` draws (world space).
    fn image_corners(&mut self, p: &Posed) -> Vec<DVec3> {
        let (objects, meshes) = p.drawables();
        let mut corners: Vec<DVec3> = objects.iter().flat_map(object_corners).collect();
        for m in &meshes {
            corners.extend(self.mesh_corners(m));
        }
        for pin in p.bent_pins() {
            corners.extend(pin.corners());
        }
        corners
    }

    /// The corners of a mesh object's bounding box (world space), uploading its mesh the first time.
    fn mesh_corners(&mut self, m: &MeshObject) -> [DVec3; 8] {
        let i = self.file_mesh(&m.mesh, m.closed);
        let [lo, hi] = self.file_meshes[i].4;
        box_corners(lo, hi).map(|c| m.transform.transform_point3(c))
    }

    /// Uploads, draws and reads back one batch (all of one size and background); leaves the readback
    /// buffers mapped.
    /// Each image is drawn within its scissor rectangle, if it has one. The caller made the bake and
    /// the shadow map first.
    fn draw(&mut self, t: &Targets, posed: &[&Posed], scissors: &[Option<Rect>]) -> Result<(), RenderError> {
        let (seen, file_draws, image_draws, shadow_draws) = self.upload(posed, scissors);
        let (_, shadow_texture, shadow_map) = self.shadow.as_ref().expect("ensure_shadow_map made it"); // ok: set just above
        let frame_bind = self.frame_bind.get_or_insert_with(|| {
            let (_, _, light_maps) = self.bake.as_ref().expect("ensure_bake made it"); // ok: set just above
            self.gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("frame"),
                layout: &self.pipelines.frame_layout,
                entries: &[
                    frame_entry(&self.frames),
                    wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(light_maps) },
                    wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::TextureView(shadow_map) },
                    wgpu::BindGroupEntry { binding: 3, resource: wgpu::BindingResource::Sampler(&self.shadow_sampler) },
                    wgpu::BindGroupEntry { binding: 4, resource: wgpu::BindingResource::Sampler(&self.light_sampler) },
                ],
            })
        });
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
        // Instances of the unit meshes: (index into `mesh_indices`, instances).
        let draw_units = |pass: &mut wgpu::RenderPass, units: &mut dyn Iterator<Item = (usize, Range<u32>)>| {
            pass.set_vertex_buffer(0, self.vertices.slice(..));
            pass.set_index_buffer(self.indices.slice(..), wgpu::IndexFormat::Uint16);
            for (shape, instances) in units {
                if !instances.is_empty() {
                    pass.draw_indexed(self.mesh_indices[shape].clone(), 0, instances);
                }
            }
        };
        // The meshes from files and the per-image meshes.
        // In the shadow pass (`shadow`), open meshes with their own pipeline.
        let draw_meshes = |pass: &mut wgpu::RenderPass, tile: usize, shadow: bool| {
            for (file_mesh, instances) in &file_draws[tile] {
                let (_, vertices, indices, count, _, closed) = &self.file_meshes[*file_mesh];
                let open = shadow && !closed;
                if open {
                    pass.set_pipeline(&p.shadow_open);
                }
                pass.set_vertex_buffer(0, vertices.slice(..));
                pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
                pass.draw_indexed(0..*count, 0, instances.clone());
                if open {
                    pass.set_pipeline(&p.shadow);
                }
            }
            if let Some((vertices, indices)) = self.image_meshes.buffers() {
                pass.set_vertex_buffer(0, vertices.slice(..));
                pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
                for (range, instance) in &image_draws[tile] {
                    pass.draw_indexed(range.clone(), 0, *instance..*instance + 1);
                }
            }
        };
        let draw_objects = |pass: &mut wgpu::RenderPass, tile: usize| {
            draw_units(pass, &mut seen[tile].iter().cloned().enumerate());
            draw_meshes(pass, tile, false);
        };
        let geometry_pass = |encoder: &mut wgpu::CommandEncoder,
                             tile: usize,
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
            if let Some(r) = scissors[tile] {
                pass.set_scissor_rect(r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
            }
            pass.set_vertex_buffer(1, self.instances.slice(..));
            pass.set_bind_group(0, &*frame_bind, &[tile as u32 * FRAME_SLOT as u32]);
            draw_objects(&mut pass, tile);
        };
        // A shadow pass into `target`, cleared first or not, drawing what `draw` draws.
        let shadow_pass = |encoder: &mut wgpu::CommandEncoder,
                           tile: usize,
                           target,
                           clear: bool,
                           draw: &dyn Fn(&mut wgpu::RenderPass)| {
            let load = if clear { wgpu::LoadOp::Clear(1.0) } else { wgpu::LoadOp::Load };
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                color_attachments: &[],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: target,
                    depth_ops: Some(wgpu::Operations { load, store: wgpu::StoreOp::Store }),
                    stencil_ops: None,
                }),
                ..Default::default()
            });
            pass.set_pipeline(&p.shadow);
            pass.set_vertex_buffer(1, self.instances.slice(..));
            pass.set_bind_group(0, &self.shadow_bind, &[tile as u32 * FRAME_SLOT as u32]);
            draw(&mut pass);
        };
        let mut encoder = self.gpu.device.create_command_encoder(&Default::default());
        // Image by image, all into the same targets: its shadow map, its passes, its copy out.
        for (tile, image) in posed.iter().enumerate() {
            if image.light.shadows {
                let d = &shadow_draws[tile];
                let entry = match d.plan {
                    Plan::Direct => None,
                    Plan::Kept { entry } => Some(entry),
                    Plan::Make { entry } => {
                        shadow_pass(&mut encoder, tile, self.shadow_cache.view(entry), true, &|pass| {
                            draw_units(pass, &mut d.shared.iter().cloned())
                        });
                        Some(entry)
                    }
                };
                match entry {
                    None => shadow_pass(&mut encoder, tile, shadow_map, true, &|pass| {
                        draw_units(pass, &mut d.casters.iter().cloned());
                        draw_meshes(pass, tile, true);
                    }),
                    Some(entry) => {
                        encoder.copy_texture_to_texture(
                            self.shadow_cache.texture(entry).as_image_copy(),
                            shadow_texture.as_image_copy(),
                            shadow_texture.size(),
                        );
                        if !d.extra.is_empty() || !file_draws[tile].is_empty() || !image_draws[tile].is_empty() {
                            shadow_pass(&mut encoder, tile, shadow_map, false, &|pass| {
                                draw_units(pass, &mut d.extra.iter().cloned());
                                draw_meshes(pass, tile, true);
                            });
                        }
                    }
                }
            }
            match &t.mode {
                ModeTargets::Direct { depth } => geometry_pass(
                    &mut encoder,
                    tile,
                    &[color_att(&t.color, None, wgpu::StoreOp::Store), label_att(&t.label)],
                    depth,
                    &p.geometry,
                ),
                ModeTargets::Msaa4 { color, depth, label_pipeline, label_depth } => {
                    geometry_pass(
                        &mut encoder,
                        tile,
                        &[color_att(color, Some(&t.color), wgpu::StoreOp::Discard)],
                        depth,
                        &p.geometry,
                    );
                    geometry_pass(&mut encoder, tile, &[label_att(&t.label)], label_depth, label_pipeline);
                }
                ModeTargets::Ssaa3 { color, label, depth, resolve, resolve_bind } => {
                    geometry_pass(
                        &mut encoder,
                        tile,
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
            // Of an image drawn in part, only its scissor rectangle (the base's pixels serve elsewhere).
            t.color_readback.copy(&mut encoder, &t.color_texture, tile as u32, scissors[tile]);
            t.label_readback.copy(&mut encoder, &t.label_texture, tile as u32, scissors[tile]);
        }
        self.gpu.queue.submit([encoder.finish()]);
        readback::map_all(&self.gpu.device, &[&t.color_readback, &t.label_readback])
    }

    /// Writes each image's frame uniform slot and its instances grouped by shape (all of them for the
    /// shadow pass; for the geometry pass, within an image's scissor rectangle only the objects that
    /// reach into it: the others draw no pixel there); returns each image's geometry instance range
    /// per shape, per image the file meshes
    /// to draw (index into `file_meshes`, instances), per image the per-image meshes (index range in
    /// `image_meshes`, instance), and per image how its shadow map is drawn.
    #[allow(clippy::type_complexity)]
    fn upload(
        &mut self,
        posed: &[&Posed],
        scissors: &[Option<Rect>],
    ) -> (
        Vec<[Range<u32>; Shape::ALL.len()]>,
        Vec<Vec<(usize, Range<u32>)>>,
        Vec<Vec<(Range<u32>, u32)>>,
        Vec<ShadowDraw>,
    ) {
        self.instance_scratch.clear();
        self.image_meshes.clear();
        self.shadow_cache.begin_batch();
        let mut ranges = Vec::with_capacity(posed.len());
        let mut seen = Vec::with_capacity(posed.len());
        let mut file_draws = Vec::with_capacity(posed.len());
        let mut image_draws = Vec::with_capacity(posed.len());
        let mut shadow_draws = Vec::with_capacity(posed.len());
        // Taken out while the instances are written (file meshes may be uploaded meanwhile), put back below.
        let bake = self.bake.take().expect("draw calls ensure_bake first"); // ok: see draw
        let atlas = &bake.1;
        let light_maps = [1.0 / atlas.width as f32, 1.0 / atlas.height as f32, 0.0, 0.0];
        for (tile, p) in posed.iter().enumerate() {
            let cam = &p.camera;
            let light = &p.light;
            // Bent terminals have a mesh of their own (drawn below); the others are instances.
            let (objects, meshes) = p.drawables();
            ranges.push(Shape::ALL.map(|shape| {
                let start = self.instance_scratch.len() as u32;
                self.instance_scratch.extend(objects.iter().filter(|o| o.shape == shape).map(|o| instance(o, atlas)));
                start..self.instance_scratch.len() as u32
            }));
            seen.push(match scissors[tile] {
                None => ranges[tile].clone(),
                Some(r) => Shape::ALL.map(|shape| {
                    let start = self.instance_scratch.len() as u32;
                    let inside = |o: &&Object| o.shape == shape && reaches(&object_corners(o), cam, r);
                    self.instance_scratch.extend(objects.iter().filter(inside).map(|o| instance(o, atlas)));
                    start..self.instance_scratch.len() as u32
                }),
            });
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
            let shadow = self.shadow_fit(p);
            let shadow_from_world = shadow.shadow_from_world.as_mat4().to_cols_array_2d();
            shadow_draws.push(if light.shadows {
                self.plan_shadow(p, &ranges[tile], shadow.placement())
            } else {
                ShadowDraw::default()
            });
            let tan_r = (light.sun_angle_deg.to_radians() / 2.0).tan();
            let shading = Shading::of(p);
            let rgb = |c: [f32; 3], w: f32| [c[0], c[1], c[2], w];
            let uniform = FrameUniform {
                clip_from_world: cam.clip_from_world().as_mat4().to_cols_array_2d(),
                shadow_from_world,
                to_sun: shading.to_sun.extend(0.0).to_array(),
                light: [shading.sun, shading.ambient, if light.shadows { 1.0 } else { 0.0 }, 0.0],
                shadow: [
                    (tan_r * shadow.depth / shadow.extent[0]) as f32,
                    (tan_r * shadow.depth / shadow.extent[1]) as f32,
                    SHADOW_BIAS,
                    0.0,
                ],
                world: rgb(shading.world, if shading.world_lights { 1.0 } else { 0.0 }),
                pin_color: rgb(shading.pin, 0.0),
                housing_color: rgb(shading.housing, 0.0),
                light_maps,
            };
            let slot = tile * FRAME_SLOT as usize;
            self.frame_scratch[slot..slot + size_of::<FrameUniform>()].copy_from_slice(bytemuck::bytes_of(&uniform));
        }
        self.bake = Some(bake);
        let queue = &self.gpu.queue;
        queue.write_buffer(&self.frames, 0, &self.frame_scratch[..posed.len() * FRAME_SLOT as usize]);
        queue.write_buffer(&self.instances, 0, bytemuck::cast_slice(&self.instance_scratch));
        self.image_meshes.upload(&self.gpu.device, queue);
        (seen, file_draws, image_draws, shadow_draws)
    }

    /// How image `p`'s shadow map is drawn: its unit-mesh casters (`ranges`, without a housing that
    /// cannot shadow anything seen), split into those it shares with its scene's nominal pose and the
    /// others when a kept map of the shared ones serves ([`shadow_cache`]).
    fn plan_shadow(&mut self, p: &Posed, ranges: &[Range<u32>; Shape::ALL.len()], placement: [u32; 16]) -> ShadowDraw {
        let skip_housing = !housing_can_shadow(p);
        let shapes =
            || ranges.iter().cloned().enumerate().filter(|(s, _)| !(skip_housing && Shape::ALL[*s] == Shape::Slab));
        let casters: Vec<(usize, Range<u32>)> = shapes().collect();
        let nominal = match &self.nominal_casters {
            Some((n, keys)) if Arc::ptr_eq(n, &p.nominal) || **n == *p.nominal => keys.clone(),
            _ => {
                let mut keys: Vec<CasterKey> =
                    p.nominal.objects.iter().map(|o| caster_key(o.shape, model_of(o))).collect();
                keys.sort_unstable();
                let keys: Arc<[CasterKey]> = keys.into();
                self.nominal_casters = Some((p.nominal.clone(), keys.clone()));
                keys
            }
        };
        let mut mine: Vec<(CasterKey, u32)> = shapes()
            .flat_map(|(s, r)| r.map(move |i| (s, i)))
            .map(|(s, i)| (caster_key(Shape::ALL[s], self.instance_scratch[i as usize].model), i))
            .collect();
        mine.sort_unstable();
        // Both sorted: the nominal casters this image lacks, and its casters shared with them or not.
        let (mut missing, mut shared, mut extra) = (Vec::new(), Vec::new(), Vec::new());
        let mut theirs = nominal.iter().peekable();
        for (key, instance) in mine {
            while let Some(k) = theirs.next_if(|k| **k < key) {
                missing.push(*k);
            }
            let unit = (key.0 as usize, instance);
            if theirs.next_if(|k| **k == key).is_some() { shared.push(unit) } else { extra.push(unit) }
        }
        missing.extend(theirs.copied());
        // Kept maps pay when images differ from the nominal pose by a few casters (a defect), not
        // when most of them move (randomized terminals).
        let key = (!shared.is_empty() && missing.len() + extra.len() <= 8).then(|| shadow_cache::Key {
            size: self.shadow.as_ref().expect("draw makes the shadow map first").0, // ok: see draw
            placement,
            nominal,
            missing,
        });
        let plan = self.shadow_cache.plan(&self.gpu.device, SHADOW_FORMAT, key);
        ShadowDraw { plan, casters, shared: instance_runs(shared), extra: instance_runs(extra) }
    }

    /// The index of `mesh` in `file_meshes`, uploading it the first time.
    fn file_mesh(&mut self, mesh: &Arc<TriangleMesh>, closed: bool) -> usize {
        if let Some(i) = self.file_meshes.iter().position(|(m, ..)| Arc::ptr_eq(m, mesh)) {
            return i;
        }
        let (vertices, indices) = if closed { vertex::single_sided(mesh) } else { vertex::double_sided(mesh) };
        let (lo, hi) = mesh.bounds();
        let bounds = [DVec3::from(lo.map(f64::from)), DVec3::from(hi.map(f64::from))];
        let device = &self.gpu.device;
        let v = upload(device, "file mesh vertices", wgpu::BufferUsages::VERTEX, bytemuck::cast_slice(&vertices));
        let i = upload(device, "file mesh indices", wgpu::BufferUsages::INDEX, bytemuck::cast_slice(&indices));
        self.file_meshes.push((mesh.clone(), v, i, indices.len() as u32, bounds, closed));
        self.file_meshes.len() - 1
    }

    /// Makes sure the shadow map has the size [`shadow_map_size`] gives for this scene and image size.
    fn ensure_shadow_map(&mut self, nominal: &Nominal, width: u32, height: u32) {
        let factor = if self.antialias == Antialias::Ssaa3 { 3 } else { 1 };
        let size = shadow_map_size(nominal, width * factor, height * factor, self.gpu.limits.max_texture_dimension_2d);
        if self.shadow.as_ref().is_some_and(|(s, ..)| *s == size) {
            return;
        }
        let texture = self.gpu.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("shadow map"),
            size: wgpu::Extent3d { width: size[0], height: size[1], depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: SHADOW_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let view = texture.create_view(&Default::default());
        self.shadow = Some((size, texture, view));
        self.frame_bind = None;
    }

    /// Makes sure the baked light of `nominal`'s scene is on the GPU (baked once per process and scene).
    fn ensure_bake(&mut self, nominal: &Nominal) {
        let inputs = bake_inputs(nominal);
        if self.bake.as_ref().is_some_and(|(b, ..)| b.inputs == inputs) {
            return;
        }
        let start = Instant::now();
        let bake = baked(inputs);
        self.times.bake += start.elapsed();
        let atlas = bake.atlas();
        let halves: Vec<u16> = atlas.texels.iter().flatten().map(|&v| half::f16::from_f32(v).to_bits()).collect();
        let texture = self.gpu.device.create_texture_with_data(
            &self.gpu.queue,
            &wgpu::TextureDescriptor {
                label: Some("light maps"),
                size: wgpu::Extent3d { width: atlas.width, height: atlas.height, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba16Float,
                usage: wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            bytemuck::cast_slice(&halves),
        );
        self.bake = Some((bake, atlas, texture.create_view(&Default::default())));
        self.frame_bind = None;
    }
}

/// How one image's shadow map is drawn ([`Plan`]): unit-mesh casters as (index into the unit meshes,
/// instances); meshes from files and per-image meshes are always drawn.
#[derive(Default)]
struct ShadowDraw {
    plan: Plan,
    /// Every one ([`Plan::Direct`]).
    casters: Vec<(usize, Range<u32>)>,
    /// Those in the kept map ([`Plan::Make`]).
    shared: Vec<(usize, Range<u32>)>,
    /// Those drawn over the kept map's copy.
    extra: Vec<(usize, Range<u32>)>,
}

/// A caster's identity for the shadow pass: its unit mesh and model matrix, bit for bit.
fn caster_key(shape: Shape, model: [[f32; 4]; 4]) -> CasterKey {
    let mesh = Shape::ALL.iter().position(|s| *s == shape).expect("every shape is in ALL") as u32; // ok: ALL lists every shape
    (mesh, bytemuck::cast(model))
}

/// (Unit mesh, instance) pairs sorted by both, as draws of runs of consecutive instances.
fn instance_runs(mut units: Vec<(usize, u32)>) -> Vec<(usize, Range<u32>)> {
    units.sort_unstable();
    let mut runs: Vec<(usize, Range<u32>)> = Vec::new();
    for (shape, i) in units {
        match runs.last_mut() {
            Some((s, r)) if *s == shape && r.end == i => r.end += 1,
            _ => runs.push((shape, i..i + 1)),
        }
    }
    runs
}

/// Binding 0 of both bind groups: one image's slot of the frame uniforms.
fn frame_entry(frames: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding: 0,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: frames,
            offset: 0,
            size: wgpu::BufferSize::new(size_of::<FrameUniform>() as u64),
        }),
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

/// Bakes are shared by every renderer of the process (each worker has its own), made once per scene or
/// read back from the runs before ([`bake_cache`]).
pub fn baked(inputs: BakeInputs) -> Arc<Bake> {
    static CACHE: Mutex<Vec<Arc<Bake>>> = Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(b) = cache.iter().find(|b| b.inputs == inputs) {
        return b.clone();
    }
    let b = Arc::new(bake_cache::BakeCache::load_or_bake(bake_cache::BakeCache::from_env().as_ref(), inputs));
    if cache.len() >= 4 {
        cache.remove(0);
    }
    cache.push(b.clone());
    b
}

/// The shadow map's size in texels for a scene drawn `width × height`: about two texels per pixel
/// along the longer side of the scene's extent across the sun's rays (the scene fills most of the
/// image), as many along the other as keep texels square. A function of the scene (its nominal objects
/// and sun) and the image size only, so every image of a scene gets the same size whatever renderer
/// draws it; per image the map is fitted to that image's objects and sun.
fn shadow_map_size(nominal: &Nominal, width: u32, height: u32, limit: u32) -> [u32; 2] {
    let corners: Vec<DVec3> = nominal.objects.iter().flat_map(object_corners).collect();
    let fit = ShadowFit::around(&corners, &[], -nominal.sun_direction);
    let long = (2 * width.max(height)).clamp(256, limit.min(4096));
    let ratio = (fit.extent[0].min(fit.extent[1]) / fit.extent[0].max(fit.extent[1]).max(1e-9)).clamp(0.0, 1.0);
    let short = ((long as f64 * ratio).ceil() as u32).clamp(64.min(long), long);
    if fit.extent[0] >= fit.extent[1] { [long, short] } else { [short, long] }
}

/// The base frame an image could be drawn over: its key, the image without its defect, and the
/// image's shadow map placement.
struct Keyed {
    key: Key,
    base: Posed,
    fit: ShadowFit,
}

/// Steps ([`ShadowFit::around`]) the shadow map reaches past the scene's nominal objects on every side.
const PAD_STEPS: f64 = 3.0;

/// An image's shadow map: the sun's orthographic view fitted to the scene's bounds across and along
/// its rays.
struct ShadowFit {
    /// World -> (u, v) texture coordinates and depth 0..1 (0 nearest the sun).
    shadow_from_world: DMat4,
    /// World size of the map across (u, v) and along the rays.
    extent: [f64; 2],
    depth: f64,
}

impl ShadowFit {
    /// `shadow_from_world`'s bits as the GPU gets them.
    fn placement(&self) -> [u32; 16] {
        bytemuck::cast(self.shadow_from_world.as_mat4().to_cols_array_2d())
    }

    fn of(corners: &[DVec3], to_sun: DVec3) -> ShadowFit {
        let (lo, hi) = Self::bounds(corners, to_sun).unwrap_or((DVec3::splat(-1.0), DVec3::splat(1.0)));
        Self::from_bounds(lo, hi, to_sun)
    }

    /// An image's map: fitted to its scene's nominal objects (`nominal`, their corners) grown on every
    /// side by [`PAD_STEPS`] steps, and where the image's own objects (`image`) reach past that, out by
    /// whole steps. A step is a thirty-second of the nominal objects' longer extent across the rays
    /// (the same across both axes: a terminal tilted or moved out of the scene's bounds moves as far
    /// across either) and of their extent along the rays. So images whose defect moves the scene's
    /// bounds by less than that share one placement (kept shadow maps and frames serve them).
    fn around(nominal: &[DVec3], image: &[DVec3], to_sun: DVec3) -> ShadowFit {
        let Some((nlo, nhi)) = Self::bounds(nominal, to_sun) else { return Self::of(image, to_sun) };
        let (lo, hi) = Self::bounds(image, to_sun).map_or((nlo, nhi), |(lo, hi)| (lo.min(nlo), hi.max(nhi)));
        let size = (nhi - nlo).max(DVec3::splat(1e-6));
        let across = size.x.max(size.y);
        let step = DVec3::new(across, across, size.z) / 32.0;
        let pad = |out: DVec3| (out / step - PAD_STEPS).max(DVec3::ZERO).ceil() * step + PAD_STEPS * step;
        let (lo, hi) = (nlo - pad(nlo - lo), nhi + pad(hi - nhi));
        Self::from_bounds(lo, hi, to_sun)
    }

    /// The bounds of `corners` in the map's axes (across the rays, then along them away from the sun).
    fn bounds(corners: &[DVec3], to_sun: DVec3) -> Option<(DVec3, DVec3)> {
        let u = to_sun.any_orthonormal_vector();
        let v = to_sun.cross(u);
        let along = -to_sun;
        let (mut lo, mut hi) = (DVec3::splat(f64::INFINITY), DVec3::splat(f64::NEG_INFINITY));
        for c in corners {
            let l = DVec3::new(c.dot(u), c.dot(v), c.dot(along));
            (lo, hi) = (lo.min(l), hi.max(l));
        }
        (!corners.is_empty()).then_some((lo, hi))
    }

    fn from_bounds(lo: DVec3, hi: DVec3, to_sun: DVec3) -> ShadowFit {
        let u = to_sun.any_orthonormal_vector();
        let v = to_sun.cross(u);
        let along = -to_sun;
        // A margin of 2 % across (the comparison taps reach past the outline) and 1 % in depth.
        let size = (hi - lo).max(DVec3::splat(1e-6));
        let (lo, hi) = (lo - size * DVec3::new(0.02, 0.02, 0.01), hi + size * DVec3::new(0.02, 0.02, 0.01));
        let size = hi - lo;
        // Rows: u' = (p·u - lo.x) / size.x; v' = (hi.y - p·v) / size.y (texture rows run down); depth.
        let row_u = (u / size.x).extend(-lo.x / size.x);
        let row_v = (-v / size.y).extend(hi.y / size.y);
        let row_d = (along / size.z).extend(-lo.z / size.z);
        let shadow_from_world = DMat4::from_cols(row_u, row_v, row_d, DVec4::W).transpose();
        ShadowFit { shadow_from_world, extent: [size.x, size.y], depth: size.z }
    }
}

/// Whether the housing box can cast a shadow anyone sees. A box never shadows itself (it is convex);
/// with the sun above its top face it can only shadow what lies below that face, and the terminals'
/// parts below it are inside the housing (unseen) unless a terminal stands beyond its edge. Leaving
/// it out of the shadow pass saves most of that pass's pixels on a software rasteriser.
fn housing_can_shadow(p: &Posed) -> bool {
    let h = match p.housing.as_slice() {
        [] => return false,
        [h] => h,
        _ => return true, // a shroud's walls: drawn as boxes (always), the base as the slab
    };
    let to_housing = h.model().inverse();
    let sun_up = to_housing.transform_vector3(-p.sun_direction).z > 0.0;
    let inside_below_top = |c: DVec3| {
        let l = to_housing.transform_point3(c);
        l.z >= 1.0 || (l.x.abs() <= 1.0 && l.y.abs() <= 1.0)
    };
    !(sun_up && p.pins.iter().all(|pin| pin.corners().into_iter().all(inside_below_top)))
}

/// Whether the box with `corners` can draw a pixel of `rect` seen by `cam` (its projection's bounds,
/// a pixel more on every side, meet the rectangle; always when a corner is not in front of the camera).
fn reaches(corners: &[DVec3; 8], cam: &crate::conventions::Camera, rect: Rect) -> bool {
    let (mut lo, mut hi) = (glam::DVec2::INFINITY, glam::DVec2::NEG_INFINITY);
    for &c in corners {
        let Some(uv) = influence::project(cam, c) else { return true };
        (lo, hi) = (lo.min(uv), hi.max(uv));
    }
    let (x0, x1, y0, y1) = (f64::from(rect.x0), f64::from(rect.x1), f64::from(rect.y0), f64::from(rect.y1));
    lo.x - 1.0 < x1 && hi.x + 1.0 > x0 && lo.y - 1.0 < y1 && hi.y + 1.0 > y0
}

/// The 8 corners of an object's bounding box (the unit box through its transform), world space.
fn object_corners(o: &Object) -> [DVec3; 8] {
    let m = o.model();
    box_corners(DVec3::NEG_ONE, DVec3::ONE).map(|c| m.transform_point3(c))
}

/// The 8 corners of the box `lo`..`hi`.
fn box_corners(lo: DVec3, hi: DVec3) -> [DVec3; 8] {
    std::array::from_fn(|i| {
        DVec3::new(
            if i & 1 == 0 { lo.x } else { hi.x },
            if i & 2 == 0 { lo.y } else { hi.y },
            if i & 4 == 0 { lo.z } else { hi.z },
        )
    })
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

/// An object's model matrix as uploaded: the unit mesh scaled to its half extents, then placed.
fn model_of(o: &Object) -> [[f32; 4]; 4] {
    o.model().as_mat4().to_cols_array_2d()
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
        label: [label as u32, 0, 0, 0],
    }
}

/// An object's instance, with the light map of the object of its label in the bake (a defective
/// terminal keeps the light of its place; an object the bake does not know has none).
fn instance(o: &Object, atlas: &Atlas) -> Instance {
    let ([x, y], cells) = atlas.strip_of(o.label).unwrap_or(([0, 0], [0; 3]));
    Instance {
        model: model_of(o),
        rotation: DMat3::from_mat4(o.rigid).as_mat3().to_cols_array_2d(),
        color: [o.color[0] as f32, o.color[1] as f32, o.color[2] as f32, 1.0],
        label: [o.label as u32, x | y << 16, cells[0] | cells[1] << 8 | cells[2] << 16, 0],
    }
}
