"""What a checkpoint holds: the engine's state as plain tensors and values, and back.

The payload is built from copies taken under the model lock: the training thread goes on
changing the weights and the optimiser's moments after the lock is released, and a payload
that still referenced them would no longer match the digest written with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from lerf_ros.cameras.intrinsics import Intrinsics
from lerf_ros.data.depth import check_registered
from lerf_ros.engine.frames import validate_frame
from lerf_ros.errors import CheckpointError
from lerf_ros.features.dense import DenseFeatures
from lerf_ros.features.pyramid import PyramidFeatures
from lerf_ros.training.config import LerfConfig
from lerf_ros.training.keyframe_store import Keyframe
from lerf_ros.training.trainer import Trainer


@dataclass
class EncoderIdentity:
    """Which encoders a field was trained with: a checkpoint only loads with the same ones."""

    name: str
    clip_dim: int
    dino_dim: int


@dataclass
class RestoredState:
    """A checkpoint rebuilt aside, ready to be swapped into an engine."""

    trainer: Trainer
    keyframes: list[Keyframe]
    frame_id: str


def detached_copy(value: Any) -> Any:
    """``value`` with every tensor copied to the CPU (dicts and lists walked)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: detached_copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(detached_copy(item) for item in value)
    return value


def field_copy(trainer: Trainer) -> dict[str, Any]:
    """Copies of what training changes: weights, optimiser state, step, the step readiness
    converged at (call under the model lock, which is held only as long as the copy takes)."""
    converged = trainer.readiness.converged_at
    return {
        "step": trainer.step_count,
        # -1: not converged. A field that passed the convergence test is ready again at once
        # after a resume.
        "ready_at": -1 if converged is None else int(converged),
        "aabb": detached_copy(trainer.model.aabb),
        "model": detached_copy(trainer.model.state_dict()),
        "optimizer": detached_copy(trainer.optimizer.state_dict()),
    }


def build_payload(
    field: dict[str, Any], keyframes: list[Keyframe], identity: EncoderIdentity, frame_id: str
) -> dict[str, Any]:
    """The checkpoint payload around a :func:`field_copy`. Keyframes need no lock: their
    tensors are never changed in place (features arrive as new tensors)."""
    return {
        "frame_id": frame_id,
        **field,
        "clip_dim": int(identity.clip_dim),
        "dino_dim": int(identity.dino_dim),
        "encoder": identity.name,
        "keyframes": [keyframe_to_dict(f) for f in keyframes],
    }


def restore(
    data: dict[str, Any],
    path: Any,
    config: LerfConfig,
    identity: EncoderIdentity,
    device: torch.device,
) -> RestoredState:
    """Rebuild a trainer and keyframes from a loaded payload; raises CheckpointError naming
    the problem in one line (another encoder, another preset, a damaged payload)."""
    try:
        if not isinstance(data["encoder"], str) or data["encoder"] != identity.name:
            raise CheckpointError(
                f"checkpoint {path}: trained with encoder {_brief(data['encoder'])}, "
                f"this engine uses {identity.name!r}"
            )
        dino_dim = int(data["dino_dim"])
        if int(data["clip_dim"]) != identity.clip_dim or dino_dim != identity.dino_dim:
            raise CheckpointError(
                f"checkpoint {path}: feature sizes {data['clip_dim']}/{dino_dim} do not "
                f"match this engine's encoders ({identity.clip_dim}/{identity.dino_dim})"
            )
        if not isinstance(data["keyframes"], list):
            raise TypeError(f"keyframes is a {type(data['keyframes']).__name__}, not a list")
        keyframes = [keyframe_from_dict(d, device) for d in data["keyframes"]]
        trainer = Trainer(config, data["aabb"], int(data["clip_dim"]), dino_dim, device)
        trainer.model.load_state_dict(data["model"])
        trainer.optimizer.load_state_dict(data["optimizer"])
        trainer.step_count = int(data["step"])
        if trainer.step_count < 0:  # it sets the learning rate: exp of a huge power
            raise ValueError(f"step is negative ({trainer.step_count})")
        ready_at = int(data.get("ready_at", -1))  # checkpoints before readiness have none
        trainer.readiness.converged_at = ready_at if 0 <= ready_at <= trainer.step_count else None
        return RestoredState(trainer, keyframes, str(data["frame_id"]))
    except CheckpointError:
        raise
    except Exception as error:  # whatever a damaged payload provokes, named in one line
        detail = " ".join(str(error).split())[:300] or type(error).__name__
        raise CheckpointError(f"checkpoint {path}: malformed ({detail})") from error


def _brief(value) -> str:
    """A checkpoint's value for a one-line message (a damaged one may be a whole tensor)."""
    return " ".join(repr(value).split())[:100]


def keyframe_to_dict(frame: Keyframe) -> dict:
    i = frame.intrinsics
    return {
        "id": frame.id,
        "image": frame.image.cpu(),
        "intrinsics": [
            i.width,
            i.height,
            i.fx,
            i.fy,
            i.cx,
            i.cy,
            list(i.distortion),
            i.distortion_model,
        ],
        "c2w": torch.as_tensor(frame.c2w),
        "stamp": float(frame.stamp),
        "camera": frame.camera,
        "pyramid": frame.pyramid.to_tensors() if frame.pyramid is not None else None,
        "dense": frame.dense.to_tensors() if frame.dense is not None else None,
        "depth": frame.depth.cpu() if frame.depth is not None else None,
    }


def keyframe_from_dict(data: dict, device: torch.device) -> Keyframe:
    width, height, fx, fy, cx, cy, distortion, *model = data["intrinsics"]
    pyramid = PyramidFeatures.from_tensors(data["pyramid"]) if data["pyramid"] else None
    dense = DenseFeatures.from_tensors(data["dense"]) if data["dense"] else None
    # Checkpoints written before the lens model was kept hold plumb_bob cameras only.
    model = str(model[0]) if model else "plumb_bob"
    intrinsics = Intrinsics(int(width), int(height), fx, fy, cx, cy, tuple(distortion), model)
    # The same checks as a live frame: a damaged checkpoint must not poison training.
    image = data["image"].cpu().numpy()
    c2w = validate_frame(image, intrinsics, data["c2w"].double().numpy())
    depth = data.get("depth")  # checkpoints before depth have none
    if depth is not None:
        depth = torch.as_tensor(check_registered(depth.cpu().numpy(), image.shape), device=device)
    return Keyframe(
        id=int(data["id"]),
        image=data["image"].to(device),
        intrinsics=intrinsics,
        c2w=c2w,
        stamp=float(data["stamp"]),
        camera=str(data["camera"]),
        pyramid=pyramid.to(device) if pyramid is not None else None,
        dense=dense.to(device) if dense is not None else None,
        depth=depth,
    )
