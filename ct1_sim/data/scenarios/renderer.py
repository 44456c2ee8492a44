"""Headless rasteriser (moderngl on EGL: Mesa llvmpipe on a CPU, the GPU where there is one).

One static vertex buffer holds the world; movers (other vehicles) are drawn with per-frame model matrices.
Each frame renders sky + scene into an RGBA8 colour and an R32F linear-depth attachment (metres along the
optical axis; 0 where only sky is seen) and reads both back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ct1_sim.data.scenarios.shaders import SCENE_FS, SCENE_VS, SKY_FS, SKY_VS
from ct1_sim.geometry import change_sensor_frame, invert_rigid

log = logging.getLogger(__name__)

NEAR_M, FAR_M = 0.1, 600.0


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


def gl_projection(K: np.ndarray, width: int, height: int, near: float = NEAR_M, far: float = FAR_M) -> np.ndarray:
    """OpenGL projection for pixel intrinsics ``K`` (OpenCV), image rows flipped on read-back."""
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    return np.array([
        [2 * fx / width, 0.0, 1.0 - 2 * cx / width, 0.0],
        [0.0, 2 * fy / height, 2 * cy / height - 1.0, 0.0],
        [0.0, 0.0, -(far + near) / (far - near), -2 * far * near / (far - near)],
        [0.0, 0.0, -1.0, 0.0],
    ])


def create_context():  # noqa: ANN201 - moderngl types
    """A headless EGL OpenGL 3.3 context, or a clear error saying what to install."""
    import moderngl

    try:
        return moderngl.create_standalone_context(backend="egl")
    except Exception as err:  # moderngl raises plain Exception subclasses from its C layer
        raise RuntimeError(
            f"cannot open a headless EGL OpenGL context ({err}). Install the Debian packages "
            "libegl1 libegl-mesa0 libgl1-mesa-dri libgles2 (`make system-deps` does it as root)"
        ) from None


class SceneRenderer:
    """Renders one world from many cameras. Reuse it: creating GL resources is the slow part."""

    def __init__(self, width: int, height: int, ctx=None) -> None:  # noqa: ANN001
        import moderngl

        self.width, self.height = width, height
        self.ctx = ctx or create_context()
        self._moderngl = moderngl
        self.scene_prog = self.ctx.program(vertex_shader=SCENE_VS, fragment_shader=SCENE_FS)
        self.sky_prog = self.ctx.program(vertex_shader=SKY_VS, fragment_shader=SKY_FS)
        tri = np.array([[-1, -1], [3, -1], [-1, 3]], dtype="f4")
        self.sky_vao = self.ctx.vertex_array(self.sky_prog, [(self.ctx.buffer(tri.tobytes()), "2f", "in_ndc")])
        self.color_rb = self.ctx.renderbuffer((width, height), 4)
        self.depth_tex = self.ctx.renderbuffer((width, height), 1, dtype="f4")
        self.zbuf = self.ctx.depth_renderbuffer((width, height))
        self.fbo = self.ctx.framebuffer(color_attachments=[self.color_rb, self.depth_tex], depth_attachment=self.zbuf)
        self._static = None
        self._movers: list[tuple] = []
        self._rgba = bytearray(width * height * 4)
        self._depth = bytearray(width * height * 4)

    def _vao(self, vertices: np.ndarray):  # noqa: ANN202
        buf = self.ctx.buffer(np.ascontiguousarray(vertices, dtype="f4").tobytes())
        return self.ctx.vertex_array(self.scene_prog, [(buf, "3f 3f 3f 1f", "in_pos", "in_normal", "in_color", "in_mat")])

    def set_world(self, static_vertices: np.ndarray, movers: list[np.ndarray] | None = None) -> None:
        """Upload the static triangle soup ``(N,10)`` and one vertex array per moving object (local frame)."""
        for res in ([self._static] if self._static else []) + [m for m in self._movers]:
            res.release()
        self._static = self._vao(static_vertices) if len(static_vertices) else None
        self._movers = [self._vao(v) for v in (movers or [])]

    def render(
        self, c2w: np.ndarray, K: np.ndarray, lighting: Lighting, mover_poses: list[np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """RGB ``(H,W,3)`` uint8 and depth ``(H,W)`` float32 (m along the optical axis, 0 = sky) seen by ``c2w``.

        ``c2w`` is a 4x4 OpenCV camera-to-world pose (world z up); ``mover_poses`` are 4x4 world poses of the movers.
        """
        view = invert_rigid(change_sensor_frame(c2w, "opencv", "opengl"))
        proj = gl_projection(K, self.width, self.height)
        view_proj = proj @ view
        cam_pos = c2w[:3, 3]
        self.fbo.use()
        self.ctx.viewport = (0, 0, self.width, self.height)
        self.fbo.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        moderngl = self._moderngl
        # sky (no depth test, drawn first)
        self.ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        sky = self.sky_prog
        sky["u_inv_view_proj"].write(np.linalg.inv(view_proj).T.astype("f4").tobytes())
        sky["u_cam_pos"].value = tuple(cam_pos)
        sun = np.asarray(lighting.sun_dir, dtype=float)
        sun = tuple(sun / np.linalg.norm(sun))
        for name, value in (("u_sun_dir", sun), ("u_sun_color", lighting.sun_color), ("u_zenith_color", lighting.zenith_color),
                            ("u_horizon_color", lighting.horizon_color), ("u_fog_color", lighting.fog_color)):
            sky[name].value = tuple(value)
        self.sky_vao.render(moderngl.TRIANGLES)
        # scene
        self.ctx.enable(moderngl.DEPTH_TEST)
        prog = self.scene_prog
        prog["u_view_proj"].write(view_proj.T.astype("f4").tobytes())
        prog["u_view"].write(view.T.astype("f4").tobytes())
        prog["u_cam_pos"].value = tuple(cam_pos)
        for name, value in (("u_sun_dir", sun), ("u_sun_color", lighting.sun_color), ("u_sky_color", lighting.sky_color),
                            ("u_ground_color", lighting.ground_color), ("u_fog_color", lighting.fog_color)):
            prog[name].value = tuple(value)
        prog["u_fog_density"].value = float(lighting.fog_density)
        identity = np.eye(4, dtype="f4").tobytes()
        if self._static is not None:
            prog["u_model"].write(identity)
            self._static.render(moderngl.TRIANGLES)
        for vao, pose in zip(self._movers, mover_poses or [], strict=False):
            prog["u_model"].write(np.asarray(pose, dtype="f4").T.tobytes())
            vao.render(moderngl.TRIANGLES)
        self.fbo.read_into(self._rgba, components=4, attachment=0)
        self.fbo.read_into(self._depth, components=1, attachment=1, dtype="f4")
        rgb = np.frombuffer(self._rgba, np.uint8).reshape(self.height, self.width, 4)[::-1, :, :3].copy()
        depth = np.frombuffer(self._depth, np.float32).reshape(self.height, self.width)[::-1].copy()
        return rgb, depth

    def release(self) -> None:
        self.ctx.release()
