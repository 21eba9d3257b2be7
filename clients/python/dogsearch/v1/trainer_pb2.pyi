from dogsearch.v1 import model_pb2 as _model_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
JOB_STATE_CANCELLED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_INTERRUPTED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_UNSPECIFIED: JobState

class CancelJobRequest(_message.Message):
    __slots__ = ["job_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CheckpointEvent(_message.Message):
    __slots__ = ["checkpoint", "kind"]
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    KIND_PROMOTED: CheckpointEvent.Kind
    KIND_PUBLISHED: CheckpointEvent.Kind
    KIND_UNSPECIFIED: CheckpointEvent.Kind
    checkpoint: CheckpointInfo
    kind: CheckpointEvent.Kind
    def __init__(self, kind: _Optional[_Union[CheckpointEvent.Kind, str]] = ..., checkpoint: _Optional[_Union[CheckpointInfo, _Mapping]] = ...) -> None: ...

class CheckpointInfo(_message.Message):
    __slots__ = ["job_id", "manifest", "promoted", "published_unix_seconds"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    manifest: _model_pb2.CheckpointManifest
    promoted: bool
    published_unix_seconds: int
    def __init__(self, manifest: _Optional[_Union[_model_pb2.CheckpointManifest, _Mapping]] = ..., job_id: _Optional[str] = ..., promoted: bool = ..., published_unix_seconds: _Optional[int] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ["job_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ["auto_promote", "config", "created_unix_seconds", "finished_unix_seconds", "id", "label", "progress", "started_unix_seconds"]
    AUTO_PROMOTE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    STARTED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    auto_promote: bool
    config: _model_pb2.TrainingConfig
    created_unix_seconds: int
    finished_unix_seconds: int
    id: str
    label: str
    progress: JobProgress
    started_unix_seconds: int
    def __init__(self, id: _Optional[str] = ..., label: _Optional[str] = ..., config: _Optional[_Union[_model_pb2.TrainingConfig, _Mapping]] = ..., auto_promote: bool = ..., created_unix_seconds: _Optional[int] = ..., started_unix_seconds: _Optional[int] = ..., finished_unix_seconds: _Optional[int] = ..., progress: _Optional[_Union[JobProgress, _Mapping]] = ...) -> None: ...

class JobProgress(_message.Message):
    __slots__ = ["best_checkpoint_version", "best_validation", "elapsed_seconds", "epoch", "eta_seconds", "job_id", "last_checkpoint_version", "last_step", "photos_per_second", "state", "state_reason", "step", "steps_per_second", "total_steps", "validation"]
    BEST_CHECKPOINT_VERSION_FIELD_NUMBER: _ClassVar[int]
    BEST_VALIDATION_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECKPOINT_VERSION_FIELD_NUMBER: _ClassVar[int]
    LAST_STEP_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    STEPS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    best_checkpoint_version: str
    best_validation: _model_pb2.EvalMetrics
    elapsed_seconds: float
    epoch: int
    eta_seconds: float
    job_id: str
    last_checkpoint_version: str
    last_step: StepStats
    photos_per_second: float
    state: JobState
    state_reason: str
    step: int
    steps_per_second: float
    total_steps: int
    validation: _model_pb2.EvalMetrics
    def __init__(self, job_id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., state_reason: _Optional[str] = ..., epoch: _Optional[int] = ..., step: _Optional[int] = ..., total_steps: _Optional[int] = ..., steps_per_second: _Optional[float] = ..., photos_per_second: _Optional[float] = ..., eta_seconds: _Optional[float] = ..., last_step: _Optional[_Union[StepStats, _Mapping]] = ..., validation: _Optional[_Union[_model_pb2.EvalMetrics, _Mapping]] = ..., best_validation: _Optional[_Union[_model_pb2.EvalMetrics, _Mapping]] = ..., best_checkpoint_version: _Optional[str] = ..., last_checkpoint_version: _Optional[str] = ..., elapsed_seconds: _Optional[float] = ...) -> None: ...

class ListCheckpointsRequest(_message.Message):
    __slots__ = ["job_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ListCheckpointsResponse(_message.Message):
    __slots__ = ["checkpoints", "promoted_version"]
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    checkpoints: _containers.RepeatedCompositeFieldContainer[CheckpointInfo]
    promoted_version: str
    def __init__(self, checkpoints: _Optional[_Iterable[_Union[CheckpointInfo, _Mapping]]] = ..., promoted_version: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ["jobs", "next_page_token"]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PromoteCheckpointRequest(_message.Message):
    __slots__ = ["version"]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: str
    def __init__(self, version: _Optional[str] = ...) -> None: ...

class ResumeJobRequest(_message.Message):
    __slots__ = ["job_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class StartTrainingRequest(_message.Message):
    __slots__ = ["auto_promote", "config", "label"]
    AUTO_PROMOTE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    auto_promote: bool
    config: _model_pb2.TrainingConfig
    label: str
    def __init__(self, config: _Optional[_Union[_model_pb2.TrainingConfig, _Mapping]] = ..., label: _Optional[str] = ..., auto_promote: bool = ...) -> None: ...

class StepStats(_message.Message):
    __slots__ = ["active_triplet_fraction", "learning_rate", "loss", "mean_negative_distance", "mean_positive_distance"]
    ACTIVE_TRIPLET_FRACTION_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    MEAN_NEGATIVE_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    MEAN_POSITIVE_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    active_triplet_fraction: float
    learning_rate: float
    loss: float
    mean_negative_distance: float
    mean_positive_distance: float
    def __init__(self, loss: _Optional[float] = ..., active_triplet_fraction: _Optional[float] = ..., mean_positive_distance: _Optional[float] = ..., mean_negative_distance: _Optional[float] = ..., learning_rate: _Optional[float] = ...) -> None: ...

class WatchCheckpointsRequest(_message.Message):
    __slots__ = ["after_unix_seconds"]
    AFTER_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    after_unix_seconds: int
    def __init__(self, after_unix_seconds: _Optional[int] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ["job_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
