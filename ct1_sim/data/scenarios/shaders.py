"""GLSL 330 shaders: a sky pass and a lit, fogged, procedurally textured scene pass that also writes
linear depth (metres along the optical axis) to a second colour attachment."""

SCENE_VS = """
#version 330
uniform mat4 u_view_proj;
uniform mat4 u_view;
uniform mat4 u_model;
in vec3 in_pos;
in vec3 in_normal;
in vec3 in_color;
in float in_mat;
out vec3 v_world;
out vec3 v_normal;
out vec3 v_color;
flat out int v_mat;
out float v_depth;
void main() {
    vec4 w = u_model * vec4(in_pos, 1.0);
    v_world = w.xyz;
    v_normal = mat3(u_model) * in_normal;
    v_color = in_color;
    v_mat = int(in_mat + 0.5);
    v_depth = -(u_view * w).z;
    gl_Position = u_view_proj * w;
}
"""

SCENE_FS = """
#version 330
uniform vec3 u_sun_dir;      // towards the sun, world frame
uniform vec3 u_sun_color;
uniform vec3 u_sky_color;    // ambient from above
uniform vec3 u_ground_color; // ambient from below
uniform vec3 u_fog_color;
uniform float u_fog_density; // 1/m
uniform vec3 u_cam_pos;
in vec3 v_world;
in vec3 v_normal;
in vec3 v_color;
flat in int v_mat;
in float v_depth;
layout(location = 0) out vec4 f_color;
layout(location = 1) out float f_depth;

float hash(vec2 p) { return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453); }
float noise(vec2 p) {
    vec2 i = floor(p), f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1, 0)), u.x), mix(hash(i + vec2(0, 1)), hash(i + vec2(1, 1)), u.x), u.y);
}
float fbm(vec2 p) { return 0.5 * noise(p) + 0.3 * noise(p * 2.7) + 0.2 * noise(p * 7.1); }

void main() {
    vec3 n = normalize(v_normal);
    vec3 base = v_color;
    float spec = 0.0;
    if (v_mat == 9) { f_color = vec4(v_color, 1.0); f_depth = v_depth; return; }   // test marker, unlit
    if (v_mat == 0) {            // asphalt
        base *= 0.82 + 0.25 * fbm(v_world.xy * 0.35) + 0.08 * hash(floor(v_world.xy * 25.0));
    } else if (v_mat == 1) {     // paint marking
        base *= 0.9 + 0.1 * noise(v_world.xy * 4.0);
    } else if (v_mat == 2) {     // grass
        base *= 0.7 + 0.5 * fbm(v_world.xy * 0.5);
    } else if (v_mat == 3) {     // concrete slabs
        vec2 g = fract(v_world.xy / 1.5);
        float seam = step(0.04, g.x) * step(0.04, g.y);
        base *= (0.75 + 0.25 * seam) * (0.9 + 0.15 * noise(v_world.xy * 2.0));
    } else if (v_mat == 4) {     // facade with windows
        if (n.z > 0.5) { base = vec3(0.32, 0.31, 0.30) * (0.9 + 0.2 * noise(v_world.xy)); }
        else {
            vec2 t = normalize(vec2(-n.y, n.x));
            float u = dot(v_world.xy, t);
            vec2 cell = vec2(fract(u / 2.6), fract(v_world.z / 3.1));
            bool win = cell.x > 0.22 && cell.x < 0.78 && cell.y > 0.32 && cell.y < 0.82 && v_world.z > 2.5;
            if (win) { base = mix(vec3(0.10, 0.13, 0.18), u_sky_color * 0.6, 0.35 + 0.3 * hash(floor(vec2(u / 2.6, v_world.z / 3.1)))); spec = 0.5; }
            else { base *= 0.85 + 0.2 * noise(vec2(u, v_world.z) * 1.5); }
        }
    } else if (v_mat == 5) {     // car paint
        spec = 0.6;
    } else if (v_mat == 6) {     // foliage
        base *= 0.6 + 0.6 * fbm(v_world.xy * 1.7 + v_world.z);
    } else if (v_mat == 7) {     // bark / metal pole
        base *= 0.85 + 0.15 * noise(v_world.xz * 6.0);
    } else if (v_mat == 8) {     // glass
        base = mix(base, u_sky_color * 0.5, 0.4); spec = 0.8;
    }
    float diffuse = max(dot(n, u_sun_dir), 0.0);
    vec3 ambient = mix(u_ground_color, u_sky_color, 0.5 + 0.5 * n.z);
    vec3 view = normalize(u_cam_pos - v_world);
    float highlight = pow(max(dot(reflect(-u_sun_dir, n), view), 0.0), 24.0) * spec;
    vec3 color = base * (ambient * 0.55 + u_sun_color * diffuse * 0.75) + u_sun_color * highlight * 0.5;
    float dist = length(v_world - u_cam_pos);
    float fog = 1.0 - exp(-u_fog_density * dist);
    f_color = vec4(mix(color, u_fog_color, fog), 1.0);
    f_depth = v_depth;
}
"""

SKY_VS = """
#version 330
in vec2 in_ndc;
out vec2 v_ndc;
void main() { v_ndc = in_ndc; gl_Position = vec4(in_ndc, 0.9999, 1.0); }
"""

SKY_FS = """
#version 330
uniform mat4 u_inv_view_proj;
uniform vec3 u_cam_pos;
uniform vec3 u_sun_dir;
uniform vec3 u_sun_color;
uniform vec3 u_zenith_color;
uniform vec3 u_horizon_color;
uniform vec3 u_fog_color;
in vec2 v_ndc;
layout(location = 0) out vec4 f_color;
layout(location = 1) out float f_depth;
void main() {
    vec4 far = u_inv_view_proj * vec4(v_ndc, 1.0, 1.0);
    vec3 dir = normalize(far.xyz / far.w - u_cam_pos);
    float h = clamp(dir.z, 0.0, 1.0);
    vec3 sky = mix(u_horizon_color, u_zenith_color, pow(h, 0.6));
    float sun = max(dot(dir, u_sun_dir), 0.0);
    sky += u_sun_color * (pow(sun, 400.0) * 2.0 + pow(sun, 12.0) * 0.25);
    sky = mix(u_fog_color, sky, smoothstep(-0.02, 0.12, dir.z));
    f_color = vec4(sky, 1.0);
    f_depth = 0.0;  // no surface: depth 0 marks the sky
}
"""
