from dogsearch.v1 import model_pb2 as _model_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
MODEL_STATE_FAILED: ModelState
MODEL_STATE_LOADING: ModelState
MODEL_STATE_READY: ModelState
MODEL_STATE_UNLOADING: ModelState
MODEL_STATE_UNSPECIFIED: ModelState

class EmbedRequest(_message.Message):
    __slots__ = ["model_version", "photos"]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    photos: _containers.RepeatedCompositeFieldContainer[Photo]
    def __init__(self, photos: _Optional[_Iterable[_Union[Photo, _Mapping]]] = ..., model_version: _Optional[str] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ["dimension", "embeddings", "model_version"]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    dimension: int
    embeddings: _containers.RepeatedCompositeFieldContainer[EmbeddingVector]
    model_version: str
    def __init__(self, embeddings: _Optional[_Iterable[_Union[EmbeddingVector, _Mapping]]] = ..., model_version: _Optional[str] = ..., dimension: _Optional[int] = ...) -> None: ...

class EmbeddingVector(_message.Message):
    __slots__ = ["score_offset", "values"]
    SCORE_OFFSET_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    score_offset: float
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ..., score_offset: _Optional[float] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ["version"]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: str
    def __init__(self, version: _Optional[str] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ["default_version", "models"]
    DEFAULT_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    default_version: str
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., default_version: _Optional[str] = ...) -> None: ...

class LoadModelRequest(_message.Message):
    __slots__ = ["make_default", "version"]
    MAKE_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    make_default: bool
    version: str
    def __init__(self, version: _Optional[str] = ..., make_default: bool = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ["cohort_size", "device", "half_precision", "is_default", "metrics", "numerics", "parent_version", "photos_embedded", "ready_unix_seconds", "spec", "state", "state_reason", "version", "weights_sha256"]
    COHORT_SIZE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    HALF_PRECISION_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    NUMERICS_FIELD_NUMBER: _ClassVar[int]
    PARENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_EMBEDDED_FIELD_NUMBER: _ClassVar[int]
    READY_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_SHA256_FIELD_NUMBER: _ClassVar[int]
    cohort_size: int
    device: str
    half_precision: bool
    is_default: bool
    metrics: _model_pb2.EvalMetrics
    numerics: str
    parent_version: str
    photos_embedded: int
    ready_unix_seconds: int
    spec: _model_pb2.ModelSpec
    state: ModelState
    state_reason: str
    version: str
    weights_sha256: str
    def __init__(self, version: _Optional[str] = ..., state: _Optional[_Union[ModelState, str]] = ..., state_reason: _Optional[str] = ..., is_default: bool = ..., spec: _Optional[_Union[_model_pb2.ModelSpec, _Mapping]] = ..., device: _Optional[str] = ..., half_precision: bool = ..., metrics: _Optional[_Union[_model_pb2.EvalMetrics, _Mapping]] = ..., parent_version: _Optional[str] = ..., weights_sha256: _Optional[str] = ..., ready_unix_seconds: _Optional[int] = ..., photos_embedded: _Optional[int] = ..., cohort_size: _Optional[int] = ..., numerics: _Optional[str] = ...) -> None: ...

class Photo(_message.Message):
    __slots__ = ["data", "name"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    name: str
    def __init__(self, data: _Optional[bytes] = ..., name: _Optional[str] = ...) -> None: ...

class SetDefaultModelRequest(_message.Message):
    __slots__ = ["version"]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: str
    def __init__(self, version: _Optional[str] = ...) -> None: ...

class UnloadModelRequest(_message.Message):
    __slots__ = ["version"]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: str
    def __init__(self, version: _Optional[str] = ...) -> None: ...

class UnloadModelResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ModelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
