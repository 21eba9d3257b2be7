from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
LOSS_KIND_ARCFACE: LossKind
LOSS_KIND_COSFACE: LossKind
LOSS_KIND_TRIPLET: LossKind
LOSS_KIND_UNSPECIFIED: LossKind
MINING_STRATEGY_BATCH_ALL: MiningStrategy
MINING_STRATEGY_BATCH_HARD: MiningStrategy
MINING_STRATEGY_SEMI_HARD: MiningStrategy
MINING_STRATEGY_UNSPECIFIED: MiningStrategy
OPTIMIZER_ADAM: Optimizer
OPTIMIZER_SGD: Optimizer
OPTIMIZER_UNSPECIFIED: Optimizer
SERVING_PRECISION_BFLOAT16: ServingPrecision
SERVING_PRECISION_FLOAT32: ServingPrecision
SERVING_PRECISION_UNSPECIFIED: ServingPrecision

class CheckpointManifest(_message.Message):
    __slots__ = ["created_unix_seconds", "dataset_fingerprint", "epoch", "format", "format_version", "metrics", "model", "notes", "parent_version", "score_norm", "step", "training", "version", "weights_bytes", "weights_file", "weights_sha256"]
    CREATED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DATASET_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_VERSION_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    PARENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    SCORE_NORM_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TRAINING_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_BYTES_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FILE_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_SHA256_FIELD_NUMBER: _ClassVar[int]
    created_unix_seconds: int
    dataset_fingerprint: str
    epoch: int
    format: str
    format_version: int
    metrics: EvalMetrics
    model: ModelSpec
    notes: str
    parent_version: str
    score_norm: ScoreNormalisation
    step: int
    training: TrainingConfig
    version: str
    weights_bytes: int
    weights_file: str
    weights_sha256: str
    def __init__(self, format: _Optional[str] = ..., format_version: _Optional[int] = ..., version: _Optional[str] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., training: _Optional[_Union[TrainingConfig, _Mapping]] = ..., dataset_fingerprint: _Optional[str] = ..., metrics: _Optional[_Union[EvalMetrics, _Mapping]] = ..., parent_version: _Optional[str] = ..., weights_file: _Optional[str] = ..., weights_sha256: _Optional[str] = ..., weights_bytes: _Optional[int] = ..., created_unix_seconds: _Optional[int] = ..., epoch: _Optional[int] = ..., step: _Optional[int] = ..., notes: _Optional[str] = ..., score_norm: _Optional[_Union[ScoreNormalisation, _Mapping]] = ...) -> None: ...

class EvalMetrics(_message.Message):
    __slots__ = ["confidence_center", "confidence_scale", "dir_at_fpir_1e1", "dir_at_fpir_1e2", "dir_at_fpir_5e2", "full_gallery_mrr", "full_gallery_top1", "identification", "identities", "mean_average_precision", "pairs", "photos", "rank1", "rank1_3_enrolled", "recall_at_5", "roc_auc", "tar_at_far_1e3", "threshold", "verification_accuracy", "verification_accuracy_std"]
    CONFIDENCE_CENTER_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_SCALE_FIELD_NUMBER: _ClassVar[int]
    DIR_AT_FPIR_1E1_FIELD_NUMBER: _ClassVar[int]
    DIR_AT_FPIR_1E2_FIELD_NUMBER: _ClassVar[int]
    DIR_AT_FPIR_5E2_FIELD_NUMBER: _ClassVar[int]
    FULL_GALLERY_MRR_FIELD_NUMBER: _ClassVar[int]
    FULL_GALLERY_TOP1_FIELD_NUMBER: _ClassVar[int]
    IDENTIFICATION_FIELD_NUMBER: _ClassVar[int]
    IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    MEAN_AVERAGE_PRECISION_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    RANK1_3_ENROLLED_FIELD_NUMBER: _ClassVar[int]
    RANK1_FIELD_NUMBER: _ClassVar[int]
    RECALL_AT_5_FIELD_NUMBER: _ClassVar[int]
    ROC_AUC_FIELD_NUMBER: _ClassVar[int]
    TAR_AT_FAR_1E3_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_ACCURACY_STD_FIELD_NUMBER: _ClassVar[int]
    confidence_center: float
    confidence_scale: float
    dir_at_fpir_1e1: float
    dir_at_fpir_1e2: float
    dir_at_fpir_5e2: float
    full_gallery_mrr: float
    full_gallery_top1: float
    identification: IdentificationCalibration
    identities: int
    mean_average_precision: float
    pairs: int
    photos: int
    rank1: float
    rank1_3_enrolled: float
    recall_at_5: float
    roc_auc: float
    tar_at_far_1e3: float
    threshold: float
    verification_accuracy: float
    verification_accuracy_std: float
    def __init__(self, verification_accuracy: _Optional[float] = ..., verification_accuracy_std: _Optional[float] = ..., roc_auc: _Optional[float] = ..., tar_at_far_1e3: _Optional[float] = ..., rank1: _Optional[float] = ..., recall_at_5: _Optional[float] = ..., mean_average_precision: _Optional[float] = ..., threshold: _Optional[float] = ..., identities: _Optional[int] = ..., photos: _Optional[int] = ..., pairs: _Optional[int] = ..., confidence_center: _Optional[float] = ..., confidence_scale: _Optional[float] = ..., full_gallery_top1: _Optional[float] = ..., full_gallery_mrr: _Optional[float] = ..., rank1_3_enrolled: _Optional[float] = ..., dir_at_fpir_1e2: _Optional[float] = ..., dir_at_fpir_5e2: _Optional[float] = ..., dir_at_fpir_1e1: _Optional[float] = ..., identification: _Optional[_Union[IdentificationCalibration, _Mapping]] = ...) -> None: ...

