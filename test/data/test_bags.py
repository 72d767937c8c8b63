"""Datasets -> ROS 2 bags -> read back: every frame's image, pose and intrinsics survive."""

from pathlib import Path

import numpy as np
import pytest

from lerf_ros.cameras import pose_from_translation_quaternion
from lerf_ros.cli.main import main
from lerf_ros.data import camera_stream
from lerf_ros.data.bags import DEFAULT_START_NS, bag_summary, decode, read_messages, write_bag
from lerf_ros.data.datasets import load_dataset
from lerf_ros.data.synthetic.export import make_scene_dataset

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
VIEWS = 5
RATE_HZ = 10.0
TOPICS = ("/camera/camera_info", "/camera/pose", "/tf")
DEPTH_TOPIC = "/camera/depth/image_raw"


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory) -> Path:
    return make_scene_dataset(
        tmp_path_factory.mktemp("scene"), "mug", views=VIEWS, width=48, height=32, supersample=1
    )


def by_topic(bag: Path) -> dict[str, list]:
    """Topic -> [(bag timestamp, decoded message)] in bag order."""
    messages: dict[str, list] = {}
    for topic, msgtype, timestamp, data in read_messages(bag):
        messages.setdefault(topic, []).append((timestamp, decode(data, msgtype)))
    return messages


def stamp(msg) -> int:
    return msg.header.stamp.sec * camera_stream.NANOSECONDS + msg.header.stamp.nanosec


def pose_matrix(pose) -> np.ndarray:
    p, q = pose.position, pose.orientation
    return pose_from_translation_quaternion((p.x, p.y, p.z), (q.x, q.y, q.z, q.w))


def check_frames(bag: Path, dataset, image_topic: str, to_rgb, atol: float) -> None:
    """Every dataset frame is in the bag with its stamp, image, pose, tf and intrinsics."""
    messages = by_topic(bag)
    with_depth = [DEPTH_TOPIC] if dataset.frames[0].depth is not None else []
    assert sorted(messages) == sorted((*TOPICS, image_topic, *with_depth))
    for index, frame in enumerate(dataset.frames):
        if with_depth:
            check_depth(messages[DEPTH_TOPIC][index], frame, index)
        expected_stamp = DEFAULT_START_NS + round(index * 1e9 / RATE_HZ)
        (t_info, info), (t_pose, pose), (t_tf, tf), (t_image, image) = (
            messages[topic][index] for topic in (*TOPICS, image_topic)
        )
        assert {t_info, t_pose, t_tf, t_image} == {expected_stamp}
        assert {stamp(info), stamp(pose), stamp(image)} == {expected_stamp}
        assert (image.header.frame_id, info.header.frame_id) == ("camera_optical",) * 2
        assert pose.header.frame_id == "map"
        rgb = to_rgb(image)
        assert rgb.shape == frame.image.shape
        error = np.abs(rgb.astype(int) - frame.image.astype(int))
        assert error.mean() <= atol, f"frame {index}: mean abs error {error.mean():.2f}"
        np.testing.assert_allclose(pose_matrix(pose.pose), frame.c2w, atol=1e-6)
        transform = tf.transforms[0]
        assert (transform.header.frame_id, transform.child_frame_id) == ("map", "camera_optical")
        t, r = transform.transform.translation, transform.transform.rotation
        np.testing.assert_allclose(
            pose_from_translation_quaternion((t.x, t.y, t.z), (r.x, r.y, r.z, r.w)),
            frame.c2w,
            atol=1e-6,
        )
        i = frame.intrinsics
        assert (info.width, info.height, info.distortion_model) == (i.width, i.height, "plumb_bob")
        np.testing.assert_allclose(info.k, [i.fx, 0, i.cx, 0, i.fy, i.cy, 0, 0, 1])
        np.testing.assert_allclose(info.p, [i.fx, 0, i.cx, 0, 0, i.fy, i.cy, 0, 0, 0, 1, 0])
        assert len(info.d) == 5


