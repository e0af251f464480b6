//! Render pipelines per anti-aliasing mode: the shadow map's depth pass, the geometry pass (instanced
//! unit meshes) and, for ssaa3, the full-screen resolve pass.

use super::vertex::GpuVertex;
use super::{COLOR_FORMAT, DEPTH_FORMAT, FrameUniform, Instance, LABEL_FORMAT, SHADOW_FORMAT};
use crate::spec::Antialias;

/// The pipelines of one anti-aliasing mode.
pub struct Pipelines {
    /// Group 0: the per-image frame uniform, one 256-byte slot per image of a batch (dynamic offset),
    /// the baked light maps, the shadow map and its comparison sampler.
    pub frame_layout: wgpu::BindGroupLayout,
    /// Group 0 of the shadow pass: the frame uniform alone (the shadow maps are its target).
    pub shadow_layout: wgpu::BindGroupLayout,
    /// The shadow map's depth pass (back faces, from the sun) for closed solids, and for open meshes.
    pub shadow: wgpu::RenderPipeline,
    pub shadow_open: wgpu::RenderPipeline,
    /// Geometry pass (for msaa4: colour only, 4 samples).
    pub geometry: wgpu::RenderPipeline,
    /// What only this mode has.
    pub mode: ModePipelines,
}

/// The pipelines only one anti-aliasing mode uses.
pub enum ModePipelines {
    /// `none`, `fxaa` and `exact`: the geometry pass writes colour and label; nothing more.
    Direct,
    /// msaa4's separate one-sample label pass.
    Msaa4 { label: wgpu::RenderPipeline },
    /// ssaa3's full-screen resolve and the layout of its bind group.
    Ssaa3 { resolve: wgpu::RenderPipeline, resolve_layout: wgpu::BindGroupLayout },
}

fn vertex_layouts() -> [Option<wgpu::VertexBufferLayout<'static>>; 2] {
    const VERTEX: [wgpu::VertexAttribute; 2] = wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3];
    const INSTANCE: [wgpu::VertexAttribute; 9] = wgpu::vertex_attr_array![
        2 => Float32x4, 3 => Float32x4, 4 => Float32x4, 5 => Float32x4,
        6 => Float32x3, 7 => Float32x3, 8 => Float32x3, 9 => Float32x4, 10 => Uint32x4
    ];
    [
        Some(wgpu::VertexBufferLayout {
            array_stride: size_of::<GpuVertex>() as u64,
            step_mode: wgpu::VertexStepMode::Vertex,
            attributes: &VERTEX,
        }),
        Some(wgpu::VertexBufferLayout {
            array_stride: size_of::<Instance>() as u64,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &INSTANCE,
        }),
    ]
}

fn texture_entry(binding: u32, sample_type: wgpu::TextureSampleType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type,
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    }
}

fn ssaa3_resolve(device: &wgpu::Device) -> (wgpu::RenderPipeline, wgpu::BindGroupLayout) {
    let shader = device.create_shader_module(wgpu::include_wgsl!("../../shaders/resolve_ssaa3.wgsl"));
    let bind = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("resolve ssaa3"),
        entries: &[
            texture_entry(0, wgpu::TextureSampleType::Float { filterable: false }),
            texture_entry(1, wgpu::TextureSampleType::Uint),
        ],
    });
    let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("resolve ssaa3"),
        bind_group_layouts: &[Some(&bind)],
        ..Default::default()
    });
    let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("resolve ssaa3"),
        layout: Some(&layout),
        vertex: wgpu::VertexState {
            module: &shader,
            entry_point: Some("vs_fullscreen"),
            compilation_options: Default::default(),
            buffers: &[],
        },
        primitive: Default::default(),
        depth_stencil: None,
        multisample: Default::default(),
        fragment: Some(wgpu::FragmentState {
            module: &shader,
            entry_point: Some("fs_resolve"),
            compilation_options: Default::default(),
            targets: &[Some(COLOR_FORMAT.into()), Some(LABEL_FORMAT.into())],
        }),
        multiview_mask: None,
        cache: None,
    });
    (pipeline, bind)
}

