"""The FastAPI app: trajectories (micro-batched), rollout jobs, health, Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ct1_sim import __version__
from ct1_sim.clip_spec import MAX_NUM_SAMPLES, NUM_POSES
from ct1_sim.language import refusal_message
from ct1_sim.seeding import MAX_SEED
from ct1_sim.service.batcher import Batcher, Overloaded, TrajectoryBatcher, TrajectoryQuery
from ct1_sim.service.body_limit import BodySizeLimit
from ct1_sim.service.jobs import QueueFull, RolloutJobs
from ct1_sim.service.metrics import Metrics
from ct1_sim.service.responses import prediction_body
from ct1_sim.service.settings import ServiceSettings
from ct1_sim.service.validation import (
    check_instruction,
    check_int,
    check_speed,
    decode_upload,
    parse_trajectory,
    read_upload,
    unprocessable,
)
from ct1_sim.world import WorldModel

log = logging.getLogger(__name__)
OPEN_PATHS = ("/healthz", "/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc")
#: Multipart framing allowed on top of ``max_upload_bytes`` before a body is refused (bytes).
MULTIPART_SLACK = 64 * 1024
#: Response header naming the server process (the Ray Serve replica) that answered.
REPLICA_HEADER = "X-CT1-Replica"
#: W3C Server Timing: where a trajectory request's time went on the server, ms (see :func:`server_timing`).
SERVER_TIMING_HEADER = "Server-Timing"


def server_timing(timings_s: dict[str, float]) -> str:
    """The ``Server-Timing`` value of a trajectory response, e.g. ``decode;dur=1.9, sample;dur=16.2, ...`` (ms):
    ``decode`` (the upload decoded, cropped and resized), ``sample`` and ``predict`` (the model call that answered
    it, shared with the requests batched with it: :attr:`ct1_sim.world.Prediction.timings_s`), ``answer`` (from
    handing the request to the batcher to its prediction: queueing + ``predict``). The rest of a client's latency
    is HTTP, form parsing, hand-offs and the network."""
    return ", ".join(f"{name};dur={seconds * 1e3:.3f}" for name, seconds in timings_s.items())
TRAJECTORIES_PATH = "/v1/trajectories"
#: ASGI scope key: the trajectory request is counted in ``batcher.arriving`` (set by Guard, cleared at submission).
ARRIVING_KEY = "ct1.arriving"


def _route_label(app: FastAPI, request: Request) -> str:
    """The route template (``/v1/jobs/{job_id}``) for metric labels; ``unmatched`` for unknown paths, so that
    scanning random URLs cannot create unbounded metric series."""
    route = request.scope.get("route")
    if route is None:
        route = next((r for r in app.router.routes if r.matches(request.scope)[0] != Match.NONE), None)
    return getattr(route, "path", "unmatched")


def create_app(world: WorldModel, settings: ServiceSettings | None = None, *, batcher: Batcher | None = None,
               rollouts: RolloutJobs | None = None, replica: str | None = None) -> FastAPI:
    """The HTTP API in front of ``world`` (see the README's "HTTP service" section).

    By default it batches trajectory requests itself (:class:`TrajectoryBatcher`) and keeps its own rollout queue
    (:class:`RolloutJobs` over ``world``). A scaled-out deployment passes its own ``batcher``, a ``rollouts`` queue
    with the same awaitable methods held elsewhere, and the ``replica`` name sent as the ``X-CT1-Replica`` header of
    every response."""
    settings = settings or ServiceSettings()
    metrics = Metrics()
    if batcher is None:
        batcher = TrajectoryBatcher(world, settings.max_batch, settings.batch_window_ms / 1000, settings.max_pending,
                                    settings.batch_arriving_wait_ms / 1000)
    jobs = rollouts if rollouts is not None else RolloutJobs(world, settings.max_jobs, settings.keep_finished_jobs)
    # trajectory uploads are decoded one at a time, off the event loop: decodes running side by side on a pool's
    # threads take the cores from the model's lanes (16 clients: 50 -> 65 requests/s with one decoder)
    decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ct1-decode")

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await batcher.start()
        # build the inference graph now, beside start-up: requests arriving meanwhile wait on the model's lock
        warm_up = threading.Thread(target=world.warm_up, kwargs={"batched": settings.max_batch > 1}, name="ct1-warm-up", daemon=True)
        warm_up.start()
        yield
        await batcher.stop()
        decoder.shutdown(wait=False, cancel_futures=True)
        # a graph build still running when the interpreter exits aborts it ("terminate called ...", exit 134): let it end
        await asyncio.to_thread(warm_up.join)

    app = FastAPI(title="ct1-sim", version=__version__, lifespan=lifespan,
                  description="A driving world model: one front-camera frame + an instruction -> camera trajectories + video.")

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + MULTIPART_SLACK)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, err: RequestValidationError) -> JSONResponse:
        """FastAPI's own 422s in the service's shape: ``{"detail": {"field", "message"}, "errors": [...]}``."""
        first = err.errors()[0] if err.errors() else {"loc": ("body",), "msg": "invalid request"}
        field = str(first["loc"][-1]) if first.get("loc") else "body"
        return JSONResponse(status_code=422, content={"detail": {"field": field, "message": f"{field}: {first['msg']}"},
                                                      "errors": jsonable_encoder(err.errors())})

    def refusal(request: Request) -> Response | None:
        """413 for a declared body over the limit, 401 without the token; None to go on."""
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > settings.max_upload_bytes + MULTIPART_SLACK:
            metrics.inc("ct1_requests_total", route=_route_label(app, request), status="413")
            return JSONResponse(status_code=413, content={"detail": {"field": "body", "message":
                                f"body: request of {length} bytes exceeds the {settings.max_upload_bytes}-byte upload limit"}})
        if settings.token is not None and request.url.path not in OPEN_PATHS:
            given = request.headers.get("authorization", "")
            if not secrets.compare_digest(given.encode(), f"Bearer {settings.token}".encode()):
                metrics.inc("ct1_requests_total", route=_route_label(app, request), status="401")
                return JSONResponse(status_code=401, content={"detail": "missing or wrong bearer token"},
                                    headers={"WWW-Authenticate": "Bearer"})
        return None

    class Guard:
        """Pure ASGI middleware (Starlette's ``BaseHTTPMiddleware`` costs a task group and a body stream per request):
        refusals, request counts and latency by route, the replica header."""

        def __init__(self, inner: ASGIApp) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.inner(scope, receive, send)
                return
            t0 = time.perf_counter()
            request = Request(scope)
            status = 500

            async def send_marked(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    if replica is not None:
                        MutableHeaders(scope=message)[REPLICA_HEADER] = replica
                await send(message)

            refused = refusal(request)
            if refused is not None:
                await refused(scope, receive, send_marked)
                return
            if scope["method"] == "POST" and scope["path"] == TRAJECTORIES_PATH:
                batcher.arriving += 1  # until its handler submits it, a batch about to start may wait for it
                scope[ARRIVING_KEY] = True
            try:
                await self.inner(scope, receive, send_marked)
            finally:
                if scope.pop(ARRIVING_KEY, False):  # refused before its handler submitted it
                    batcher.arriving -= 1
            name = _route_label(app, request)
            metrics.inc("ct1_requests_total", route=name, status=str(status))
            metrics.observe(name, time.perf_counter() - t0)

    app.add_middleware(Guard)

    def decode_frame(data: bytes) -> Any:
        """The upload decoded, then cropped and resized for the trajectory model (422 for a bad image)."""
        return world.prepare_image(decode_upload(data, "image"))

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness and which models are loaded."""
        info = await jobs.info()
        return {"status": "ok", "version": __version__, "trajectory_model": world.trajectory_model is not None,
                "video_model": info["video_model"], "jobs_active": info["active"]}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def prometheus() -> str:
        """Prometheus text format: request counts by route and status, latency histograms, batch sizes, jobs."""
        metrics.gauge("ct1_jobs_active", (await jobs.info())["active"])
        metrics.gauge("ct1_trajectory_batches", batcher.batches)
        metrics.gauge("ct1_trajectory_requests_pending", batcher.pending)
        metrics.gauge("ct1_trajectory_requests_queued", batcher.queued)
        metrics.gauge("ct1_trajectory_batched_queries", batcher.batched_queries)
        metrics.gauge("ct1_trajectory_model_seconds_total", batcher.model_seconds)  # busy share = its rate
        if batcher.batches:
            metrics.gauge("ct1_trajectory_batch_size_mean", batcher.batched_queries / batcher.batches)
        return metrics.render()

    @app.post(TRAJECTORIES_PATH, response_model=dict[str, Any])
    async def trajectories(
        request: Request,
        image: Annotated[UploadFile, File(description="Front-camera frame, JPEG or PNG.")],
        instruction: Annotated[str, Form(description="e.g. 'turn left at the intersection'")],
        samples: Annotated[int, Form(description="K trajectories to sample.")] = 8,
        seed: Annotated[int | None, Form(description="Random seed (same seed, same samples).")] = None,
        speed: Annotated[float | None, Form(description="Current ego speed, m/s.")] = None,
    ) -> Response:
        """K camera trajectories (the project's JSON format, metres, OpenCV camera axes, relative to the current
        camera) with maneuver labels."""
        text = check_instruction(instruction)
        check_int(samples, "samples", 1, MAX_NUM_SAMPLES)
        if seed is not None:
            check_int(seed, "seed", 0, MAX_SEED)
        speed = check_speed(speed)
        data = await read_upload(image, "image", settings.max_upload_bytes)
        t_decode = time.perf_counter()
        frame = await asyncio.get_running_loop().run_in_executor(decoder, decode_frame, data)  # off the loop and the model's thread
        decode_s = time.perf_counter() - t_decode
        if request.scope.pop(ARRIVING_KEY, False):  # counted by Guard since the request came in
            batcher.arriving -= 1
        t_submit = time.perf_counter()
        try:
            prediction = await batcher.submit(TrajectoryQuery(frame, text, samples, seed, speed))
        except Overloaded as err:
            raise HTTPException(status_code=429, detail=str(err)) from None
        metrics.inc("ct1_trajectories_total", samples)
        timings = {"decode": decode_s, **prediction.timings_s, "answer": time.perf_counter() - t_submit}
        return Response(prediction_body(prediction), media_type="application/json", headers={SERVER_TIMING_HEADER: server_timing(timings)})

    @app.post("/v1/rollouts", status_code=202)
    async def rollouts(
        image: Annotated[UploadFile, File(description="Front-camera frame, JPEG or PNG.")],
        instruction: Annotated[str | None, Form(description="What to do (or upload a trajectory).")] = None,
        trajectory: Annotated[UploadFile | None, File(description="A pose file to follow instead of an instruction.")] = None,
        format: Annotated[str, Form(description="Pose format of the trajectory file.")] = "json",
        samples: Annotated[int, Form()] = 8,
        seed: Annotated[int | None, Form()] = None,
        speed: Annotated[float | None, Form()] = None,
        num_frames: Annotated[int, Form()] = NUM_POSES,
    ) -> dict[str, Any]:
        """Start a rollout job (trajectories + the future video); poll ``GET /v1/jobs/{id}``."""
        if (instruction is None) == (trajectory is None):
            raise unprocessable("instruction", "give exactly one of instruction or trajectory")
        check_int(samples, "samples", 1, MAX_NUM_SAMPLES)
        if seed is not None:
            check_int(seed, "seed", 0, MAX_SEED)
        check_int(num_frames, "num_frames", 2, settings.max_frames)
        speed = check_speed(speed)
        data = await read_upload(image, "image", settings.max_upload_bytes)
        pixels = await run_in_threadpool(decode_upload, data, "image")  # off the event loop
        if trajectory is not None:
            target: Any = parse_trajectory(await read_upload(trajectory, "trajectory", settings.max_upload_bytes), format)
        else:
            target = check_instruction(instruction)
            intent = await run_in_threadpool(world.interpret, target)
            if not intent["supported"]:  # no path to render: say why now, not in a failed job
                raise HTTPException(status_code=422, detail={"field": "instruction", "supported": False, "instruction": intent,
                                                             "message": f"instruction: {refusal_message(target, intent)}"})
        try:
            return await jobs.submit(pixels, target, samples, seed, speed, num_frames)
        except QueueFull as err:
            raise HTTPException(status_code=429, detail=str(err)) from None

    @app.get("/v1/jobs/{job_id}")
    async def job_status(job_id: str) -> dict[str, Any]:
        """Status (queued | running | done | failed), progress 0-1, error, and the result when done."""
        status = await jobs.status(job_id)
        if status is None:
            raise HTTPException(status_code=404, detail=f"no job {job_id!r} (finished jobs are kept for a while only)")
        return status

    @app.get("/v1/jobs/{job_id}/video.mp4")
    async def job_video(job_id: str) -> Response:
        """The generated video (H.264 MP4) of a finished job."""
        video = await jobs.video(job_id)
        if video is None:
            status = await jobs.status(job_id)
            if status is None:
                raise HTTPException(status_code=404, detail=f"no job {job_id!r}")
            raise HTTPException(status_code=409, detail=f"job {job_id} is {status['status']}"
                                + (f": {status['error']}" if status["error"] else ""))
        return Response(content=video, media_type="video/mp4")

    app.state.batcher, app.state.jobs, app.state.metrics = batcher, jobs, metrics
    return app
