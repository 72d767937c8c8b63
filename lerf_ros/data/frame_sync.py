"""Matching camera images to poses by stamp, and the rules for dropping frames (ROS-free).

The node feeds messages in and gets back frames to train on and drops to count; every rule
lives here so it can be unit-tested without a node.

Every image reaches one verdict, counted once in the shared :class:`DropLedger`: offered to
the engine (whose ``add_frame`` counts it as received) or dropped here (``refuse``: received
and dropped at once). A bad pose message (or one stamped in the future) is counted as a drop but
not as a received frame: ``frames_received`` counts images.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from lerf_ros.data.depth import DepthError, depth_drop_reason
from lerf_ros.data.drops import DropLedger
from lerf_ros.data.pose_buffer import PoseBuffer

if TYPE_CHECKING:
    from lerf_ros.cameras.intrinsics import Intrinsics

MAX_STAMP_AHEAD = 3600.0
"""Seconds: a stamp further ahead of this machine's clock is a broken clock, not a frame (it
would also hold back time-based keyframe selection until the clock caught up)."""

POSE_STAMP_AHEAD = 5.0
"""Seconds: a pose stamped further ahead of this machine's clock is dropped ("pose stamp in
the future"). Far stricter than :data:`MAX_STAMP_AHEAD` for images, on purpose: an image is
only matched to the poses around its stamp, so a skewed stamp costs at most that frame, but a
pose says where the robot is *at* its stamp, and no pose estimator knows where the robot will
be. With the robot's and this machine's clocks synchronised (NTP/chrony: milliseconds apart)
a pose leads only by the residual skew; 5 s leaves room for a poorly synchronised machine and
for publishers that stamp a little ahead, and anything further is a broken clock or a bad
message. Such poses used to enter the buffer: 2,400 stamped 70 s to an hour ahead pushed every
real pose out and nearly every frame was dropped as unmatched, for up to that hour. A pose
inside the bound becomes the present within 5 s."""

TIME_JUMP_BACK = 2.0
"""Seconds: a stamp this far behind the last one is a clock reset, not a late frame."""

WAITING_IMAGES = 30
"""Images one camera holds while their poses are on the way; a longer burst drops the oldest."""

NO_CAMERA_INFO = "no camera info received yet"

POSE_IN_THE_FUTURE = "pose stamp in the future"
"""Drop reason of a pose stamped more than :data:`POSE_STAMP_AHEAD` ahead of the clock."""

PoseLookup = Callable[[str, float], "np.ndarray | None"]
"""``lookup(camera, stamp)``: the camera's pose at ``stamp`` from elsewhere (TF), or None."""

DropReport = Callable[[str, str], None]
"""``on_drop(reason, detail)``: told about every dropped frame, to log it."""


@dataclass(frozen=True)
class MatchedFrame:
    """An image with its calibration and the pose at its stamp: ready for the engine."""

    camera: str
    stamp: float
    rgb: np.ndarray
    intrinsics: Intrinsics
    pose: np.ndarray
    depth: np.ndarray | None = None
    """float32 z-depth in metres [H, W] registered to ``rgb`` (0 = no reading), or None."""


class FrameSink(Protocol):
    """What frames are offered to (the engine)."""

    def add_frame(self, image, intrinsics, c2w, stamp, camera, depth=None): ...


@dataclass
class _WaitingImage:
    stamp: float
    rgb: np.ndarray
    intrinsics: Intrinsics
    arrived: float
    """Monotonic time the image arrived."""


class CameraState:
    """One camera's latest calibration, pose history, depth images and images waiting for a
    pose (and, for a depth camera, for their depth)."""

    def __init__(self, name: str, slop: float, has_depth: bool = False):
        self.name = name
        self.slop = slop
        self.has_depth = has_depth
        """The camera has a depth topic: its images wait for their depth image too."""
        self.depths: deque[tuple[float, np.ndarray | None]] = deque(maxlen=WAITING_IMAGES)
        """(stamp, metres) of depth images not yet matched; None marks a refused one (its
        colour image need not wait for it)."""
        self.intrinsics: Intrinsics | None = None
        self.info_error: str | None = NO_CAMERA_INFO
        self.poses = PoseBuffer(slop=slop)
        self.waiting: deque[_WaitingImage] = deque(maxlen=WAITING_IMAGES)
        self.last_stamp: float | None = None
        self.last_pose_arrival = -math.inf
        """Monotonic time of the last valid pose."""

    def take_depth(self, stamp: float) -> tuple[bool, np.ndarray | None]:
        """(found, depth) of the depth image nearest ``stamp`` within the slop, removed from
        the waiting ones together with every older one (a depth stream is in stamp order)."""
        best, best_gap = None, self.slop
        for index, (depth_stamp, _) in enumerate(self.depths):
            gap = abs(depth_stamp - stamp)
            if gap <= best_gap:
                best, best_gap = index, gap
        if best is None:
            return False, None
        depth = self.depths[best][1]
        for _ in range(best + 1):
            self.depths.popleft()
        return True, depth

    def depth_passed(self, stamp: float) -> bool:
        """Whether the depth stream has gone past ``stamp``: its depth will not come."""
        return bool(self.depths) and self.depths[-1][0] > stamp + self.slop


