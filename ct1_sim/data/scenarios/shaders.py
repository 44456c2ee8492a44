"""GLSL 330 shaders: a lit, fogged, textured scene pass that also writes linear depth (metres along the
optical axis) to a second colour attachment, and a sky pass drawn last, only where no surface was drawn.

Cheap on a CPU rasteriser by design: textures (mipmapped, sampled once or twice per fragment) instead of
procedural noise, static sun shadows from a shadow map rendered once per world, and the sky drawn behind
the scene at the far plane so the depth test skips it wherever the world covers the pixel.

Material ids (``in_mat``) are those of :mod:`ct1_sim.data.scenarios.mesh`; texture layers those of
:mod:`ct1_sim.data.scenarios.textures`.
"""

SCENE_VS = """
#version 330
uniform mat4 u_view_proj;
uniform mat4 u_view;
uniform mat4 u_model;
uniform mat4 u_shadow_vp;    // world -> shadow-map clip space
uniform vec3 u_cam_pos;
uniform vec3 u_sun_dir;      // towards the sun, world frame
uniform vec3 u_sun_color;
uniform vec3 u_sky_color;    // ambient from above
uniform vec3 u_ground_color; // ambient from below
uniform float u_fog_density; // 1/m
in vec3 in_pos;
in vec3 in_normal;
in vec3 in_color;
in float in_mat;
// Few varyings, most work per vertex: a CPU rasteriser pays per interpolated component and per fragment op.
// Faces are flat and the sun is directional, so lighting is exact per triangle; fog and the glass Fresnel
// term are interpolated (meshes keep triangles short enough, <= ~40 m, for that to be accurate).
out vec4 v_a;                // texture uv (tiles), depth along the optical axis (m), fog amount
out vec4 v_b;                // shadow-map xyz, Fresnel reflectance of glass
flat out vec4 v_color;       // rgb, texture mix (0 = plain colour, 1 = modulated by the texture)
flat out vec4 v_ambient;     // ambient light rgb, texture layer
flat out vec4 v_sun;         // direct sun rgb (before shadowing), glass (1 = glass, 2 = where the texture's alpha says)
flat out vec4 v_highlight;   // specular highlight rgb (before shadowing), emissive (1 = unlit, 2 = unlit and unfogged)
void main() {
    vec4 w = u_model * vec4(in_pos, 1.0);
    vec3 n = mat3(u_model) * in_normal;
    int mat = int(in_mat + 0.5);
    gl_Position = u_view_proj * w;
    vec4 s = u_shadow_vp * (w + vec4(n * 0.06, 0.0));   // normal offset against shadow acne
    // per-material texturing, decided per vertex (all vertices of a triangle agree) so that the fragment
    // shader runs one texture fetch and no branches. (A branch-free table lookup was measured: slower here.)
    vec2 xy = w.xy;
    vec2 side = vec2(dot(xy, vec2(-n.y, n.x)), w.z);   // along a vertical wall, and up
    vec3 color = in_color;
    vec2 uv = xy / 4.0;
    float layer = 6.0, texmix = 1.0, glass = 0.0, spec = 0.0, emit = 0.0;
    if (mat == 0) { uv = xy / 8.0; layer = 0.0; }                         // asphalt
    else if (mat == 1) { uv = xy / 3.0; texmix = 0.6; }                   // paint
    else if (mat == 2) { uv = xy / 11.0; layer = 1.0; }                   // grass
    else if (mat == 3) {                                                 // concrete: slabs on top
        if (n.z > 0.5) { uv = xy / 3.0; layer = 2.0; } else { uv = side / 4.0; }
    } else if (mat == 4 || mat == 10) {                                   // facades with windows
        if (n.z > 0.5) { uv = xy / 5.0; color = vec3(0.36, 0.35, 0.34); }
        else if (mat == 4) { uv = side / vec2(2.6, 3.1); layer = 3.0; glass = 2.0; spec = 0.5; }
        else { uv = side / vec2(1.8, 3.6); layer = 4.0; glass = 2.0; spec = 0.6; }
    } else if (mat == 14) { uv = side / 3.6; layer = 4.0; glass = 2.0; spec = 0.5; }   // shop fronts
    else if (mat == 5) { texmix = 0.3; spec = 0.5; }                     // car paint
    else if (mat == 6) { uv = (xy + vec2(w.z * 0.7, -w.z * 0.7)) / 2.5; layer = 5.0; }   // foliage
    else if (mat == 7) { uv = vec2(xy.x - xy.y, w.z * 0.3); layer = 7.0; }               // bark / metal
    else if (mat == 8) { texmix = 0.0; glass = 1.0; spec = 0.8; }        // vehicle glass
    else if (mat == 11) { uv = vec2(side.x, w.z * 3.0); layer = 7.0; }   // roof tiles
    else if (mat == 12 || mat == 13) { texmix = 0.0; emit = 1.0; }       // lamps, contact shadows
    else if (mat == 9) { texmix = 0.0; emit = 2.0; }                     // test markers
    vec3 to_cam = u_cam_pos - w.xyz;
    float dist = length(to_cam);
    vec3 view = to_cam / max(dist, 1e-4);
    float grazing = 1.0 - abs(dot(view, n));
    float h = max(dot(reflect(-u_sun_dir, n), view), 0.0);
    h *= h; h *= h; h *= h; h *= h; h *= h;                             // h^32
    float fog = emit > 1.5 ? 0.0 : 1.0 - exp(-u_fog_density * dist);
    v_a = vec4(uv, -(u_view * w).z, fog);
    v_b = vec4(s.xyz * 0.5 + 0.5 - vec3(0.0, 0.0, 0.0002), 0.2 + 0.7 * grazing * grazing * grazing);
    v_color = vec4(color, texmix);
    v_ambient = vec4(0.55 * mix(u_ground_color, u_sky_color, 0.5 + 0.5 * n.z), layer);
    v_sun = vec4(0.8 * u_sun_color * max(dot(n, u_sun_dir), 0.0), glass);
    v_highlight = vec4(0.6 * spec * h * u_sun_color, emit);
}
"""

