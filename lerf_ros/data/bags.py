"""Posed-image datasets as ROS 2 bags, written and read with ``rosbags`` (no ROS install needed).

A bag holds one camera on the topics of :mod:`lerf_ros.data.camera_stream`: per dataset frame
an image (raw rgb8 or compressed), its camera info, the optical frame's pose as a PoseStamped,
its depth (16UC1 millimetres on ``{prefix}/depth/image_raw``) when the dataset has depth and,
optionally, the same pose on ``/tf`` — all with one header stamp, spaced ``1 / rate_hz``.

Pose convention: dataset c2w matrices are already OpenCV / ROS optical (x right, y down,
z forward), so each becomes the PoseStamped of ``optical_frame`` in ``fixed_frame`` unchanged.
The dataset's world becomes ``fixed_frame`` (``map`` by default) whatever the loader called it.

Storage is MCAP (rosbag2's default since Iron; ``rosbags`` 0.11 writes it, format version 9).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from lerf_ros.data import camera_stream
from lerf_ros.data.camera_stream import CameraTopics

if TYPE_CHECKING:
    # Reading a bag (the player) needs neither the loaders nor lerf_ros.cameras, which import
    # torch (seconds of start-up): the writing functions import what they need when called.
    from lerf_ros.data.frames import Dataset, Frame

TYPESTORE = get_typestore(Stores.ROS2_KILTED)
"""Message definitions of the ROS release the wheels provide (Kilted); includes tf2_msgs."""

DEFAULT_START_NS = 1_700_000_000 * camera_stream.NANOSECONDS
"""Stamp of a bag's first frame: fixed, so one dataset always gives byte-identical messages."""

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
POSE_STAMPED = "geometry_msgs/msg/PoseStamped"
TF_MESSAGE = "tf2_msgs/msg/TFMessage"


@dataclass
class BagSummary:
    """What a bag holds (``bag_summary``)."""

    path: Path
    """The bag folder."""
    storage: str
    """Storage plugin: ``mcap`` or ``sqlite3``."""
    topics: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Topic -> (message type, message count)."""
    start_ns: int = 0
    """Timestamp of the first message, nanoseconds."""
    duration_ns: int = 0
    """Last minus first message timestamp, nanoseconds."""

    @property
    def message_count(self) -> int:
        return sum(count for _, count in self.topics.values())

    @property
    def duration_s(self) -> float:
        return self.duration_ns / camera_stream.NANOSECONDS

    def format(self) -> str:
        """Human-readable multi-line summary (what ``lerf-ros make-bag`` prints)."""
        lines = [
            f"{self.path} ({self.storage}): {self.message_count} messages, {self.duration_s:.2f} s"
        ]
        width = max((len(topic) for topic in self.topics), default=0)
        for topic, (msgtype, count) in sorted(self.topics.items()):
            lines.append(f"  {topic:<{width}}  {count:>5}  {msgtype}")
        return "\n".join(lines)


@dataclass(frozen=True)
class BagLayout:
    """How dataset frames become messages: topics, frame ids, stamps and image encoding."""

    compressed: bool = False
    """CompressedImage on ``{prefix}/image_raw/compressed`` instead of rgb8 Image."""
    rate_hz: float = 5.0
    """Frames per second of the recorded stream (stamps are ``1 / rate_hz`` apart)."""
    prefix: str = "/camera"
    """Camera topic namespace."""
    fixed_frame: str = "map"
    """World frame id: pose header, tf parent."""
    optical_frame: str = "camera_optical"
    """Camera optical frame id: image and camera info headers, tf child."""
    with_tf: bool = True
    """Also record each pose on ``/tf``."""
    compressed_format: str = "jpeg"
    """``jpeg`` (lossy) or ``png`` (lossless), when ``compressed``."""
    jpeg_quality: int = 95
    """JPEG quality 0-100."""
    start_ns: int = DEFAULT_START_NS
    """Stamp (and bag time) of the first frame, nanoseconds since the epoch."""
    with_depth: bool = False
    """Also record each frame's depth (16UC1 mm) on ``{prefix}/depth/image_raw``."""

    def validate(self) -> BagLayout:
        if not self.rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {self.rate_hz}")
        if self.compressed and self.compressed_format not in camera_stream.COMPRESSED_FORMATS:
            raise ValueError(
                f"unknown compressed format {self.compressed_format!r}; "
                f"choose from {camera_stream.COMPRESSED_FORMATS}"
            )
        return self

    def stamp_ns(self, index: int) -> int:
        return self.start_ns + round(index * camera_stream.NANOSECONDS / self.rate_hz)

    def connections(self) -> dict[str, tuple[str, str]]:
        """Message key -> (topic, type), in the order a frame's messages are written.

        Info and pose come before the image: a subscriber that pairs messages by stamp
        then has both when the image lands.
        """
        topics = CameraTopics(self.prefix)
        layout = {"info": (topics.info, CAMERA_INFO), "pose": (topics.pose, POSE_STAMPED)}
        if self.with_tf:
            layout["tf"] = (camera_stream.TF_TOPIC, TF_MESSAGE)
        if self.compressed:
            layout["image"] = (topics.compressed, COMPRESSED_IMAGE)
        else:
            layout["image"] = (topics.image, IMAGE)
        if self.with_depth:  # after the image: the node holds posed images for their depth
            layout["depth"] = (topics.depth, IMAGE)
        return layout


