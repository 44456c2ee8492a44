"""``ct1-sim train ...`` and ``ct1-sim eval ...`` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

train_app = typer.Typer(help="Train models (resumable: run the same command again to continue).", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate models on a clip store's held-out split.", no_args_is_help=True)


@train_app.command("trajectory")
def train_trajectory(
    data: Annotated[Path, typer.Option(help="Clip store (zarr) with train/val splits.")],
    config: Annotated[Path, typer.Option(help="Training YAML, e.g. model/configs/ct1-tiny.yaml.")],
    out: Annotated[Path, typer.Option(help="Output folder (checkpoints/, then config.json + model.safetensors).")],
    steps: Annotated[int | None, typer.Option(min=1, help="Override train.steps.")] = None,
    seed: Annotated[int | None, typer.Option(help="Override train.seed.")] = None,
    wavelet_weight: Annotated[float | None, typer.Option(min=0.0, max=1e3, help="Override the wavelet loss weight (0 = ablation).")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    cache: Annotated[Path | None, typer.Option(help="Feature cache folder (default OUT/cache); share it between runs.")] = None,
) -> None:
    """Train the CT-1 trajectory model. Works under `torchrun --nproc-per-node N` unchanged."""
    from ct1_sim.trajectory.training import train_trajectory_model

    train_trajectory_model(data, config, out, device=device, steps=steps, wavelet_weight=wavelet_weight, seed=seed, cache_dir=cache)
    typer.echo(f"saved the EMA model to {out}")


@train_app.command("parser")
def train_parser(
    model: Annotated[Path, typer.Option(help="A trained trajectory model folder: its instruction parser is (re)trained and saved there.")],
) -> None:
    """(Re)train the instruction parser of a trajectory model on the paraphrase bank's train phrasings (seconds; the
    trajectory training does this at its end). Prints its accuracy on the train and the held-out test phrasings."""
    from ct1_sim.trajectory import CT1TrajectoryModel
    from ct1_sim.trajectory.instruction_parser import train_instruction_parser

    trajectory_model = CT1TrajectoryModel.from_pretrained(model, device="cpu", runtime="torch")
    parser, metrics = train_instruction_parser(trajectory_model.encoder.text_embedding)
    parser.save(model)
    typer.echo(f"instruction parser: train accuracy {metrics['train_accuracy']:.3f} ({metrics['train_phrases']:.0f} phrasings), "
               f"held-out test accuracy {metrics['test_accuracy']:.3f} ({metrics['test_phrases']:.0f}); saved to {model}")


@eval_app.command("trajectory")
def eval_trajectory(
    data: Annotated[Path, typer.Option(help="Clip store with a test split (and the train split for baselines).")],
    model: Annotated[Path, typer.Option(help="Model folder.")],
    report: Annotated[Path, typer.Option(help="Report folder (report.md + metrics.json).")],
    ablation: Annotated[Path | None, typer.Option(help="The model trained without the wavelet loss, for comparison.")] = None,
    samples: Annotated[int, typer.Option(help="K samples per clip.")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    split: Annotated[str, typer.Option(help="Split to evaluate on.")] = "test",
    max_clips: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N clips of the split (at most its size).")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
) -> None:
    """Evaluate a trajectory model against image-blind baselines (and its no-wavelet ablation)."""
    from ct1_sim.trajectory.evaluation import evaluate, write_report

    _evaluate_models(evaluate, write_report, data, model, ablation, report, num_samples=samples, seed=seed, split=split,
                     max_clips=max_clips, device=device)


def _evaluate_models(evaluate: Any, write: Any, data: Path, model: Path, ablation: Path | None, report: Path, **options: Any) -> None:
    """Run an evaluation over the model (``ct1``) and its ablation (``ct1_no_wavelet``), write and print its report."""
    models = {"ct1": model}
    if ablation is not None:
        models["ct1_no_wavelet"] = ablation
    path = write(evaluate(data, models, **options), report)
    typer.echo(path.read_text())
    typer.echo(f"wrote {path} and {report / 'metrics.json'}")


@eval_app.command("instructions")
def eval_instructions(
    data: Annotated[Path, typer.Option(help="Scenario clip store with a test split (rendered with drivable areas in meta).")],
    model: Annotated[Path, typer.Option(help="Model folder (with its instruction parser).")],
    report: Annotated[Path, typer.Option(help="Report folder (report.md + metrics.json).")],
    ablation: Annotated[Path | None, typer.Option(help="The model trained without the wavelet loss, for comparison.")] = None,
    samples: Annotated[int, typer.Option(help="K samples per query.")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed (phrasings and samples).")] = 0,
    split: Annotated[str, typer.Option(help="Split to evaluate on.")] = "test",
    max_clips: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N clips of the split.")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
) -> None:
    """Held-out phrasings, off-road share for every instruction on each image, and speed words."""
    from ct1_sim.trajectory.instruction_evaluation import evaluate_instructions, write_instruction_report

    _evaluate_models(evaluate_instructions, write_instruction_report, data, model, ablation, report, num_samples=samples, seed=seed,
                     split=split, max_clips=max_clips, device=device)


@train_app.command("video")
def train_video(
    data: Annotated[Path, typer.Option(help="Clip store (zarr) with rendered depth and train/val splits.")],
    config: Annotated[Path, typer.Option(help="Training YAML, e.g. model/configs/ct1-video-v2.yaml.")],
    out: Annotated[Path, typer.Option(help="Output folder (checkpoints/, then the saved pipeline).")],
    depth_steps: Annotated[int | None, typer.Option(min=1, help="Override depth.steps.")] = None,
    denoise_steps: Annotated[int | None, typer.Option(min=1, help="Override denoise.steps.")] = None,
    stage: Annotated[str | None, typer.Option(help="Only these stages, comma-separated (depth, generator): they are "
                                              "independent and can run side by side in two processes.")] = None,
    seed: Annotated[int | None, typer.Option(help="Override seed.")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
) -> None:
    """Train the camera-controlled video model (depth net, then the generator). Works under `torchrun` unchanged."""
    from ct1_sim.video.training import STAGES, train_video_model

    chosen = tuple(stage.split(",")) if stage else STAGES
    pipe = train_video_model(data, config, out, device=device, depth_steps=depth_steps, denoise_steps=denoise_steps, seed=seed,
                             stages=chosen)
    typer.echo(f"saved the video pipeline to {out}" if pipe is not None else
               f"trained {', '.join(chosen)}; run again with the other stage to finish the pipeline in {out}")


@eval_app.command("video")
def eval_video(
    data: Annotated[Path, typer.Option(help="Clip store with a test split (rendered futures are the truth).")],
    model: Annotated[Path, typer.Option(help="Video pipeline folder, e.g. model/ct1-video-small.")],
    report: Annotated[Path, typer.Option(help="Report folder (report.md + metrics.json).")],
    max_clips: Annotated[int, typer.Option(min=1, help="Evaluate this many clips spread over the split.")] = 36,
    steps: Annotated[int, typer.Option(min=1, help="DDIM steps.")] = 4,
    strength: Annotated[float, typer.Option(help="Share of the steps that run (diffusers img2img; 1 = from pure noise).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    split: Annotated[str, typer.Option(help="Split to evaluate on.")] = "test",
    drives: Annotated[int, typer.Option(min=0, help="Long rollouts: drives in the procedural test towns (expert policy) "
                                        "generated from their first frame and compared with the render at every pose.")] = 5,
    drive_seconds: Annotated[float, typer.Option(min=4.0, max=60.0, help="Length of each drive (s; 5 Hz).")] = 20.0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
) -> None:
    """Fidelity (PSNR/SSIM, holes), KID-MobileNetV2, metric camera control (PnP) and CamI2V's metrics, all baselines."""
    from ct1_sim.video.evaluation import evaluate_video, write_video_report

    results = evaluate_video(data, model, split=split, max_clips=max_clips, num_inference_steps=steps, strength=strength,
                             seed=seed, device=device)
    if drives:
        from ct1_sim.sim.twin_drift import drift_summary, twin_drives
        from ct1_sim.video.loading import load_video_pipeline

        pipe = load_video_pipeline(model, device=device)
        results["rollouts"] = drift_summary(twin_drives(pipe, episodes=drives, seconds=drive_seconds, seed=seed,
                                                        num_inference_steps=steps))
        results["bars"]["rollout_last_window_KID_within_2x_first"] = results["rollouts"]["last_over_first_KID"] <= 2.0
    path = write_video_report(results, report)
    typer.echo(path.read_text())
    typer.echo(f"wrote {path} and {report / 'metrics.json'}")
