"""CT-1 trajectory model: vision-language condition, trajectory DiT, wavelet loss, training, sampling."""

from ct1_sim.trajectory.configuration_ct1 import CT1TrajectoryConfig
from ct1_sim.trajectory.modeling_ct1 import CT1TrajectoryModel
from ct1_sim.trajectory.wavelet_loss import WaveletTransform, ct1_loss

__all__ = ["CT1TrajectoryConfig", "CT1TrajectoryModel", "WaveletTransform", "ct1_loss"]
