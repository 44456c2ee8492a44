"""What readers assume when a file does not say (each assumption is logged)."""

#: Image size (W, H) px for files with normalised or no intrinsics: the clip spec's frames.
DEFAULT_IMAGE_SIZE = (448, 256)
#: Pose rate (Hz) for files without timestamps: the clip spec (16 poses at 5 Hz).
DEFAULT_RATE_HZ = 5.0
#: Horizontal field of view (deg) for files without intrinsics (nuScenes-like front camera).
DEFAULT_HFOV_DEG = 64.0