def _header(stamp_ns: int, frame_id: str):
    sec, nanosec = camera_stream.split_stamp(stamp_ns)
    types = TYPESTORE.types
    stamp = types["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec)
    return types["std_msgs/msg/Header"](stamp=stamp, frame_id=frame_id)


def _image(rgb: np.ndarray, header, layout: BagLayout):
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if layout.compressed:
        fmt = layout.compressed_format
        encoded = camera_stream.encode_image(rgb, fmt, layout.jpeg_quality)
        return TYPESTORE.types[COMPRESSED_IMAGE](
            header=header,
            format=camera_stream.compressed_format_string(fmt),
            data=np.frombuffer(encoded, np.uint8),
        )
    height, width = rgb.shape[:2]
    return TYPESTORE.types[IMAGE](
        header=header,
        height=height,
        width=width,
        encoding="rgb8",
        is_bigendian=0,
        step=3 * width,
        data=rgb.reshape(-1),
    )


def _depth_image(metres: np.ndarray, header):
    units = camera_stream.depth_to_units(metres, camera_stream.DEPTH_SCALE)
    height, width = units.shape
    return TYPESTORE.types[IMAGE](
        header=header,
        height=height,
        width=width,
        encoding=camera_stream.DEPTH_ENCODING,
        is_bigendian=0,
        step=2 * width,
        data=np.frombuffer(units.astype("<u2").tobytes(), np.uint8),
    )


def _camera_info(frame: Frame, header):
    types = TYPESTORE.types
    roi = types["sensor_msgs/msg/RegionOfInterest"](
        x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
    )
    fields = camera_stream.camera_info_fields(frame.intrinsics)
    return types[CAMERA_INFO](header=header, binning_x=0, binning_y=0, roi=roi, **fields)


def _pose_parts(c2w: np.ndarray):
    from lerf_ros.cameras.conventions import matrix_to_quaternion

    t = np.asarray(c2w, dtype=np.float64)[:3, 3]
    x, y, z, w = matrix_to_quaternion(c2w)
    return t, TYPESTORE.types["geometry_msgs/msg/Quaternion"](x=x, y=y, z=z, w=w)


def _pose_stamped(c2w: np.ndarray, header):
    types = TYPESTORE.types
    t, rotation = _pose_parts(c2w)
    position = types["geometry_msgs/msg/Point"](x=t[0], y=t[1], z=t[2])
    pose = types["geometry_msgs/msg/Pose"](position=position, orientation=rotation)
    return types[POSE_STAMPED](header=header, pose=pose)


def _tf(c2w: np.ndarray, header, child_frame: str):
    types = TYPESTORE.types
    t, rotation = _pose_parts(c2w)
    translation = types["geometry_msgs/msg/Vector3"](x=t[0], y=t[1], z=t[2])
    transform = types["geometry_msgs/msg/Transform"](translation=translation, rotation=rotation)
    stamped = types["geometry_msgs/msg/TransformStamped"](
        header=header, child_frame_id=child_frame, transform=transform
    )
    return types[TF_MESSAGE](transforms=[stamped])


def frame_messages(frame: Frame, index: int, layout: BagLayout) -> dict[str, object]:
    """The rosbags messages of dataset frame ``index``, keyed as ``layout.connections()``."""
    stamp_ns = layout.stamp_ns(index)
    optical = _header(stamp_ns, layout.optical_frame)
    fixed = _header(stamp_ns, layout.fixed_frame)
    messages = {
        "info": _camera_info(frame, optical),
        "pose": _pose_stamped(frame.c2w, fixed),
        "image": _image(frame.image, optical, layout),
    }
    if layout.with_tf:
        messages["tf"] = _tf(frame.c2w, fixed, layout.optical_frame)
    depth = frame.depth if layout.with_depth else None
    if depth is not None:
        messages["depth"] = _depth_image(depth, optical)
    return messages


def _write_frames(dataset: Dataset, out: Path, layout: BagLayout) -> None:
    with Writer(out, version=Writer.VERSION_LATEST, storage_plugin=StoragePlugin.MCAP) as writer:
        connections = {
            key: writer.add_connection(topic, msgtype, typestore=TYPESTORE)
            for key, (topic, msgtype) in layout.connections().items()
        }
        for index, frame in enumerate(dataset.frames):
            messages = frame_messages(frame, index, layout)
            for key, connection in connections.items():
                if key not in messages:  # a frame without depth in a dataset with some
                    continue
                data = TYPESTORE.serialize_cdr(messages[key], connection.msgtype)
                writer.write(connection, layout.stamp_ns(index), bytes(data))


def write_bag(
    dataset_or_path: Dataset | str | Path,
    out: str | Path,
    compressed: bool = False,
    rate_hz: float = 5.0,
    prefix: str = "/camera",
    fixed_frame: str = "map",
    optical_frame: str = "camera_optical",
    with_tf: bool = True,
    *,
    compressed_format: str = "jpeg",
    jpeg_quality: int = 95,
    start_ns: int = DEFAULT_START_NS,
    load_options: dict | None = None,
    depth: bool = True,
) -> Path:
    """Write a dataset as a ROS 2 bag (MCAP) of one camera publishing at ``rate_hz``.

    ``dataset_or_path`` is a loaded Dataset or anything ``load_dataset`` reads, loaded with
    ``load_options`` (``max_images``, ``downscale``, ``split``). ``out`` (the bag folder) must
    not exist. ``depth``: record the frames' depth when the dataset has any (False: leave it
    out). The other arguments are the fields of :class:`BagLayout`. Returns ``out``.
    """
    layout = BagLayout(
        compressed=compressed,
        rate_hz=rate_hz,
        prefix=prefix,
        fixed_frame=fixed_frame,
        optical_frame=optical_frame,
        with_tf=with_tf,
        compressed_format=compressed_format,
        jpeg_quality=jpeg_quality,
        start_ns=start_ns,
    ).validate()
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; bags are never overwritten")
    dataset = dataset_or_path
    if isinstance(dataset_or_path, str | Path):
        from lerf_ros.data.loaders import load_dataset

        dataset = load_dataset(dataset_or_path, **(load_options or {}))
    if depth and any(
        f.depth_path is not None or f.cached_depth is not None for f in dataset.frames
    ):
        layout = replace(layout, with_depth=True)
    try:
        _write_frames(dataset, out, layout)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # no half-written bag (images load lazily)
        raise
    return out


def read_messages(
    bag_path: str | Path, topics: Sequence[str] | None = None
) -> Iterator[tuple[str, str, int, bytes]]:
    """Yield ``(topic, msgtype, timestamp_ns, cdr_bytes)`` in time order.

    ``topics`` restricts the topics read (None: all). The bytes are the serialized message as
    recorded: rclpy publishes them as they are, ``decode`` turns them into rosbags objects.
    """
    with Reader(Path(bag_path)) as reader:
        connections = [c for c in reader.connections if topics is None or c.topic in topics]
        for connection, timestamp, data in reader.messages(connections=connections):
            yield connection.topic, connection.msgtype, timestamp, bytes(data)


def decode(data: bytes, msgtype: str):
    """CDR bytes -> a rosbags message object (fields named as in the .msg definition)."""
    return TYPESTORE.deserialize_cdr(data, msgtype)


def _storage_of(path: Path) -> str:
    """Storage plugin of a bag folder or file, from its files' extensions."""
    suffixes = {p.suffix for p in path.iterdir()} if path.is_dir() else {path.suffix}
    return "mcap" if ".mcap" in suffixes else "sqlite3" if ".db3" in suffixes else "unknown"


def bag_summary(path: str | Path) -> BagSummary:
    """Topics, types, message counts and duration of the bag at ``path``."""
    path = Path(path)
    with Reader(path) as reader:
        empty = reader.message_count == 0
        return BagSummary(
            path=path,
            storage=_storage_of(path),
            topics={
                topic: (info.msgtype or "mixed", info.msgcount)
                for topic, info in reader.topics.items()
            },
            start_ns=0 if empty else reader.start_time,
            # rosbags' end_time is one past the last stamp; report last minus first.
            duration_ns=0 if empty else reader.end_time - 1 - reader.start_time,
        )