def check_depth(stamped, frame, index: int) -> None:
    """The frame's depth as 16UC1 millimetres, registered (same size, stamp and frame id)."""
    timestamp, depth = stamped
    assert (depth.encoding, depth.is_bigendian, depth.step) == ("16UC1", 0, 2 * depth.width)
    assert stamp(depth) == timestamp == DEFAULT_START_NS + round(index * 1e9 / RATE_HZ)
    assert depth.header.frame_id == "camera_optical"
    mm = np.frombuffer(bytes(depth.data), "<u2").reshape(depth.height, depth.width)
    assert mm.shape == frame.depth.shape
    assert (mm > 0).any()
    np.testing.assert_allclose(mm / 1000.0, frame.depth, atol=1e-3)


def raw_rgb(image) -> np.ndarray:
    assert image.encoding == "rgb8" and image.step == 3 * image.width
    return np.asarray(image.data, dtype=np.uint8).reshape(image.height, image.width, 3)


def compressed_rgb(image) -> np.ndarray:
    return camera_stream.decode_image(image.data)


def test_raw_bag_holds_every_frame_exactly(scene_dir, tmp_path):
    dataset = load_dataset(scene_dir)
    bag = write_bag(dataset, tmp_path / "bag", rate_hz=RATE_HZ)
    summary = bag_summary(bag)
    assert summary.storage == "mcap"
    assert summary.topics == {
        "/camera/camera_info": ("sensor_msgs/msg/CameraInfo", VIEWS),
        "/camera/pose": ("geometry_msgs/msg/PoseStamped", VIEWS),
        "/tf": ("tf2_msgs/msg/TFMessage", VIEWS),
        "/camera/image_raw": ("sensor_msgs/msg/Image", VIEWS),
        DEPTH_TOPIC: ("sensor_msgs/msg/Image", VIEWS),
    }
    assert summary.start_ns == DEFAULT_START_NS
    assert summary.duration_s == pytest.approx((VIEWS - 1) / RATE_HZ)
    check_frames(bag, dataset, "/camera/image_raw", raw_rgb, atol=0)
    poses_only = [topic for topic, *_ in read_messages(bag, ["/camera/pose"])]
    assert poses_only == ["/camera/pose"] * VIEWS


# JPEG: 4:2:0 chroma subsampling blurs the sharp colour edges of tiny renders a little.
@pytest.mark.parametrize(("fmt", "atol"), [("png", 0), ("jpeg", 5.0)])
def test_compressed_bag_decodes_to_the_dataset_images(scene_dir, tmp_path, fmt, atol):
    dataset = load_dataset(scene_dir)
    bag = write_bag(
        dataset, tmp_path / "bag", compressed=True, rate_hz=RATE_HZ, compressed_format=fmt
    )
    check_frames(bag, dataset, "/camera/image_raw/compressed", compressed_rgb, atol=atol)
    image_formats = {
        decode(data, msgtype).format
        for _, msgtype, _, data in read_messages(bag, ["/camera/image_raw/compressed"])
    }
    assert image_formats == {f"rgb8; {fmt} compressed bgr8"}


def test_options_topics_and_frames(scene_dir, tmp_path):
    bag = write_bag(
        scene_dir,
        tmp_path / "bag",
        prefix="/robot/head",
        fixed_frame="odom",
        optical_frame="head_optical",
        with_tf=False,
        load_options={"max_images": 2},
    )
    messages = by_topic(bag)
    assert sorted(messages) == [
        "/robot/head/camera_info",
        "/robot/head/depth/image_raw",
        "/robot/head/image_raw",
        "/robot/head/pose",
    ]
    assert [len(m) for m in messages.values()] == [2, 2, 2, 2]
    _, pose = messages["/robot/head/pose"][0]
    _, image = messages["/robot/head/image_raw"][0]
    assert (pose.header.frame_id, image.header.frame_id) == ("odom", "head_optical")


