"""Frame classifiers: an ONNX model (built here, benign: it scores brightness) feeds risk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from safestream.core.errors import InvalidInput
from safestream.live.classifiers import OnnxFrameClassifier
from safestream.live.monitor import StreamSpec
from safestream.live.sampling import SamplingMode, SamplingPolicy

from .conftest import Watch

SIZE = 32


def brightness_model(path: Path, gain: float = 20.0, bias: float = -5.0) -> Path:
    """sigmoid(gain * mean(pixels) + bias): near 0 for dark frames, near 1 for bright ones."""
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["frames"], ["mean"], axes=[1, 2, 3], keepdims=0),
            helper.make_node("Mul", ["mean", "gain"], ["scaled"]),
            helper.make_node("Add", ["scaled", "bias"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["score"]),
        ],
        "brightness",
        [helper.make_tensor_value_info("frames", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1])],
        [
            helper.make_tensor("gain", TensorProto.FLOAT, [], [gain]),
            helper.make_tensor("bias", TensorProto.FLOAT, [], [bias]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_model_scores_bright_frames_high_and_dark_frames_low(tmp_path: Path) -> None:
    classifier = OnnxFrameClassifier(brightness_model(tmp_path / "m.onnx"), size=SIZE)
    bright = np.full((SIZE, SIZE, 3), 240, dtype=np.uint8)
    dark = np.full((SIZE, SIZE, 3), 10, dtype=np.uint8)
    assert classifier.score_tensor(classifier.tensor_of_rgb(bright)) > 0.99
    assert classifier.score_tensor(classifier.tensor_of_rgb(dark)) < 0.05


def test_high_score_on_a_stream_raises_its_risk_and_its_sampling(
    make_watch: Callable[..., Watch], media_dir: Path, tmp_path: Path
) -> None:
    classifier = OnnxFrameClassifier(
        brightness_model(tmp_path / "m.onnx"), size=SIZE, name="bright", interval=1.0
    )
    watch = make_watch(
        evidence=False,
        baseline=SamplingPolicy(SamplingMode.KEYFRAMES),
        classifiers=[classifier],
    )
    stats = watch.run(StreamSpec("s", str(media_dir / "benign.mp4")))
    assessment = watch.monitor.risk.assess("s")
    assert [r.name for r in assessment.reasons] == ["classifier_flag"]
    assert stats.policy == "full@1fps+scene+skip"
    assert stats.frames_decoded > 3  # more than the three keyframes


def test_low_score_leaves_the_stream_alone(
    make_watch: Callable[..., Watch], media_dir: Path, tmp_path: Path
) -> None:
    model = brightness_model(tmp_path / "m.onnx", gain=1.0, bias=-10.0)
    classifier = OnnxFrameClassifier(model, size=SIZE, name="dim")
    watch = make_watch(
        evidence=False, baseline=SamplingPolicy(SamplingMode.KEYFRAMES), classifiers=[classifier]
    )
    stats = watch.run(StreamSpec("s", str(media_dir / "benign.mp4")))
    assert watch.monitor.risk.assess("s").reasons == ()
    assert stats.frames_decoded == 3


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"not a model")
    with pytest.raises(InvalidInput, match="not a usable ONNX model"):
        OnnxFrameClassifier(bogus)
