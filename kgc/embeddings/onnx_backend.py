"""A sentence-transformers model on ONNX Runtime: exported once from the local folder, cached, hash-checked.

Why not sentence-transformers' own `backend="onnx"`: it loads through optimum-onnx, whose releases
pin transformers < 4.58, and installing it would downgrade the transformers 5 stack kgc runs on. So
the encoder is exported here with PyTorch's own exporter (`torch.onnx.export`, the torch.export-based
one: the TorchScript one mistraces transformers 5's attention masks) and optionally int8-quantised
with ONNX Runtime's dynamic quantiser (weights int8, activations quantised on the fly); tokenising
(the folder's `tokenizer.json`), mean pooling and normalising are the few lines of `OnnxEmbedder`.
Only mean-pooling models are supported, which covers all-MiniLM-L6-v2 and all-mpnet-base-v2.

CUDA: when ONNX Runtime has the CUDA execution provider, the full-precision graph runs on the GPU
(int8 dynamic quantisation is a CPU technique).

Cache: `$KGC_HOME/models/onnx/<model>-<source hash>-<variant>/model.onnx` plus `kgc-onnx.json`,
which records the hash of the source files and of the ONNX file. A folder is built in a temporary
directory and renamed into place under a file lock, and the ONNX file is re-hashed when loaded:
a corrupt or half-written cache is rebuilt, never trusted.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ValidationError

from kgc.assets import exclusive_lock, file_sha256, use_local_models
from kgc.config import kgc_home
from kgc.embeddings.folders import WEIGHT_FILES, folder_fingerprint
from kgc.errors import ConfigError, ModelAssetError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

MANIFEST_NAME = "kgc-onnx.json"
MODEL_FILE = "model.onnx"
CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"
ONNX_PACKAGES = ("onnxruntime", "onnx", "onnxscript")
INSTALL_HINT = "pip install 'kgc[onnx]'"
DEFAULT_MAX_LENGTH = 512
EXPORT_OPSET = 18


class OnnxManifest(BaseModel):
    """What a cache folder holds; written last, so a folder without one is incomplete."""

    source_sha256: str
    onnx_sha256: str
    quantized: bool
    inputs: list[str]  # the graph's input names, in the exporter's order
    versions: dict[str, str]  # of the exporting packages, for the record


def onnx_available() -> bool:
    """Whether the optional ONNX packages are installed (the `onnx` extra)."""
    try:
        for name in ONNX_PACKAGES:
            metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def onnx_on_gpu() -> bool:
    """Whether ONNX Runtime is installed and has the CUDA execution provider."""
    if not onnx_available():
        return False
    import onnxruntime

    return CUDA_PROVIDER in onnxruntime.get_available_providers()


def require_onnx() -> None:
    """ConfigError naming the install command when the `onnx` extra is missing."""
    if not onnx_available():
        raise ConfigError(f"embedding backend 'onnx' needs {', '.join(ONNX_PACKAGES)}: {INSTALL_HINT}")


class OnnxEmbedder:
    """Mean-pooled, L2-normalised sentence embeddings from an ONNX encoder graph."""

    def __init__(
        self, session: onnxruntime.InferenceSession, tokenizer: Tokenizer, dimension: int, key: str
    ) -> None:
        self.key = key
        self.session = session
        self.tokenizer = tokenizer
        self.dimension = dimension
        self.inputs = [i.name for i in session.get_inputs()]

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """One float32 unit row per text. Texts are batched by token length, as sentence-transformers
        does, so a batch carries little padding."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {name: feed[name] for name in self.inputs})[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


def load_onnx_embedder(source: Path, key: str, quantize: bool) -> OnnxEmbedder:
    """The model in the sentence-transformers folder `source` on ONNX Runtime, exported on first use
    (int8 with `quantize`, which the caller asks for on a CPU only)."""
    require_onnx()
    import onnxruntime
    from tokenizers import Tokenizer

    settings = _sentence_settings(source)
    on_gpu = onnx_on_gpu()
    folder, _ = ensure_exported(source, quantize=quantize)
    options = onnxruntime.SessionOptions()
    # Busy-waiting worker threads win on an idle machine and lose badly on a shared one.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = [CUDA_PROVIDER, CPU_PROVIDER] if on_gpu else [CPU_PROVIDER]
    session = onnxruntime.InferenceSession(str(folder / MODEL_FILE), options, providers=providers)
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    tokenizer.no_padding()  # tokenizer.json may pad every text to a fixed length: batches pad here
    tokenizer.enable_truncation(settings["max_length"])
    return OnnxEmbedder(session, tokenizer, settings["dimension"], key)