impl Pipelines {
    pub fn new(device: &wgpu::Device, antialias: Antialias) -> Pipelines {
        let shader = device.create_shader_module(wgpu::include_wgsl!("../../shaders/scene.wgsl"));
        let uniform = wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: true,
                min_binding_size: wgpu::BufferSize::new(size_of::<FrameUniform>() as u64),
            },
            count: None,
        };
        let fragment = wgpu::ShaderStages::FRAGMENT;
        let frame_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("frame"),
            entries: &[
                uniform,
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: fragment,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: fragment,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Depth,
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 3,
                    visibility: fragment,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Comparison),
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 4,
                    visibility: fragment,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let shadow_layout = device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some("shadow"), entries: &[uniform] });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("scene"),
            bind_group_layouts: &[Some(&frame_layout)],
            ..Default::default()
        });
        let shadow_pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("shadow"),
            bind_group_layouts: &[Some(&shadow_layout)],
            ..Default::default()
        });
        // Back faces only: the depth where a ray from the sun leaves an object, so a lit face is never
        // compared against itself (no shadow acne) and the shadow's outline is the same. Closed solids
        // need no depth bias (and one would lift their shadows off the ground they stand in: a
        // slope-scaled bias pushes a terminal's steep sides a few texels back); open meshes, drawn
        // from both sides, are pushed back a little.
        let shadow_pipeline = |label: &str, bias: wgpu::DepthBiasState| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(&shadow_pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some("vs_shadow"),
                    compilation_options: Default::default(),
                    buffers: &vertex_layouts(),
                },
                primitive: wgpu::PrimitiveState { cull_mode: Some(wgpu::Face::Front), ..Default::default() },
                depth_stencil: Some(wgpu::DepthStencilState {
                    format: SHADOW_FORMAT,
                    depth_write_enabled: Some(true),
                    depth_compare: Some(wgpu::CompareFunction::Less),
                    stencil: Default::default(),
                    bias,
                }),
                multisample: Default::default(),
                fragment: None,
                multiview_mask: None,
                cache: None,
            })
        };
        let shadow = shadow_pipeline("shadow", wgpu::DepthBiasState::default());
        let shadow_open =
            shadow_pipeline("shadow (open meshes)", wgpu::DepthBiasState { constant: 2, slope_scale: 2.0, clamp: 0.0 });
        let geometry = |vertex: &str, entry: &str, targets: &[Option<wgpu::ColorTargetState>], samples: u32| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(entry),
                layout: Some(&layout),
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some(vertex),
                    compilation_options: Default::default(),
                    buffers: &vertex_layouts(),
                },
                primitive: wgpu::PrimitiveState { cull_mode: Some(wgpu::Face::Back), ..Default::default() },
                depth_stencil: Some(wgpu::DepthStencilState {
                    format: DEPTH_FORMAT,
                    depth_write_enabled: Some(true),
                    depth_compare: Some(wgpu::CompareFunction::Less),
                    stencil: Default::default(),
                    bias: Default::default(),
                }),
                multisample: wgpu::MultisampleState { count: samples, ..Default::default() },
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some(entry),
                    compilation_options: Default::default(),
                    targets,
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let target = |f: wgpu::TextureFormat| Some(wgpu::ColorTargetState::from(f));
        let both = [target(COLOR_FORMAT), target(LABEL_FORMAT)];
        let (geometry, mode) = match antialias {
            Antialias::None | Antialias::Fxaa | Antialias::Exact | Antialias::ExactGeometry => {
                (geometry("vs_main", "fs_both", &both, 1), ModePipelines::Direct)
            }
            Antialias::Msaa4 => (
                geometry("vs_main", "fs_color", &[target(COLOR_FORMAT)], 4),
                ModePipelines::Msaa4 { label: geometry("vs_label", "fs_label", &[target(LABEL_FORMAT)], 1) },
            ),
            Antialias::Ssaa3 => {
                let (resolve, resolve_layout) = ssaa3_resolve(device);
                (geometry("vs_main", "fs_both", &both, 1), ModePipelines::Ssaa3 { resolve, resolve_layout })
            }
        };
        Pipelines { frame_layout, shadow_layout, shadow, shadow_open, geometry, mode }
    }
}
