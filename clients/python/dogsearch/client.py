"""A small, typed client for the dogsearch API (DogSearch on the gateway, Trainer on the
trainer). Every method returns the contract's protobuf message (dogsearch.v1) and raises a
dogsearch.errors.DogSearchError subclass on failure. Calls that only read are retried on
UNAVAILABLE (three attempts within the call's timeout); calls that change state are not.

    from dogsearch import Client
    with Client("127.0.0.1:50050", token="...") as ds:
        ds.enroll("rex", "Rex", ["rex1.jpg", "rex2.jpg"])
        answer = ds.search("query.jpg")
        print(answer.answer, answer.matches[0].name)
"""

from __future__ import annotations

import io
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import grpc
from google.protobuf import json_format

from dogsearch.errors import DogSearchError, from_rpc_error
from dogsearch.v1 import dogsearch_pb2 as pb
from dogsearch.v1 import dogsearch_pb2_grpc as pb_grpc
from dogsearch.v1 import embedding_pb2
from dogsearch.v1 import model_pb2
from dogsearch.v1 import trainer_pb2 as tpb
from dogsearch.v1 import trainer_pb2_grpc as tpb_grpc

PhotoLike = Union[str, os.PathLike, bytes, bytearray, memoryview, "embedding_pb2.Photo", Any]
"""A path to an image file, its bytes, a PIL image, or a dogsearch.v1.Photo."""

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
# The server's default limits (gateway --max_photos_per_request, --max_request_bytes).
MAX_PHOTOS_PER_REQUEST = 32
MAX_REQUEST_BYTES = 64 << 20
_TERMINAL_JOB_STATES = (
    tpb.JOB_STATE_SUCCEEDED,
    tpb.JOB_STATE_FAILED,
    tpb.JOB_STATE_CANCELLED,
    tpb.JOB_STATE_INTERRUPTED,
)


def to_photo(photo: PhotoLike, name: str = "") -> "embedding_pb2.Photo":
    """A dogsearch.v1.Photo from a path, bytes, a PIL image or a Photo."""
    if isinstance(photo, embedding_pb2.Photo):
        return photo
    if isinstance(photo, (bytes, bytearray, memoryview)):
        return embedding_pb2.Photo(data=bytes(photo), name=name)
    if isinstance(photo, (str, os.PathLike)):
        path = Path(photo)
        return embedding_pb2.Photo(data=path.read_bytes(), name=name or path.name)
    if hasattr(photo, "save") and hasattr(photo, "mode"):  # A PIL image.
        buf = io.BytesIO()
        image = photo if photo.mode in ("RGB", "L") else photo.convert("RGB")
        image.save(buf, format="JPEG", quality=95)
        return embedding_pb2.Photo(data=buf.getvalue(), name=name or "image.jpg")
    raise TypeError(f"a photo must be a path, bytes, a PIL image or a Photo, not {type(photo).__name__}")


def _read(path: Optional[Union[str, os.PathLike]]) -> Optional[bytes]:
    return Path(path).read_bytes() if path else None


def _channel(address: str, tls: bool, ca_cert, client_cert, client_key) -> grpc.Channel:
    options = [
        ("grpc.max_receive_message_length", 64 << 20),
        ("grpc.max_send_message_length", MAX_REQUEST_BYTES + (1 << 20)),
    ]
    if tls or ca_cert or client_cert:
        creds = grpc.ssl_channel_credentials(
            root_certificates=_read(ca_cert),
            private_key=_read(client_key),
            certificate_chain=_read(client_cert),
        )
        return grpc.secure_channel(address, creds, options)
    return grpc.insecure_channel(address, options)


@dataclass
class ImportSummary:
    """What import_folder did."""

    dogs: int = 0
    photos: int = 0
    skipped: int = 0  # Photos already enrolled.
    errors: List[Tuple[str, str]] = field(default_factory=list)  # (dog id, message)