class IdentificationCalibration(_message.Message):
    __slots__ = ["bias", "confidence_ece", "fmr_distance", "fmr_fraction", "fpir_weight", "margin_weight", "pairs", "photos", "tail_intercept", "tail_slope"]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_ECE_FIELD_NUMBER: _ClassVar[int]
    FMR_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    FMR_FRACTION_FIELD_NUMBER: _ClassVar[int]
    FPIR_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    MARGIN_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_FIELD_NUMBER: _ClassVar[int]
    TAIL_INTERCEPT_FIELD_NUMBER: _ClassVar[int]
    TAIL_SLOPE_FIELD_NUMBER: _ClassVar[int]
    bias: float
    confidence_ece: float
    fmr_distance: _containers.RepeatedScalarFieldContainer[float]
    fmr_fraction: _containers.RepeatedScalarFieldContainer[float]
    fpir_weight: float
    margin_weight: float
    pairs: int
    photos: int
    tail_intercept: float
    tail_slope: float
    def __init__(self, fmr_fraction: _Optional[_Iterable[float]] = ..., fmr_distance: _Optional[_Iterable[float]] = ..., tail_intercept: _Optional[float] = ..., tail_slope: _Optional[float] = ..., bias: _Optional[float] = ..., fpir_weight: _Optional[float] = ..., margin_weight: _Optional[float] = ..., confidence_ece: _Optional[float] = ..., photos: _Optional[int] = ..., pairs: _Optional[int] = ...) -> None: ...

class InputSpec(_message.Message):
    __slots__ = ["height", "mean", "std", "width"]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STD_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    height: int
    mean: _containers.RepeatedScalarFieldContainer[float]
    std: _containers.RepeatedScalarFieldContainer[float]
    width: int
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., mean: _Optional[_Iterable[float]] = ..., std: _Optional[_Iterable[float]] = ...) -> None: ...

class ModelSpec(_message.Message):
    __slots__ = ["architecture", "blocks_per_stage", "dropout", "embedding_batchnorm", "embedding_dim", "flip_average", "input", "member_weights", "members", "serving_precision", "stage_widths", "test_time_four_views", "test_time_zoom"]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_PER_STAGE_FIELD_NUMBER: _ClassVar[int]
    DROPOUT_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_BATCHNORM_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_DIM_FIELD_NUMBER: _ClassVar[int]
    FLIP_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    MEMBER_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    SERVING_PRECISION_FIELD_NUMBER: _ClassVar[int]
    STAGE_WIDTHS_FIELD_NUMBER: _ClassVar[int]
    TEST_TIME_FOUR_VIEWS_FIELD_NUMBER: _ClassVar[int]
    TEST_TIME_ZOOM_FIELD_NUMBER: _ClassVar[int]
    architecture: str
    blocks_per_stage: int
    dropout: float
    embedding_batchnorm: bool
    embedding_dim: int
    flip_average: bool
    input: InputSpec
    member_weights: _containers.RepeatedScalarFieldContainer[float]
    members: _containers.RepeatedCompositeFieldContainer[ModelSpec]
    serving_precision: ServingPrecision
    stage_widths: _containers.RepeatedScalarFieldContainer[int]
    test_time_four_views: bool
    test_time_zoom: float
    def __init__(self, architecture: _Optional[str] = ..., input: _Optional[_Union[InputSpec, _Mapping]] = ..., embedding_dim: _Optional[int] = ..., dropout: _Optional[float] = ..., stage_widths: _Optional[_Iterable[int]] = ..., blocks_per_stage: _Optional[int] = ..., embedding_batchnorm: bool = ..., flip_average: bool = ..., members: _Optional[_Iterable[_Union[ModelSpec, _Mapping]]] = ..., member_weights: _Optional[_Iterable[float]] = ..., serving_precision: _Optional[_Union[ServingPrecision, str]] = ..., test_time_zoom: _Optional[float] = ..., test_time_four_views: bool = ...) -> None: ...

