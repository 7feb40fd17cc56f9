"""Pluggable frame classifiers: score sampled frames with a model the platform supplies.

SafeStream ships no abuse classifier. A platform that has one exports it to ONNX; the monitor
runs it through onnxruntime on sampled frames (at most every `interval` seconds of stream time
per stream) and feeds each score to the stream's risk context as a `classifier_score` event,
so a high score raises the sampling rate and shows up as a named reason.

The model contract: one input, float32 NCHW RGB in [0, 1] at `size` x `size` (mean/std
normalisation applied when given), and a first output whose last element is the score in [0, 1]
(a probability; pass `apply_sigmoid=True` for a logit).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from safestream.core.errors import InvalidInput


class FrameClassifier(Protocol):
    """Scores one decoded frame; 0 = nothing of interest, 1 = certain."""

    name: str
    interval: float

    def score(self, frame: Any) -> float:
        """The score of a PyAV `VideoFrame`."""


class OnnxFrameClassifier:
    """Runs an ONNX image model on frames with onnxruntime (CPU, one thread)."""

    def __init__(
        self,
        model_path: Path,
        *,
        name: str | None = None,
        size: int = 224,
        mean: tuple[float, float, float] | None = None,
        std: tuple[float, float, float] | None = None,
        apply_sigmoid: bool = False,
        interval: float = 2.0,
    ) -> None:
        import onnxruntime as ort

        if not model_path.is_file():
            raise InvalidInput(f"no such model file: {model_path}")
        options = ort.SessionOptions()
        # One thread: the monitor already runs a decode thread per stream.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise InvalidInput(f"{model_path}: not a usable ONNX model: {exc}") from exc
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise InvalidInput(f"{model_path}: the model must take one input, not {len(inputs)}")
        self.input_name = inputs[0].name
        self.name = name or model_path.stem
        self.size = size
        self.mean = np.asarray(mean or (0.0, 0.0, 0.0), dtype=np.float32).reshape(1, 3, 1, 1)
        self.std = np.asarray(std or (1.0, 1.0, 1.0), dtype=np.float32).reshape(1, 3, 1, 1)
        self.apply_sigmoid = apply_sigmoid
        self.interval = interval

    def tensor(self, frame: Any) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The model input for a frame: scaled in libswscale, NCHW float32."""
        rgb = frame.reformat(self.size, self.size, "rgb24", interpolation="AREA").to_ndarray()
        return self.tensor_of_rgb(rgb)

    def tensor_of_rgb(self, rgb: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The model input for an RGB array already at `size` x `size`."""
        x = np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1)[np.newaxis] / 255.0
        return np.ascontiguousarray((x - self.mean) / self.std, dtype=np.float32)

    def score(self, frame: Any) -> float:
        """Run the model on one frame and return its score in [0, 1]."""
        return self.score_tensor(self.tensor(frame))

    def score_tensor(self, x: np.ndarray[Any, np.dtype[np.float32]]) -> float:
        """Run the model on a prepared input tensor."""
        outputs = self.session.run(None, {self.input_name: x})
        value = float(np.asarray(outputs[0], dtype=np.float64).ravel()[-1])
        if self.apply_sigmoid:
            value = 1.0 / (1.0 + math.exp(-value))
        if not math.isfinite(value):
            return 0.0
        return min(1.0, max(0.0, value))