class _Service:
    """Calls one stub with a token, a timeout, retries for safe methods, and error mapping."""

    def __init__(self, stub: Any, token: Optional[str], timeout: float) -> None:
        self._stub = stub
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout

    def call(self, method: str, request: Any, *, safe: bool, timeout: Optional[float] = None) -> Any:
        budget = self._timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        attempts = 3 if safe else 1
        for attempt in range(attempts):
            remaining = max(0.001, deadline - time.monotonic())
            try:
                return getattr(self._stub, method)(request, timeout=remaining, metadata=self._metadata)
            except grpc.RpcError as e:
                retry = (safe and e.code() == grpc.StatusCode.UNAVAILABLE and attempt + 1 < attempts
                         and time.monotonic() + 0.2 * (attempt + 1) < deadline)
                if not retry:
                    raise from_rpc_error(e, method) from None
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def stream(self, method: str, request: Any, timeout: Optional[float]) -> Iterator[Any]:
        try:
            yield from getattr(self._stub, method)(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise from_rpc_error(e, method) from None


class Client:
    """The dogsearch API. ``address``: the gateway (DogSearch); ``trainer_address``: the trainer
    (optional; needed for train/watch/promote). ``token``: the bearer token (``trainer_token``
    defaults to it). TLS when ``tls`` is true or a CA / client certificate is given (mutual TLS
    with ``client_cert`` and ``client_key``); the trainer connection follows the same settings
    unless ``trainer_tls`` says otherwise. ``timeout``: seconds per call (streams excepted)."""

    def __init__(
        self,
        address: str = "127.0.0.1:50050",
        *,
        token: Optional[str] = None,
        trainer_address: Optional[str] = None,
        trainer_token: Optional[str] = None,
        trainer_tls: Optional[bool] = None,
        tls: bool = False,
        ca_cert: Optional[Union[str, os.PathLike]] = None,
        client_cert: Optional[Union[str, os.PathLike]] = None,
        client_key: Optional[Union[str, os.PathLike]] = None,
        timeout: float = 30.0,
    ) -> None:
        self._channels: List[grpc.Channel] = []
        gateway = _channel(address, tls, ca_cert, client_cert, client_key)
        self._channels.append(gateway)
        self._ds = _Service(pb_grpc.DogSearchStub(gateway), token, timeout)
        self._trainer: Optional[_Service] = None
        if trainer_address:
            secure = trainer_tls if trainer_tls is not None else bool(tls or ca_cert or client_cert)
            tc = (_channel(trainer_address, True, ca_cert, client_cert, client_key) if secure
                  else _channel(trainer_address, False, None, None, None))
            self._channels.append(tc)
            self._trainer = _Service(tpb_grpc.TrainerStub(tc),
                                     trainer_token if trainer_token is not None else token, timeout)

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        for c in self._channels:
            c.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- searching -----------------------------------------------------------------------------
    def search(self, photo: PhotoLike, k: int = 5, photos_per_dog: int = 0,
               timeout: Optional[float] = None) -> "pb.SearchResponse":
        """The k most similar enrolled dogs, best first, and the answer (MATCH, POSSIBLE_MATCH or
        NO_MATCH: whether the top dog is the one in the photo, at the server's target rate of
        false matches for dogs that are not enrolled)."""
        req = pb.SearchRequest(photo=to_photo(photo), k=k, photos_per_dog=photos_per_dog)
        return self._ds.call("Search", req, safe=True, timeout=timeout)

    def verify(self, photo_a: PhotoLike, photo_b: PhotoLike) -> "pb.VerifyResponse":
        """Whether two photos show the same dog."""
        req = pb.VerifyRequest(photo_a=to_photo(photo_a), photo_b=to_photo(photo_b))
        return self._ds.call("Verify", req, safe=True)

    # -- the gallery ---------------------------------------------------------------------------
    def enroll(self, dog_id: str, name: str, photos: Sequence[PhotoLike], notes: str = "") -> "pb.Dog":
        """Enrolls a new dog with 1..32 photos (ALREADY_EXISTS if the id is taken)."""
        req = pb.EnrollRequest(dog_id=dog_id, name=name, notes=notes,
                               photos=[to_photo(p) for p in photos])
        return self._ds.call("Enroll", req, safe=False)

    def add_photos(self, dog_id: str, photos: Sequence[PhotoLike]) -> "pb.AddPhotosResponse":
        req = pb.AddPhotosRequest(dog_id=dog_id, photos=[to_photo(p) for p in photos])
        return self._ds.call("AddPhotos", req, safe=False)

    def remove_photo(self, dog_id: str, photo_id: str) -> "pb.Dog":
        return self._ds.call("RemovePhoto", pb.RemovePhotoRequest(dog_id=dog_id, photo_id=photo_id),
                             safe=False)

    def dog(self, dog_id: str) -> "pb.Dog":
        return self._ds.call("GetDog", pb.GetDogRequest(dog_id=dog_id), safe=True)

    def dogs(self, page_size: int = 100) -> Iterator["pb.Dog"]:
        """Every enrolled dog, fetched a page at a time."""
        token = ""
        while True:
            page = self._ds.call("ListDogs", pb.ListDogsRequest(page_size=page_size, page_token=token),
                                 safe=True)
            yield from page.dogs
            token = page.next_page_token
            if not token:
                return

    def delete(self, dog_id: str) -> None:
        self._ds.call("DeleteDog", pb.DeleteDogRequest(dog_id=dog_id), safe=False)

    def status(self) -> "pb.ModelStatus":
        """The serving model, gallery size, latest upgrade and (when the gateway follows a
        trainer) the rollout against the trainer's promoted version."""
        return self._ds.call("GetModelStatus", pb.GetModelStatusRequest(), safe=True)

    def upgrade(self, version: str) -> "pb.ModelStatus":
        """Starts a zero-downtime upgrade of the gallery to a model version."""
        return self._ds.call("StartModelUpgrade", pb.StartModelUpgradeRequest(version=version),
                             safe=False)

    def import_folder(self, folder: Union[str, os.PathLike], progress: bool = True,
                      out: Any = None) -> ImportSummary:
        """Enrolls every sub-folder of ``folder`` as a dog (id and name: the folder's name) with
        the images in it, in requests within the server's limits; a dog that exists gets the new
        photos added. Errors are collected per dog, not raised. ``progress`` draws a bar on
        ``out`` (standard error by default)."""
        root = Path(folder)
        if not root.is_dir():
            raise NotADirectoryError(str(root))
        dogs = sorted(d for d in root.iterdir() if d.is_dir())
        summary = ImportSummary()
        out = out if out is not None else sys.stderr
        for i, d in enumerate(dogs):
            files = sorted(f for f in d.iterdir() if f.suffix.lower() in IMAGE_EXTENSIONS)
            if files:
                self._import_dog(d.name, files, summary)
            if progress:
                done = int(30 * (i + 1) / max(1, len(dogs)))
                out.write(f"\r[{'#' * done}{' ' * (30 - done)}] {i + 1}/{len(dogs)} dogs, "
                          f"{summary.photos} photos")
                out.flush()
        if progress:
            out.write("\n")
        return summary

    def _import_dog(self, dog_id: str, files: List[Path], summary: ImportSummary) -> None:
        batches: List[List[Path]] = [[]]
        size = 0
        for f in files:
            n = f.stat().st_size
            if batches[-1] and (len(batches[-1]) >= MAX_PHOTOS_PER_REQUEST or size + n > MAX_REQUEST_BYTES):
                batches.append([])
                size = 0
            batches[-1].append(f)
            size += n
        try:
            try:
                self.enroll(dog_id, dog_id, batches[0])
                summary.dogs += 1
                summary.photos += len(batches[0])
                rest = batches[1:]
            except DogSearchError as e:
                # ALREADY_EXISTS: the dog exists (add the photos), or a photo is another dog's.
                if e.code != grpc.StatusCode.ALREADY_EXISTS:
                    raise
                try:
                    self.dog(dog_id)
                except DogSearchError:
                    raise e from None
                rest = batches
            for b in rest:
                added = self.add_photos(dog_id, b)
                summary.photos += len(added.added_photo_ids)
                summary.skipped += len(added.duplicate_photo_ids)
        except DogSearchError as e:
            summary.errors.append((dog_id, e.message))

    # -- the trainer ---------------------------------------------------------------------------
    def _t(self) -> _Service:
        if self._trainer is None:
            raise ValueError("this client has no trainer_address")
        return self._trainer

    def train(self, dataset: str = "", *, label: str = "", auto_promote: bool = False,
              config: Optional[Union["model_pb2.TrainingConfig", Mapping[str, Any]]] = None,
              **fields: Any) -> "tpb.Job":
        """Starts a training job on ``dataset`` (a folder under the trainer's data root). Any
        dogsearch.v1.TrainingConfig field can be given by name (``epochs=3``,
        ``time_budget_seconds=600``), or a whole ``config`` (message or dict)."""
        if isinstance(config, model_pb2.TrainingConfig):
            cfg = model_pb2.TrainingConfig()
            cfg.CopyFrom(config)
        else:
            cfg = json_format.ParseDict(dict(config or {}), model_pb2.TrainingConfig())
        if fields:
            json_format.ParseDict(fields, cfg)
        if dataset:
            cfg.dataset = dataset
        req = tpb.StartTrainingRequest(config=cfg, label=label, auto_promote=auto_promote)
        return self._t().call("StartTraining", req, safe=False)

    def job(self, job_id: str) -> "tpb.Job":
        return self._t().call("GetJob", tpb.GetJobRequest(job_id=job_id), safe=True)

    def jobs(self) -> List["tpb.Job"]:
        return list(self._t().call("ListJobs", tpb.ListJobsRequest(), safe=True).jobs)

    def cancel(self, job_id: str) -> "tpb.Job":
        return self._t().call("CancelJob", tpb.CancelJobRequest(job_id=job_id), safe=False)

    def watch(self, job_id: str, timeout: Optional[float] = None) -> Iterator["tpb.JobProgress"]:
        """Progress of a job as it happens, ending after its final state (SUCCEEDED, FAILED,
        CANCELLED or INTERRUPTED)."""
        for p in self._t().stream("WatchJob", tpb.WatchJobRequest(job_id=job_id), timeout):
            yield p
            if p.state in _TERMINAL_JOB_STATES:
                return

    def checkpoints(self) -> "tpb.ListCheckpointsResponse":
        """Published checkpoints (oldest first) and the promoted version."""
        return self._t().call("ListCheckpoints", tpb.ListCheckpointsRequest(), safe=True)

    def promote(self, version: str) -> "tpb.CheckpointInfo":
        """Promotes a checkpoint: gateways and embedding servers that follow the trainer move to it."""
        return self._t().call("PromoteCheckpoint", tpb.PromoteCheckpointRequest(version=version),
                              safe=False)


def answer_name(response: "pb.SearchResponse") -> str:
    """"MATCH", "POSSIBLE_MATCH" or "NO_MATCH"."""
    return pb.SearchAnswer.Name(response.answer).replace("SEARCH_ANSWER_", "")