def _ignore(*_args) -> None:
    pass


class FrameSync:
    """Per-camera image/pose matching with the drop rules.

    Thread-safe: poses arrive on their own thread (the node gives them their own callback
    group), images, calibrations and the periodic :meth:`match` on another. Frames are offered
    to the engine (:meth:`offer`) outside the lock.
    """

    def __init__(
        self,
        cameras: Sequence[str],
        ledger: DropLedger,
        *,
        slop: float = 0.05,
        pose_wait: float = 0.5,
        lookup: PoseLookup | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        on_drop: DropReport = _ignore,
        on_warning: Callable[[str], None] = _ignore,
        depth_cameras: Iterable[str] = (),
    ):
        """``lookup`` given: poses come from it (TF) instead of :meth:`pose`. ``monotonic``
        measures waiting, ``wall`` is compared with stamps (injectable for tests). Images of
        ``depth_cameras`` wait for the depth image of their stamp (within ``slop``) as long as
        they may wait for a pose; without one they train colour only (counted)."""
        with_depth = set(depth_cameras)
        self.cameras = {name: CameraState(name, slop, name in with_depth) for name in cameras}
        self.ledger = ledger
        self.pose_wait = pose_wait
        self.lookup = lookup
        self.monotonic = monotonic
        self.wall = wall
        self.on_drop = on_drop
        self.on_warning = on_warning
        self._lock = threading.Lock()

    def set_timing(self, slop: float, pose_wait: float) -> None:
        """Match with ``slop`` and wait ``pose_wait`` from the next image on (a run-time
        parameter change; images already waiting are judged by the new values)."""
        with self._lock:
            self.pose_wait = pose_wait
            for state in self.cameras.values():
                state.slop = slop
                state.poses.slop = slop

    # ------------------------------------------------------------- inputs
    def camera_info(self, camera: str, intrinsics: Intrinsics) -> None:
        with self._lock:
            state = self.cameras[camera]
            state.intrinsics, state.info_error = intrinsics, None

    def bad_camera_info(self, camera: str, error: str) -> None:
        """A calibration that could not be used: images are dropped until a valid one arrives
        (training on a stale one after the camera announced a broken one would be a guess)."""
        with self._lock:
            state = self.cameras[camera]
            state.intrinsics, state.info_error = None, error

    def pose(self, camera: str, stamp: float, c2w: np.ndarray) -> None:
        """A camera-to-world pose (already in the fixed frame, extrinsic applied); one stamped
        more than :data:`POSE_STAMP_AHEAD` ahead of the clock is a counted drop."""
        ahead = stamp - self.wall()
        if ahead > POSE_STAMP_AHEAD:
            # Before it enters the buffer: held there, it would take the place of a real pose
            # and make the pose stream look past every later image.
            self.ledger.drop(POSE_IN_THE_FUTURE)
            self.on_drop(POSE_IN_THE_FUTURE, f"{camera}: {ahead:.1f} s ahead of this clock")
            return
        with self._lock:
            state = self.cameras[camera]
            state.poses.add(stamp, c2w)
            state.last_pose_arrival = self.monotonic()

    def bad_pose(self, camera: str, error: str) -> None:
        self.ledger.drop("bad pose")
        self.on_drop("bad pose", error)

    def bad_image(self, camera: str, error: str) -> None:
        self._refuse("bad image", error)

    def depth(self, camera: str, stamp: float, metres: np.ndarray) -> list[MatchedFrame]:
        """A depth image (float32 metres, 0 = no reading); returns the frames now complete."""
        with self._lock:
            self.cameras[camera].depths.append((stamp, metres))
            return self._match_locked()

    def bad_depth(self, camera: str, stamp: float | None, error: DepthError) -> list[MatchedFrame]:
        """A depth image that cannot be used: counted under its reason; the colour image of
        its stamp (when the stamp could be read) trains without depth at once."""
        reason = depth_drop_reason(error)
        self.ledger.drop_depth(reason)
        self.on_drop(reason, f"{camera}: {error}")
        if stamp is None:
            return []
        with self._lock:
            self.cameras[camera].depths.append((stamp, None))
            return self._match_locked()

    def image(self, camera: str, stamp: float, rgb: np.ndarray) -> list[MatchedFrame]:
        """Take an image in; returns the frames (of any camera) whose pose is now known."""
        ahead = stamp - self.wall()
        if ahead > MAX_STAMP_AHEAD:
            # Before it becomes last_stamp: one such frame would make every later one look
            # like a clock reset.
            self._refuse("stamp in the future", f"{ahead:.0f} s ahead")
            return []
        with self._lock:
            state = self.cameras[camera]
            last = state.last_stamp
            if last is not None and stamp <= last:
                if last - stamp > TIME_JUMP_BACK:
                    # A clock reset (bag loop, simulator restart): follow it instead of
                    # dropping every frame from now on.
                    self.on_warning(
                        f"{camera}: time jumped back {last - stamp:.1f} s; following the new clock"
                    )
                else:
                    self._refuse("stamp not increasing", f"{stamp:.3f} after {last:.3f}")
                    return []
            state.last_stamp = stamp
            if state.intrinsics is None:
                self._refuse("no valid camera info", state.info_error or "")
                return []
            if len(state.waiting) == state.waiting.maxlen:  # a burst without poses
                state.waiting.popleft()
                self._refuse("too many images waiting for poses", "")
            state.waiting.append(_WaitingImage(stamp, rgb, state.intrinsics, self.monotonic()))
            return self._match_locked()

    # ----------------------------------------------------------- matching
    def match(self) -> list[MatchedFrame]:
        """Frames whose pose has arrived; images that waited too long are dropped."""
        with self._lock:
            return self._match_locked()

    def _match_locked(self) -> list[MatchedFrame]:
        matched = []
        for state in self.cameras.values():
            still_waiting: deque[_WaitingImage] = deque(maxlen=state.waiting.maxlen)
            for waiting in state.waiting:
                pose = (
                    self.lookup(state.name, waiting.stamp)
                    if self.lookup is not None
                    else state.poses.lookup(waiting.stamp)
                )
                if pose is not None and state.has_depth:
                    found, depth = state.take_depth(waiting.stamp)
                    if not found and not self._depth_not_coming(state, waiting):
                        still_waiting.append(waiting)
                        continue
                    if depth is None:
                        self.ledger.without_depth()
                    matched.append(
                        MatchedFrame(
                            state.name, waiting.stamp, waiting.rgb, waiting.intrinsics, pose, depth
                        )
                    )
                elif pose is not None:
                    matched.append(
                        MatchedFrame(
                            state.name, waiting.stamp, waiting.rgb, waiting.intrinsics, pose
                        )
                    )
                elif self._pose_not_coming(state, waiting):
                    self._refuse("no pose for stamp", f"{waiting.stamp:.3f}")
                else:
                    still_waiting.append(waiting)
            state.waiting = still_waiting
        return matched

    def _depth_not_coming(self, state: CameraState, waiting: _WaitingImage) -> bool:
        """Whether a posed image of a depth camera should go on without depth: the depth
        stream passed its stamp, or it waited ``pose_wait`` (a depth camera that stopped)."""
        waited = self.monotonic() - waiting.arrived > self.pose_wait
        return waited or state.depth_passed(waiting.stamp)

    def _pose_not_coming(self, state: CameraState, waiting: _WaitingImage) -> bool:
        """Whether an image still without a pose should be dropped. With pose topics: once the
        pose stream has gone past its stamp, or when it waited ``pose_wait`` and no pose came
        for ``pose_wait`` either. Poses that keep coming, only late (the executor behind under
        query load), are waited for: by the wall clock alone, such images were all dropped.
        With a ``lookup`` (TF) there is no stream to watch: ``pose_wait`` of waiting alone."""
        now = self.monotonic()
        waited = now - waiting.arrived > self.pose_wait
        if self.lookup is not None:
            return waited
        silent = now - state.last_pose_arrival > self.pose_wait
        return state.poses.passed(waiting.stamp) or (waited and silent)

    # ------------------------------------------------------------ verdicts
    def offer(self, frames: Iterable[MatchedFrame], engine: FrameSink | None, why_not: str) -> None:
        """Give matched frames to the engine; ``engine`` None (still loading, or failed to
        start, which ``why_not`` says) drops them. The engine counts what it is offered."""
        for frame in frames:
            if engine is None:
                self._refuse("engine not started", why_not)
                continue
            try:
                # depth by keyword: the engine's sixth positional parameter is ``force``.
                decision = engine.add_frame(
                    frame.rgb,
                    frame.intrinsics,
                    frame.pose,
                    frame.stamp,
                    frame.camera,
                    depth=frame.depth,
                )
            except Exception as error:  # add_frame counted the frame before it raised
                self.ledger.drop("engine rejected frame")
                self.on_drop("engine rejected frame", str(error))
                continue
            if not decision.accepted and decision.reason.startswith("invalid frame"):
                # Counted by the engine; only the log is ours.
                self.on_drop("invalid frame", decision.reason.partition(": ")[2])

    def _refuse(self, reason: str, detail: str) -> None:
        self.ledger.refuse(reason)
        self.on_drop(reason, detail)