def test_refuses_to_overwrite(scene_dir, tmp_path):
    (tmp_path / "bag").mkdir()
    with pytest.raises(FileExistsError):
        write_bag(scene_dir, tmp_path / "bag")
    with pytest.raises(ValueError, match="rate_hz"):
        write_bag(scene_dir, tmp_path / "other", rate_hz=0)
    assert not (tmp_path / "other").exists()


def test_make_bag_cli(scene_dir, tmp_path, capsys):
    out = tmp_path / "cli_bag"
    args = ["make-bag", "--data", str(scene_dir), "--out", str(out), "--rate", "2"]
    assert main([*args, "--compressed", "--max-images", "3"]) == 0
    printed = capsys.readouterr().out
    assert "/camera/image_raw/compressed" in printed and "mcap" in printed
    assert bag_summary(out).duration_s == pytest.approx(1.0)
    assert main(args) == 2  # exists already: one-line error, no traceback
    assert "already exists" in capsys.readouterr().err


def test_fox_as_a_compressed_bag(tmp_path):
    fox = SHARED_DATA / "fox"
    if not fox.is_dir():
        pytest.skip(f"shared test data {fox} is not available")
    options = {"max_images": 3, "downscale": 8}
    bag = write_bag(fox, tmp_path / "fox", compressed=True, rate_hz=RATE_HZ, load_options=options)
    dataset = load_dataset(fox, **options)
    assert bag_summary(bag).topics["/camera/image_raw/compressed"][1] == 3
    check_frames(bag, dataset, "/camera/image_raw/compressed", compressed_rgb, atol=3.0)
    # fox has lens distortion: plumb_bob carries it, zero-padded to five coefficients.
    _, info = by_topic(bag)["/camera/camera_info"][0]
    expected = list(dataset.frames[0].intrinsics.distortion)
    np.testing.assert_allclose(info.d, expected + [0.0] * (5 - len(expected)))


def test_depth_is_16uc1_millimetres_matching_the_dataset_and_no_depth_leaves_it_out(
    scene_dir, tmp_path, capsys
):
    dataset = load_dataset(scene_dir)
    assert all(frame.depth is not None for frame in dataset.frames)
    bag = write_bag(dataset, tmp_path / "bag", rate_hz=RATE_HZ, with_tf=False)
    depths = by_topic(bag)[DEPTH_TOPIC]
    assert len(depths) == VIEWS
    for index, frame in enumerate(dataset.frames):
        check_depth(depths[index], frame, index)
    # Depth follows its image in the bag (a player publishes them in this order).
    order = [topic for topic, *_ in read_messages(bag)][:3]
    assert order == ["/camera/camera_info", "/camera/pose", "/camera/image_raw"]
    assert DEPTH_TOPIC not in bag_summary(write_bag(dataset, tmp_path / "b2", depth=False)).topics
    out = tmp_path / "cli_bag"
    assert main(["make-bag", "--data", str(scene_dir), "--out", str(out), "--no-depth"]) == 0
    assert DEPTH_TOPIC not in capsys.readouterr().out
    assert DEPTH_TOPIC not in bag_summary(out).topics
    with_depth = tmp_path / "cli_depth"
    assert main(["make-bag", "--data", str(scene_dir), "--out", str(with_depth)]) == 0
    assert DEPTH_TOPIC in capsys.readouterr().out


def test_the_demo_says_whether_its_stream_has_depth(scene_dir, tmp_path):
    from argparse import Namespace

    from lerf_ros.cli.ros_commands import _start_source

    started = []

    def start_cli(args, log):
        started.append(args)
        return "process"

    synthetic = Namespace(data=None, scene="default")
    _, said = _start_source(synthetic, tmp_path, start_cli)
    assert "depth (16UC1 mm on /camera/depth/image_raw)" in said and started[-1][0] == "stream"
    _, said = _start_source(Namespace(data=str(scene_dir)), tmp_path, start_cli)
    assert "depth (16UC1 mm on /camera/depth/image_raw)" in said and started[-1][0] == "play"