SCENE_FS = """
#version 330
uniform sampler2DArray u_tex;
uniform sampler2DShadow u_shadow_map;
uniform float u_shadows;     // 1 = use the shadow map, 0 = no shadows
uniform vec3 u_sky_color;
uniform vec3 u_fog_color;
in vec4 v_a;
in vec4 v_b;
flat in vec4 v_color;
flat in vec4 v_ambient;
flat in vec4 v_sun;
flat in vec4 v_highlight;
layout(location = 0) out vec4 f_color;
layout(location = 1) out float f_depth;

void main() {
    vec4 t = texture(u_tex, vec3(v_a.xy, v_ambient.w));
    vec3 base = v_color.rgb * mix(vec3(1.0), 2.0 * t.rgb, v_color.a);
    float glass = v_sun.w > 1.5 ? t.a : v_sun.w;
    float lit = mix(1.0, texture(u_shadow_map, v_b.xyz), u_shadows);
    vec3 color = base * (v_ambient.rgb + v_sun.rgb * lit);
    // glass: dark, reflecting more of the sky at grazing angles
    color = mix(color, mix(base * 0.25, u_sky_color * 0.85, v_b.w) * (0.5 + 0.5 * lit), glass);
    color += v_highlight.rgb * lit;
    color = mix(color, base, min(v_highlight.w, 1.0));
    f_color = vec4(mix(color, u_fog_color, v_a.w), 1.0);
    f_depth = v_a.z;
}
"""

SKY_VS = """
#version 330
uniform mat4 u_inv_view_proj;
uniform vec3 u_cam_pos;
in vec2 in_ndc;
out vec3 v_dir;             // un-normalised view ray (linear in screen space for a pinhole camera)
void main() {
    vec4 far = u_inv_view_proj * vec4(in_ndc, 1.0, 1.0);
    v_dir = far.xyz / far.w - u_cam_pos;
    gl_Position = vec4(in_ndc, 1.0, 1.0);   // at the far plane: behind everything already drawn
}
"""

SKY_FS = """
#version 330
uniform vec3 u_sun_dir;
uniform vec3 u_sun_color;
uniform vec3 u_zenith_color;
uniform vec3 u_horizon_color;
uniform vec3 u_fog_color;
uniform float u_clouds;      // cloud cover 0..1
uniform sampler2DArray u_tex;
in vec3 v_dir;
layout(location = 0) out vec4 f_color;
layout(location = 1) out float f_depth;
void main() {
    vec3 dir = normalize(v_dir);
    float h = clamp(dir.z, 0.0, 1.0);
    vec3 sky = mix(u_horizon_color, u_zenith_color, sqrt(h));
    float sun = max(dot(dir, u_sun_dir), 0.0);
    float s8 = sun * sun; s8 *= s8; s8 *= s8;                 // sun^8: glow
    float s512 = s8 * s8; s512 *= s512; s512 *= s512; s512 *= s512 * s512;   // sun^512: disc
    sky += u_sun_color * (s512 * 3.0 + s8 * 0.2);
    // a cloud layer on a plane ~1 km up (texture: the noise layer)
    vec2 p = dir.xy / max(dir.z, 0.02) * 0.0016;
    float c = texture(u_tex, vec3(p, 6.0)).r * 2.0 - 1.0;
    c = smoothstep(0.5 - u_clouds * 0.6, 1.0 - u_clouds * 0.3, 0.5 + 2.5 * c) * smoothstep(0.01, 0.15, dir.z) * step(0.001, u_clouds);
    sky = mix(sky, mix(u_horizon_color, vec3(1.0), 0.6) * (0.75 + 0.25 * u_sun_color), c * 0.85);
    sky = mix(u_fog_color, sky, smoothstep(-0.02, 0.10, dir.z));
    f_color = vec4(sky, 1.0);
    f_depth = 0.0;  // no surface: depth 0 marks the sky
}
"""

SHADOW_VS = """
#version 330
uniform mat4 u_shadow_vp;
in vec3 in_pos;
void main() { gl_Position = u_shadow_vp * vec4(in_pos, 1.0); }
"""

SHADOW_FS = """
#version 330
void main() {}
"""
