"""The bounded feature cache: hits, LRU eviction, and corrupted files treated as misses."""

import hashlib
import os

import pytest
import torch

from lerf_ros.features.cache import FeatureCache, entry_bytes


def key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def entry(seed: int, count: int = 1000) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {"a": torch.randn(count, generator=generator).half(), "b": torch.arange(3)}


def test_hit_returns_identical_tensors_from_memory_and_from_disk(tmp_path):
    cache = FeatureCache(tmp_path)
    stored = entry(0)
    assert cache.get(key("x")) is None
    cache.put(key("x"), stored)
    for source in (cache, FeatureCache(tmp_path)):  # the second reads the file
        loaded = source.get(key("x"))
        assert loaded.keys() == stored.keys()
        assert all(torch.equal(loaded[name], stored[name]) for name in stored)
        assert loaded["a"].dtype == torch.float16


def test_disk_eviction_keeps_the_size_bound_and_the_recently_used(tmp_path):
    cache = FeatureCache(tmp_path, max_bytes=10**9, memory_bytes=0)
    cache.put(key("probe"), entry(0))
    one_file = cache.disk_bytes
    cache = FeatureCache(tmp_path, max_bytes=int(3.5 * one_file), memory_bytes=0)
    for index in range(3):
        cache.put(key(str(index)), entry(index))
    assert cache.get(key("probe")) is None  # evicted, least recently used
    assert cache.get(key("0")) is not None  # used now: the most recent
    cache.put(key("3"), entry(3))
    assert cache.disk_bytes <= 3.5 * one_file
    assert sum(path.stat().st_size for path in tmp_path.glob("*.pt")) == cache.disk_bytes
    assert cache.get(key("1")) is None  # the least recently used went
    assert all(cache.get(key(name)) is not None for name in ("0", "2", "3"))
    # A restart rebuilds the order from the files' access stamps (set apart explicitly:
    # some file systems stamp to the second).
    for stamp, name in enumerate(("3", "0", "2")):
        os.utime(tmp_path / f"{key(name)}.pt", (1e9 + stamp, 1e9 + stamp))
    restarted = FeatureCache(tmp_path, max_bytes=int(2.5 * one_file), memory_bytes=0)
    assert restarted.get(key("3")) is None
    assert restarted.get(key("0")) is not None and restarted.get(key("2")) is not None


def test_memory_layer_is_bounded(tmp_path):
    size = entry_bytes(entry(0))
    cache = FeatureCache(None, memory_bytes=2 * size)
    for index in range(5):
        cache.put(key(str(index)), entry(index))
    assert cache.memory_used <= 2 * size
    assert cache.get(key("0")) is None and cache.get(key("4")) is not None


class NotATensor:
    pass


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"definitely not a torch file"),
        lambda path: path.write_bytes(path.read_bytes()[:100]),  # truncated
        lambda path: torch.save({"a": NotATensor()}, path),  # would need arbitrary unpickling
        lambda path: torch.save([torch.zeros(2)], path),  # not a dict of tensors
    ],
)
def test_unreadable_file_is_a_miss_and_is_deleted(tmp_path, damage):
    FeatureCache(tmp_path).put(key("x"), entry(0))
    path = tmp_path / f"{key('x')}.pt"
    damage(path)
    cache = FeatureCache(tmp_path, memory_bytes=0)
    assert cache.get(key("x")) is None
    assert not path.exists() and cache.disk_bytes == 0


def test_keys_must_be_hex_digests(tmp_path):
    with pytest.raises(ValueError):
        FeatureCache(tmp_path).get("../../etc/passwd")