def _sentence_settings(source: Path) -> dict[str, int]:
    """Truncation length and embedding width from the folder; ConfigError unless it mean-pools."""
    pooling = _read_json(source / "1_Pooling" / "config.json")
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ConfigError(
            f"embedding backend 'onnx' supports mean-pooling models only; {source} pools otherwise: "
            "use embedding backend 'torch'"
        )
    bert = (
        _read_json(source / "sentence_bert_config.json")
        if (source / "sentence_bert_config.json").is_file()
        else {}
    )
    return {
        "max_length": int(bert.get("max_seq_length") or DEFAULT_MAX_LENGTH),
        "dimension": int(pooling["word_embedding_dimension"]),
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelAssetError(f"cannot read {path}: {e}") from e
    if not isinstance(data, dict):
        raise ModelAssetError(f"{path} is not a JSON object")
    return data


def ensure_exported(source: Path, *, quantize: bool) -> tuple[Path, OnnxManifest]:
    """The cache folder of `source` exported (int8 with `quantize`), built when missing or corrupt."""
    source_hash = source_sha256(source)
    variant = "int8" if quantize else "fp32"
    dest = kgc_home() / "models" / "onnx" / f"{source.name}-{source_hash[:12]}-{variant}"
    manifest = _valid_manifest(dest, source_hash)
    if manifest is not None:
        return dest, manifest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(dest.with_name(dest.name + ".lock")):
        manifest = _valid_manifest(dest, source_hash)  # another process may have built it meanwhile
        if manifest is None:
            manifest = _export(source, source_hash, quantize, dest)
    return dest, manifest


def source_sha256(source: Path) -> str:
    """A hash of the files that decide what the model computes (weights, config, tokenizer, pooling)."""
    if not any((source / name).is_file() for name in WEIGHT_FILES):
        raise ModelAssetError(f"{source} has no {' or '.join(WEIGHT_FILES)}: not a model folder")
    return folder_fingerprint(source)


def _valid_manifest(dest: Path, source_hash: str) -> OnnxManifest | None:
    """The folder's manifest if the folder is complete, of this source, and its ONNX file intact."""
    try:
        manifest = OnnxManifest.model_validate_json((dest / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None
    onnx_path = dest / MODEL_FILE
    if manifest.source_sha256 != source_hash or not onnx_path.is_file():
        return None
    if file_sha256(onnx_path) != manifest.onnx_sha256:
        log.warning("the cached ONNX model in %s is corrupt: exporting it again", dest)
        return None
    return manifest


def _export(source: Path, source_hash: str, quantize: bool, dest: Path) -> OnnxManifest:
    log.info("exporting %s to ONNX%s (once, about a minute)", source, " (int8)" if quantize else "")
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.") as tmp:
        staged = Path(tmp) / "model"
        staged.mkdir()
        inputs = _export_fp32(source, staged / MODEL_FILE)
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantized = staged / "model.int8.onnx"
            quantize_dynamic(staged / MODEL_FILE, quantized, weight_type=QuantType.QInt8)
            os.replace(quantized, staged / MODEL_FILE)
        manifest = OnnxManifest(
            source_sha256=source_hash,
            onnx_sha256=file_sha256(staged / MODEL_FILE),
            quantized=quantize,
            inputs=inputs,
            versions={name: _version(name) for name in ("torch", "transformers", *ONNX_PACKAGES)},
        )
        (staged / MANIFEST_NAME).write_text(json.dumps(manifest.model_dump(), indent=2), encoding="utf-8")
        if dest.exists():  # an incomplete or corrupt earlier export
            shutil.rmtree(dest)
        os.replace(staged, dest)
    return manifest


def _export_fp32(source: Path, out: Path) -> list[str]:
    """Export the encoder's token embeddings (last hidden state) as one self-contained ONNX file."""
    use_local_models()  # before transformers (and huggingface_hub) is first imported
    import onnx
    import torch
    from transformers import AutoModel

    try:
        model = AutoModel.from_pretrained(str(source), local_files_only=True).eval()
    except (OSError, ValueError) as e:
        raise ModelAssetError(f"cannot load the embedding model in {source} for export: {e}") from e
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = model

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor | None = None,
        ) -> torch.Tensor:
            given = {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": token_type_ids,
            }
            return self.encoder(**{n: given[n] for n in names}).last_hidden_state

    # A padded row in the sample: traced on an all-ones mask, the attention mask is dropped as a no-op.
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    sample = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", max=DEFAULT_MAX_LENGTH)
    program = torch.onnx.export(
        LastHiddenState(),
        tuple(sample[n] for n in names),
        input_names=names,
        output_names=["last_hidden_state"],
        dynamic_shapes={n: {0: batch, 1: length} for n in names},
        opset_version=EXPORT_OPSET,
        dynamo=True,
    )
    if program is None:
        raise ModelAssetError(f"exporting {source} to ONNX produced no program")
    program.save(str(out), external_data=False)
    onnx.checker.check_model(str(out))
    return names


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"
