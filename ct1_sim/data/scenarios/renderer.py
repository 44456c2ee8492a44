"""Headless rasteriser (moderngl on EGL: Mesa llvmpipe on a CPU, the GPU where there is one).

One static, indexed vertex buffer holds the world, sorted so that what usually occludes (markings,
vehicles, buildings) is drawn before what is usually hidden (asphalt, grass): the depth test then skips
shading the hidden fragments. Movers (other vehicles) are drawn with per-frame model matrices. Sun shadows
come from a shadow map rendered once per world and sun direction. Each frame changes only uniforms (view,
lighting): it renders the scene, then the sky only where nothing was drawn, into an RGBA8 colour and an R32F
linear-depth attachment (metres along the optical axis; 0 where only sky is seen), drawn upside down so the
read-back rows come top-down, straight into the output arrays.

Per-frame work stays off LAPACK (closed-form inverses): numpy's threaded OpenBLAS wakes a worker thread on
``inv`` that then spins in ``sched_yield``, taking a core from llvmpipe's rasteriser threads.
Measure with ``python benchmarks/run.py scenarios``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ct1_sim.data.scenarios.mesh import DRAW_RANK, VERTEX_FLOATS
from ct1_sim.data.scenarios.shaders import SCENE_FS, SCENE_VS, SHADOW_FS, SHADOW_VS, SKY_FS, SKY_VS
from ct1_sim.data.scenarios.textures import texture_layers
from ct1_sim.data.scenarios.tiles import Tiles, tile_triangles, visible_tiles
from ct1_sim.geometry import change_sensor_frame, invert_rigid

log = logging.getLogger(__name__)

NEAR_M, FAR_M = 0.1, 600.0
#: Clip-space y flip: OpenGL writes rows bottom-up; drawing upside down makes read-back rows top-down.
FLIP_ROWS = np.diag([1.0, -1.0, 1.0, 1.0])
#: Half size (m) of the square around the shadow focus that the shadow map covers, and its resolution.
SHADOW_HALF_M = 120.0
SHADOW_SIZE = 2048


@dataclass
class Lighting:
    """Sun and atmosphere (colours linear RGB 0-1; sun direction points at the sun, world z up)."""

    sun_dir: tuple[float, float, float] = (0.4, 0.3, 0.85)
    sun_color: tuple[float, float, float] = (1.0, 0.96, 0.88)
    sky_color: tuple[float, float, float] = (0.55, 0.68, 0.85)
    ground_color: tuple[float, float, float] = (0.35, 0.33, 0.30)
    zenith_color: tuple[float, float, float] = (0.25, 0.45, 0.80)
    horizon_color: tuple[float, float, float] = (0.70, 0.80, 0.90)
    fog_color: tuple[float, float, float] = (0.72, 0.78, 0.84)
    fog_density: float = 0.004
    clouds: float = 0.0  # cloud cover 0-1
    shadows: bool = True


def gl_projection(K: np.ndarray, width: int, height: int, near: float = NEAR_M, far: float = FAR_M) -> np.ndarray:
    """OpenGL projection for pixel intrinsics ``K`` (OpenCV), image rows flipped on read-back."""
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    return np.array([
        [2 * fx / width, 0.0, 1.0 - 2 * cx / width, 0.0],
        [0.0, 2 * fy / height, 2 * cy / height - 1.0, 0.0],
        [0.0, 0.0, -(far + near) / (far - near), -2 * far * near / (far - near)],
        [0.0, 0.0, -1.0, 0.0],
    ])


def inverse_gl_projection(P: np.ndarray) -> np.ndarray:
    """Closed-form inverse of a :func:`gl_projection` matrix (no LAPACK call: in a render loop, numpy's
    threaded OpenBLAS wakes a worker thread on ``inv`` that then spins, taking a core from the rasteriser)."""
    a, b, c, d, e, f = P[0, 0], P[0, 2], P[1, 1], P[1, 2], P[2, 2], P[2, 3]
    return np.array([
        [1.0 / a, 0.0, 0.0, b / a],
        [0.0, 1.0 / c, 0.0, d / c],
        [0.0, 0.0, 0.0, -1.0],
        [0.0, 0.0, 1.0 / f, e / f],
    ])


def shadow_view_proj(sun_dir: np.ndarray, centre: tuple[float, float], half_m: float = SHADOW_HALF_M) -> np.ndarray:
    """Orthographic world -> clip transform looking down the sun direction at a square around ``centre``."""
    d = np.asarray(sun_dir, dtype=float)
    d = d / np.linalg.norm(d)
    up = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.99 else np.array([1.0, 0.0, 0.0])
    x = np.cross(up, d)
    x /= np.linalg.norm(x)
    y = np.cross(d, x)
    eye = np.array([centre[0], centre[1], 0.0]) + d * 400.0
    view = np.eye(4)
    view[:3, :3] = np.stack([x, y, d])  # rows: light-space axes; the light looks along -d
    view[:3, 3] = -view[:3, :3] @ eye
    # ground lengths along the sun's azimuth shrink by sin(elevation) in light space: a square of half_m covers it
    near, far = 1.0, 400.0 + 2.0 * half_m + 60.0
    proj = np.diag([1.0 / (half_m * 1.05), 1.0 / (half_m * 1.05), -2.0 / (far - near), 1.0])
    proj[2, 3] = -(far + near) / (far - near)
    return proj @ view


def create_context():  # -> moderngl.Context (moderngl is imported lazily)
    """A headless EGL OpenGL 3.3 context, or a clear error saying what to install."""
    import moderngl

    try:
        return moderngl.create_standalone_context(backend="egl")
    except Exception as err:  # noqa: BLE001 - moderngl raises plain Exception subclasses from its C layer
        raise RuntimeError(
            f"cannot open a headless EGL OpenGL context ({err}). Install the Debian packages "
            "libegl1 libegl-mesa0 libgl1-mesa-dri libgles2 (`make system-deps` does it as root)"
        ) from None


def _uniform(prog, name: str, value) -> None:
    """Set a uniform if the program uses it (the GLSL compiler drops unused ones); 4x4 matrices go column-major."""
    if name not in prog:
        return
    if isinstance(value, np.ndarray) and value.shape == (4, 4):
        prog[name].write(value.T.astype("f4").tobytes())
    else:
        prog[name].value = value


def sort_for_drawing(vertices: np.ndarray) -> np.ndarray:
    """Triangles reordered by material draw rank (occluders first), stable within a rank."""
    v = np.asarray(vertices, dtype=np.float32).reshape(-1, 3, VERTEX_FLOATS)
    mats = np.rint(v[:, 0, 9]).astype(int)
    rank = DRAW_RANK[np.clip(mats, 0, len(DRAW_RANK) - 1)]
    return v[np.argsort(rank, kind="stable")].reshape(-1, VERTEX_FLOATS)


def index_vertices(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Triangle soup ``(N,10)`` -> unique vertices ``(M,10)`` float32 and triangle indices ``(N,)`` uint32.

    Vertices shared by a quad's two triangles are stored once (fewer vertex-shader runs, and a CPU
    rasteriser's vertex cache hits); the unique vertices keep the order of their first use, so the draw order
    is unchanged.
    """
    v = np.ascontiguousarray(vertices, dtype=np.float32)
    if not len(v):
        return v.reshape(0, VERTEX_FLOATS), np.zeros(0, np.uint32)
    unique, first, inverse = np.unique(v, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return np.ascontiguousarray(unique[order]), rank[inverse.ravel()].astype(np.uint32)


class SceneRenderer:
    """Renders one world from many cameras. Reuse it: creating GL resources is the slow part.

    Example:
        >>> r = SceneRenderer(448, 256)                      # doctest: +SKIP
        >>> r.set_world(world.mesh.array(), [m.vertices for m in world.movers])
        >>> rgb, depth = r.render(c2w, K, world.lighting, [m.pose(t) for m in world.movers])
    """

    def __init__(self, width: int, height: int, ctx=None, shadow_size: int = SHADOW_SIZE) -> None:
        import moderngl

        self.width, self.height = width, height
        self.ctx = ctx or create_context()
        self._moderngl = moderngl
        ctx = self.ctx
        self.scene_prog = ctx.program(vertex_shader=SCENE_VS, fragment_shader=SCENE_FS)
        self.sky_prog = ctx.program(vertex_shader=SKY_VS, fragment_shader=SKY_FS)
        self.shadow_prog = ctx.program(vertex_shader=SHADOW_VS, fragment_shader=SHADOW_FS)
        tri = np.array([[-1, -1], [3, -1], [-1, 3]], dtype="f4")
        self.sky_vao = ctx.vertex_array(self.sky_prog, [(ctx.buffer(tri.tobytes()), "2f", "in_ndc")])
        # textures: unit 0 the surface texture array, unit 1 the shadow map
        layers = texture_layers()
        self.textures = ctx.texture_array(layers.shape[2:0:-1] + (layers.shape[0],), 4, layers.tobytes())
        self.textures.build_mipmaps()
        self.textures.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        self.shadow_size = shadow_size
        self.shadow_tex = ctx.depth_texture((shadow_size, shadow_size))
        # outside the map: the border (depth 1) compares as lit
        self.shadow_sampler = ctx.sampler(texture=self.shadow_tex, compare_func="<=", border_color=(1.0, 1.0, 1.0, 1.0),
                                          filter=(moderngl.LINEAR, moderngl.LINEAR))
        self.shadow_fbo = ctx.framebuffer(depth_attachment=self.shadow_tex)
        self.scene_prog["u_tex"].value = 0
        self.scene_prog["u_shadow_map"].value = 1
        self.sky_prog["u_tex"].value = 0
        # the frame
        self.color_rb = ctx.renderbuffer((width, height), 4)
        self.depth_rb = ctx.renderbuffer((width, height), 1, dtype="f4")
        self.zbuf = ctx.depth_renderbuffer((width, height))
        self.fbo = ctx.framebuffer(color_attachments=[self.color_rb, self.depth_rb], depth_attachment=self.zbuf)
        self._static = None
        self._tiles: Tiles | None = None
        self._movers: list = []
        self._shadow_key: tuple | None = None
        self._shadow_centre = (60.0, 0.0)
        self._shadow_vp = np.eye(4)
        self._proj_key: np.ndarray | None = None
        self._proj = (np.eye(4), np.eye(4))
        self._lighting_key: tuple | None = None
        self._identity = np.eye(4, dtype="f4").tobytes()

    # ------------------------------------------------------------------ world
    def _vao(self, vertices: np.ndarray):
        unique, indices = index_vertices(vertices)
        buf = self.ctx.buffer(unique.tobytes())
        ibo = self.ctx.buffer(indices.tobytes())
        vao = self.ctx.vertex_array(self.scene_prog, [(buf, "3f 3f 3f 1f", "in_pos", "in_normal", "in_color", "in_mat")],
                                    index_buffer=ibo, index_element_size=4)
        shadow = self.ctx.vertex_array(self.shadow_prog, [(buf, "3f 28x", "in_pos")], index_buffer=ibo, index_element_size=4)
        return vao, shadow, buf, ibo

    def _release_world(self) -> None:
        for resources in ([self._static] if self._static else []) + self._movers:
            for resource in resources:
                resource.release()
        self._static, self._movers, self._shadow_key = None, [], None

    def set_world(
        self, static_vertices: np.ndarray, movers: list[np.ndarray] | None = None, shadow_centre: tuple[float, float] = (60.0, 0.0),
        tile_m: float | None = None,
    ) -> None:
        """Upload the static triangle soup ``(N,10)`` and one vertex array per moving object (local frame).

        ``shadow_centre`` (world x, y in m) is the middle of the square, ``2 * SHADOW_HALF_M`` wide, where
        static geometry casts sun shadows (put it ahead of the ego). ``tile_m`` splits the static geometry into
        square tiles of that size, and each frame draws only the tiles in view (:mod:`tiles`; for town-scale worlds).
        """
        self._release_world()
        self._tiles = None
        if len(static_vertices):
            if tile_m:
                ordered, self._tiles = tile_triangles(static_vertices, tile_m)
            else:
                ordered = sort_for_drawing(static_vertices)
            self._static = self._vao(ordered)
        self._movers = [self._vao(v) for v in (movers or [])]
        self._shadow_centre = (float(shadow_centre[0]), float(shadow_centre[1]))

    def set_shadow_centre(self, shadow_centre: tuple[float, float]) -> None:
        """Move the square where static geometry casts shadows (world x, y in m); the shadow map is redrawn at the
        next frame. Call it as the ego drives through a large world."""
        self._shadow_centre = (float(shadow_centre[0]), float(shadow_centre[1]))

    def _update_shadows(self, sun_dir: np.ndarray) -> None:
        key = (tuple(np.round(sun_dir, 6)), self._shadow_centre)
        if key == self._shadow_key:
            return
        self._shadow_vp = shadow_view_proj(sun_dir, self._shadow_centre)
        self.shadow_fbo.use()
        self.ctx.viewport = (0, 0, self.shadow_size, self.shadow_size)
        self.shadow_fbo.clear(depth=1.0)
        self.ctx.enable(self._moderngl.DEPTH_TEST)
        if self._static is not None:
            self.shadow_prog["u_shadow_vp"].write(self._shadow_vp.T.astype("f4").tobytes())
            self._static[1].render(self._moderngl.TRIANGLES)
        self._shadow_key = key

    # ------------------------------------------------------------------ frames
    def render(
        self, c2w: np.ndarray, K: np.ndarray, lighting: Lighting, mover_poses: list[np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """RGB ``(H,W,3)`` uint8 and depth ``(H,W)`` float32 (m along the optical axis, 0 = sky) seen by ``c2w``.

        ``c2w`` is a 4x4 OpenCV camera-to-world pose (world z up); ``mover_poses`` are 4x4 world poses of the movers.
        """
        self._draw(self.fbo, c2w, K, lighting, mover_poses)
        rgb = np.empty((self.height, self.width, 3), np.uint8)
        depth = np.empty((self.height, self.width), np.float32)
        self._read(self.fbo, rgb, depth)
        return rgb, depth

    def render_sequence(
        self, c2w: np.ndarray, K: np.ndarray, lighting: Lighting, mover_poses: list[list[np.ndarray]] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Frames ``(T,H,W,3)`` uint8 and depth ``(T,H,W)`` float32 along camera poses ``c2w (T,4,4)``, read back
        straight into the output arrays (the same pixels as :meth:`render` frame by frame).

        ``mover_poses[t]`` holds the movers' 4x4 world poses at frame t. (Alternating two framebuffers to
        overlap drawing with read-back was measured: no gain on llvmpipe, so frames go one after another.)
        """
        c2w = np.asarray(c2w, dtype=float).reshape(-1, 4, 4)
        rgb = np.empty((len(c2w), self.height, self.width, 3), np.uint8)
        depth = np.empty((len(c2w), self.height, self.width), np.float32)
        for t in range(len(c2w)):
            self._draw(self.fbo, c2w[t], K, lighting, mover_poses[t] if mover_poses else None)
            self._read(self.fbo, rgb[t], depth[t])
        return rgb, depth

    def _read(self, fbo, rgb: np.ndarray, depth: np.ndarray) -> None:
        """Read colour and depth into ``rgb (H,W,3)`` and ``depth (H,W)`` (C-contiguous, rows top-down).

        Colour is read as RGB by the driver (0.25 ms here); reading RGBA and dropping alpha with numpy's strided
        copy took 1.6 ms. (Recovering depth from the depth buffer instead of the R32F attachment was measured:
        no gain on llvmpipe.)
        """
        fbo.read_into(rgb, components=3, attachment=0)
        fbo.read_into(depth, components=1, attachment=1, dtype="f4")

    def _projection(self, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row-flipped GL projection for ``K`` and its inverse, cached for the last ``K``."""
        K = np.asarray(K, dtype=float)
        if self._proj_key is None or not np.array_equal(self._proj_key, K):
            P = gl_projection(K, self.width, self.height)
            self._proj = (FLIP_ROWS @ P, inverse_gl_projection(P) @ FLIP_ROWS)
            self._proj_key = K.copy()
        return self._proj

    def _set_lighting(self, lighting: Lighting, sun: np.ndarray, shadows: bool) -> None:
        """Write the lighting uniforms of both programs when they differ from the last frame's."""
        colours = (lighting.sun_color, lighting.sky_color, lighting.ground_color, lighting.fog_color, lighting.zenith_color, lighting.horizon_color)
        key = (tuple(sun), shadows, *(tuple(float(c) for c in v) for v in colours), float(lighting.fog_density), float(lighting.clouds))
        if key == self._lighting_key:
            return
        prog, sky = self.scene_prog, self.sky_prog
        _uniform(prog, "u_shadows", 1.0 if shadows else 0.0)
        for name, value in (("u_sun_dir", sun), ("u_sun_color", lighting.sun_color), ("u_sky_color", lighting.sky_color),
                            ("u_ground_color", lighting.ground_color), ("u_fog_color", lighting.fog_color)):
            _uniform(prog, name, tuple(float(c) for c in value))
        _uniform(prog, "u_fog_density", float(lighting.fog_density))
        for name, value in (("u_sun_dir", sun), ("u_sun_color", lighting.sun_color), ("u_zenith_color", lighting.zenith_color),
                            ("u_horizon_color", lighting.horizon_color), ("u_fog_color", lighting.fog_color)):
            sky[name].value = tuple(float(c) for c in value)
        sky["u_clouds"].value = float(lighting.clouds)
        self._lighting_key = key

    def _draw(self, fbo, c2w: np.ndarray, K: np.ndarray, lighting: Lighting, mover_poses: list[np.ndarray] | None) -> None:
        moderngl = self._moderngl
        sun = np.asarray(lighting.sun_dir, dtype=float)
        sun = sun / np.linalg.norm(sun)
        shadows = bool(lighting.shadows) and sun[2] > 0.02
        if shadows:
            self._update_shadows(sun)
        cam_gl = change_sensor_frame(np.asarray(c2w, dtype=float), "opencv", "opengl")  # camera -> world, GL axes
        view = invert_rigid(cam_gl)
        proj, inv_proj = self._projection(K)
        view_proj = proj @ view  # rows come back top-down
        cam_pos = tuple(cam_gl[:3, 3])
        fbo.use()
        self.ctx.viewport = (0, 0, self.width, self.height)
        fbo.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.ctx.disable(moderngl.CULL_FACE)
        self.ctx.depth_func = "<="
        self.textures.use(0)
        self.shadow_tex.use(1)
        self.shadow_sampler.use(1)
        self._set_lighting(lighting, sun, shadows)
        # scene
        prog = self.scene_prog
        _uniform(prog, "u_view_proj", view_proj)
        _uniform(prog, "u_view", view)
        _uniform(prog, "u_shadow_vp", self._shadow_vp)
        _uniform(prog, "u_cam_pos", cam_pos)
        if self._static is not None:
            prog["u_model"].write(self._identity)
            if self._tiles is None:
                self._static[0].render(moderngl.TRIANGLES)
            else:
                tiles = self._tiles
                for k in visible_tiles(tiles, view_proj, np.asarray(cam_pos)):
                    self._static[0].render(moderngl.TRIANGLES, vertices=int(tiles.count[k]) * 3, first=int(tiles.first[k]) * 3)
        for (vao, *_), pose in zip(self._movers, mover_poses or [], strict=False):
            prog["u_model"].write(np.asarray(pose, dtype="f4").T.tobytes())
            vao.render(moderngl.TRIANGLES)
        # sky: at the far plane, so only pixels no surface covered pass the depth test
        sky = self.sky_prog
        sky["u_inv_view_proj"].write((cam_gl @ inv_proj).T.astype("f4").tobytes())
        sky["u_cam_pos"].value = cam_pos
        self.sky_vao.render(moderngl.TRIANGLES)

    def release(self) -> None:
        self._release_world()
        self.ctx.release()
