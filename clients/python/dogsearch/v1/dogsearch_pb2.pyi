from dogsearch.v1 import embedding_pb2 as _embedding_pb2
from dogsearch.v1 import model_pb2 as _model_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
ROLLOUT_STATE_CONVERGED: RolloutState
ROLLOUT_STATE_FAILED: RolloutState
ROLLOUT_STATE_NO_PROMOTION: RolloutState
ROLLOUT_STATE_ROLLING_OUT: RolloutState
ROLLOUT_STATE_TRAINER_UNREACHABLE: RolloutState
ROLLOUT_STATE_UNKNOWN: RolloutState
ROLLOUT_STATE_UNSPECIFIED: RolloutState
SEARCH_ANSWER_MATCH: SearchAnswer
SEARCH_ANSWER_NO_MATCH: SearchAnswer
SEARCH_ANSWER_POSSIBLE_MATCH: SearchAnswer
SEARCH_ANSWER_UNSPECIFIED: SearchAnswer
UPGRADE_STATE_FAILED: UpgradeState
UPGRADE_STATE_FLIPPING: UpgradeState
UPGRADE_STATE_IDLE: UpgradeState
UPGRADE_STATE_LOADING_MODEL: UpgradeState
UPGRADE_STATE_REEMBEDDING: UpgradeState
UPGRADE_STATE_SUCCEEDED: UpgradeState
UPGRADE_STATE_UNSPECIFIED: UpgradeState

class AddPhotosRequest(_message.Message):
    __slots__ = ["dog_id", "photos"]
    DOG_ID_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    dog_id: str
    photos: _containers.RepeatedCompositeFieldContainer[_embedding_pb2.Photo]
    def __init__(self, dog_id: _Optional[str] = ..., photos: _Optional[_Iterable[_Union[_embedding_pb2.Photo, _Mapping]]] = ...) -> None: ...

class AddPhotosResponse(_message.Message):
    __slots__ = ["added_photo_ids", "dog", "duplicate_photo_ids"]
    ADDED_PHOTO_IDS_FIELD_NUMBER: _ClassVar[int]
    DOG_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_PHOTO_IDS_FIELD_NUMBER: _ClassVar[int]
    added_photo_ids: _containers.RepeatedScalarFieldContainer[str]
    dog: Dog
    duplicate_photo_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, dog: _Optional[_Union[Dog, _Mapping]] = ..., added_photo_ids: _Optional[_Iterable[str]] = ..., duplicate_photo_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteDogRequest(_message.Message):
    __slots__ = ["dog_id"]
    DOG_ID_FIELD_NUMBER: _ClassVar[int]
    dog_id: str
    def __init__(self, dog_id: _Optional[str] = ...) -> None: ...

class DeleteDogResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class Dog(_message.Message):
    __slots__ = ["created_unix_seconds", "dog_id", "name", "notes", "photos"]
    CREATED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DOG_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    created_unix_seconds: int
    dog_id: str
    name: str
    notes: str
    photos: _containers.RepeatedCompositeFieldContainer[DogPhoto]
    def __init__(self, dog_id: _Optional[str] = ..., name: _Optional[str] = ..., notes: _Optional[str] = ..., photos: _Optional[_Iterable[_Union[DogPhoto, _Mapping]]] = ..., created_unix_seconds: _Optional[int] = ...) -> None: ...

class DogMatch(_message.Message):
    __slots__ = ["confidence", "distance", "dog_id", "name", "photos", "rank", "same_dog", "score"]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    DOG_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    SAME_DOG_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    confidence: float
    distance: float
    dog_id: str
    name: str
    photos: _containers.RepeatedCompositeFieldContainer[PhotoMatch]
    rank: int
    same_dog: bool
    score: float
    def __init__(self, dog_id: _Optional[str] = ..., name: _Optional[str] = ..., rank: _Optional[int] = ..., distance: _Optional[float] = ..., confidence: _Optional[float] = ..., same_dog: bool = ..., photos: _Optional[_Iterable[_Union[PhotoMatch, _Mapping]]] = ..., score: _Optional[float] = ...) -> None: ...

class DogPhoto(_message.Message):
    __slots__ = ["added_unix_seconds", "bytes", "height", "name", "photo_id", "width"]
    ADDED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    added_unix_seconds: int
    bytes: int
    height: int
    name: str
    photo_id: str
    width: int
    def __init__(self, photo_id: _Optional[str] = ..., name: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., bytes: _Optional[int] = ..., added_unix_seconds: _Optional[int] = ...) -> None: ...

class EnrollRequest(_message.Message):
    __slots__ = ["dog_id", "name", "notes", "photos"]
    DOG_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    dog_id: str
    name: str
    notes: str
    photos: _containers.RepeatedCompositeFieldContainer[_embedding_pb2.Photo]
    def __init__(self, dog_id: _Optional[str] = ..., name: _Optional[str] = ..., notes: _Optional[str] = ..., photos: _Optional[_Iterable[_Union[_embedding_pb2.Photo, _Mapping]]] = ...) -> None: ...

class GetDogRequest(_message.Message):
    __slots__ = ["dog_id"]
    DOG_ID_FIELD_NUMBER: _ClassVar[int]
    dog_id: str
    def __init__(self, dog_id: _Optional[str] = ...) -> None: ...

class GetModelStatusRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListDogsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDogsResponse(_message.Message):
    __slots__ = ["dogs", "next_page_token", "total_dogs"]
    DOGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DOGS_FIELD_NUMBER: _ClassVar[int]
    dogs: _containers.RepeatedCompositeFieldContainer[Dog]
    next_page_token: str
    total_dogs: int
    def __init__(self, dogs: _Optional[_Iterable[_Union[Dog, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_dogs: _Optional[int] = ...) -> None: ...

class ModelStatus(_message.Message):
    __slots__ = ["dogs", "metrics", "photos", "rollout", "serving_version", "spec", "upgrade"]
    DOGS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    SERVING_VERSION_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    UPGRADE_FIELD_NUMBER: _ClassVar[int]
    dogs: int
    metrics: _model_pb2.EvalMetrics
    photos: int
    rollout: Rollout
    serving_version: str
    spec: _model_pb2.ModelSpec
    upgrade: UpgradeProgress
    def __init__(self, serving_version: _Optional[str] = ..., spec: _Optional[_Union[_model_pb2.ModelSpec, _Mapping]] = ..., metrics: _Optional[_Union[_model_pb2.EvalMetrics, _Mapping]] = ..., dogs: _Optional[int] = ..., photos: _Optional[int] = ..., upgrade: _Optional[_Union[UpgradeProgress, _Mapping]] = ..., rollout: _Optional[_Union[Rollout, _Mapping]] = ...) -> None: ...

class PhotoMatch(_message.Message):
    __slots__ = ["distance", "photo_id"]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    distance: float
    photo_id: str
    def __init__(self, photo_id: _Optional[str] = ..., distance: _Optional[float] = ...) -> None: ...

class RemovePhotoRequest(_message.Message):
    __slots__ = ["dog_id", "photo_id"]
    DOG_ID_FIELD_NUMBER: _ClassVar[int]
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    dog_id: str
    photo_id: str
    def __init__(self, dog_id: _Optional[str] = ..., photo_id: _Optional[str] = ...) -> None: ...

class Rollout(_message.Message):
    __slots__ = ["behind_seconds", "detail", "promoted_version", "state"]
    BEHIND_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    behind_seconds: int
    detail: str
    promoted_version: str
    state: RolloutState
    def __init__(self, promoted_version: _Optional[str] = ..., state: _Optional[_Union[RolloutState, str]] = ..., detail: _Optional[str] = ..., behind_seconds: _Optional[int] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ["k", "photo", "photos_per_dog"]
    K_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_PER_DOG_FIELD_NUMBER: _ClassVar[int]
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    k: int
    photo: _embedding_pb2.Photo
    photos_per_dog: int
    def __init__(self, photo: _Optional[_Union[_embedding_pb2.Photo, _Mapping]] = ..., k: _Optional[int] = ..., photos_per_dog: _Optional[int] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ["answer", "confident", "embed_seconds", "gallery_photos", "match_threshold", "matches", "model_version", "possible_threshold", "search_seconds", "target_fpir", "top_confidence"]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    CONFIDENT_FIELD_NUMBER: _ClassVar[int]
    EMBED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    GALLERY_PHOTOS_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    MATCH_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    POSSIBLE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    SEARCH_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TARGET_FPIR_FIELD_NUMBER: _ClassVar[int]
    TOP_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    answer: SearchAnswer
    confident: bool
    embed_seconds: float
    gallery_photos: int
    match_threshold: float
    matches: _containers.RepeatedCompositeFieldContainer[DogMatch]
    model_version: str
    possible_threshold: float
    search_seconds: float
    target_fpir: float
    top_confidence: float
    def __init__(self, matches: _Optional[_Iterable[_Union[DogMatch, _Mapping]]] = ..., confident: bool = ..., model_version: _Optional[str] = ..., embed_seconds: _Optional[float] = ..., search_seconds: _Optional[float] = ..., answer: _Optional[_Union[SearchAnswer, str]] = ..., top_confidence: _Optional[float] = ..., match_threshold: _Optional[float] = ..., possible_threshold: _Optional[float] = ..., target_fpir: _Optional[float] = ..., gallery_photos: _Optional[int] = ...) -> None: ...

class StartModelUpgradeRequest(_message.Message):
    __slots__ = ["version"]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: str
    def __init__(self, version: _Optional[str] = ...) -> None: ...

class UpgradeProgress(_message.Message):
    __slots__ = ["finished_unix_seconds", "from_version", "photos_done", "photos_total", "started_unix_seconds", "state", "state_reason", "to_version"]
    FINISHED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_DONE_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    STARTED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    finished_unix_seconds: int
    from_version: str
    photos_done: int
    photos_total: int
    started_unix_seconds: int
    state: UpgradeState
    state_reason: str
    to_version: str
    def __init__(self, state: _Optional[_Union[UpgradeState, str]] = ..., state_reason: _Optional[str] = ..., from_version: _Optional[str] = ..., to_version: _Optional[str] = ..., photos_done: _Optional[int] = ..., photos_total: _Optional[int] = ..., started_unix_seconds: _Optional[int] = ..., finished_unix_seconds: _Optional[int] = ...) -> None: ...

class VerifyRequest(_message.Message):
    __slots__ = ["photo_a", "photo_b"]
    PHOTO_A_FIELD_NUMBER: _ClassVar[int]
    PHOTO_B_FIELD_NUMBER: _ClassVar[int]
    photo_a: _embedding_pb2.Photo
    photo_b: _embedding_pb2.Photo
    def __init__(self, photo_a: _Optional[_Union[_embedding_pb2.Photo, _Mapping]] = ..., photo_b: _Optional[_Union[_embedding_pb2.Photo, _Mapping]] = ...) -> None: ...

class VerifyResponse(_message.Message):
    __slots__ = ["confidence", "distance", "model_version", "same_dog", "threshold"]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SAME_DOG_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    confidence: float
    distance: float
    model_version: str
    same_dog: bool
    threshold: float
    def __init__(self, same_dog: bool = ..., confidence: _Optional[float] = ..., distance: _Optional[float] = ..., threshold: _Optional[float] = ..., model_version: _Optional[str] = ...) -> None: ...

class SearchAnswer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class UpgradeState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RolloutState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
