"""CT-1 trajectory model: vision-language condition, trajectory DiT, wavelet loss, training, sampling."""

from ct1_sim.trajectory.instruction_parser import InstructionParser
from ct1_sim.trajectory.modeling_ct1 import CT1TrajectoryModel, UnsupportedInstruction
from ct1_sim.trajectory.pipeline_ct1 import CT1TrajectoryPipeline, CT1TrajectoryPipelineOutput
from ct1_sim.trajectory.wavelet_loss import WaveletTransform, ct1_loss

__all__ = ["CT1TrajectoryModel", "CT1TrajectoryPipeline", "CT1TrajectoryPipelineOutput", "InstructionParser", "UnsupportedInstruction", "WaveletTransform", "ct1_loss"]