class ScoreNormalisation(_message.Message):
    __slots__ = ["cohort_bytes", "cohort_file", "cohort_sha256"]
    COHORT_BYTES_FIELD_NUMBER: _ClassVar[int]
    COHORT_FILE_FIELD_NUMBER: _ClassVar[int]
    COHORT_SHA256_FIELD_NUMBER: _ClassVar[int]
    cohort_bytes: int
    cohort_file: str
    cohort_sha256: str
    def __init__(self, cohort_file: _Optional[str] = ..., cohort_sha256: _Optional[str] = ..., cohort_bytes: _Optional[int] = ...) -> None: ...

class TrainingConfig(_message.Message):
    __slots__ = ["cohort_k", "dataset", "distill_weight", "ema_decay", "epochs", "gradient_clip_norm", "head_from_centroids", "head_margin", "head_scale", "head_subcenters", "identities_per_batch", "learning_rate", "loss", "margin", "mining", "model", "optimizer", "parent_version", "photos_per_identity", "seed", "soft_margin", "teacher_version", "threads", "time_budget_seconds", "triplet_weight", "trunk_lr_scale", "validation_fraction", "warmup_steps", "weight_decay"]
    COHORT_K_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    DISTILL_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    EMA_DECAY_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_CLIP_NORM_FIELD_NUMBER: _ClassVar[int]
    HEAD_FROM_CENTROIDS_FIELD_NUMBER: _ClassVar[int]
    HEAD_MARGIN_FIELD_NUMBER: _ClassVar[int]
    HEAD_SCALE_FIELD_NUMBER: _ClassVar[int]
    HEAD_SUBCENTERS_FIELD_NUMBER: _ClassVar[int]
    IDENTITIES_PER_BATCH_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    MARGIN_FIELD_NUMBER: _ClassVar[int]
    MINING_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    PARENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PHOTOS_PER_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SOFT_MARGIN_FIELD_NUMBER: _ClassVar[int]
    TEACHER_VERSION_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    TIME_BUDGET_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TRIPLET_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    TRUNK_LR_SCALE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FRACTION_FIELD_NUMBER: _ClassVar[int]
    WARMUP_STEPS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_DECAY_FIELD_NUMBER: _ClassVar[int]
    cohort_k: int
    dataset: str
    distill_weight: float
    ema_decay: float
    epochs: int
    gradient_clip_norm: float
    head_from_centroids: bool
    head_margin: float
    head_scale: float
    head_subcenters: int
    identities_per_batch: int
    learning_rate: float
    loss: LossKind
    margin: float
    mining: MiningStrategy
    model: ModelSpec
    optimizer: Optimizer
    parent_version: str
    photos_per_identity: int
    seed: int
    soft_margin: bool
    teacher_version: str
    threads: int
    time_budget_seconds: int
    triplet_weight: float
    trunk_lr_scale: float
    validation_fraction: float
    warmup_steps: int
    weight_decay: float
    def __init__(self, dataset: _Optional[str] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., mining: _Optional[_Union[MiningStrategy, str]] = ..., margin: _Optional[float] = ..., soft_margin: bool = ..., identities_per_batch: _Optional[int] = ..., photos_per_identity: _Optional[int] = ..., epochs: _Optional[int] = ..., time_budget_seconds: _Optional[int] = ..., optimizer: _Optional[_Union[Optimizer, str]] = ..., learning_rate: _Optional[float] = ..., weight_decay: _Optional[float] = ..., warmup_steps: _Optional[int] = ..., gradient_clip_norm: _Optional[float] = ..., validation_fraction: _Optional[float] = ..., seed: _Optional[int] = ..., parent_version: _Optional[str] = ..., threads: _Optional[int] = ..., loss: _Optional[_Union[LossKind, str]] = ..., head_scale: _Optional[float] = ..., head_margin: _Optional[float] = ..., head_subcenters: _Optional[int] = ..., triplet_weight: _Optional[float] = ..., trunk_lr_scale: _Optional[float] = ..., ema_decay: _Optional[float] = ..., head_from_centroids: bool = ..., cohort_k: _Optional[int] = ..., teacher_version: _Optional[str] = ..., distill_weight: _Optional[float] = ...) -> None: ...

class ServingPrecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class MiningStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class LossKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Optimizer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
